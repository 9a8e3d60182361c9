# Catalog graph: benchmark and demo on the embedded gremlite store.
.PHONY: bench-catalog demo-catalog test-catalog

bench-catalog: setup ## full recompute of a 10,000-node tree + incremental change at depth 3
	$(PY) -m trend_dev.benchmarks.catalog_bench

demo-catalog: setup ## builds a small catalog, changes a setting, prints before/after
	$(PY) -m trend_dev.catalog_demo

test-catalog: setup
	$(PY) -m pytest tests/catalog_graph -q
