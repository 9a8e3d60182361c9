# analyzer_batch: evaluation on the synthetic marketplace and the Spark benchmark.
.PHONY: eval-analyzer bench-analyzer

eval-analyzer: setup ## purity / NMI / sentiment accuracy of analyzer_batch on synthetic truth (ARGS="k_selection=spark")
	$(PY) -m trend_dev.benchmarks.analyzer_eval $(ARGS)

bench-analyzer: setup ## analyzer_batch at 10k, 100k and 1M sentences vs scikit-learn (ratios, peak memory); LSH pruning and recall at 10k products
	$(PY) -m trend_dev.benchmarks.run analyzer_bench
