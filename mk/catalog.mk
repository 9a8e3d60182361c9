# Catalog graph: benchmark and demo on the embedded gremlite store.
.PHONY: bench-catalog demo-catalog test-catalog

bench-catalog: setup ## 10k and 100k-node catalogs: build, full recompute, DynamoDB items, leaf and catalog changes (ARGS=...)
	$(PY) -m trend_dev.benchmarks.catalog_bench $(ARGS)

demo-catalog: setup ## builds a small catalog, changes a setting, prints before/after
	$(PY) -m trend_dev.catalog_demo

test-catalog: setup
	$(PY) -m pytest tests/catalog_graph -q
