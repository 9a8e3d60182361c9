"""The bench's single-node baseline runs on a loaded market (it is only run by `make bench`)."""

from __future__ import annotations

from trend.analyzer.settings import AnalyzerConfig
from trend_dev.benchmarks.analyzer_bench import single_node


def test_single_node_baseline_times_every_analysis_stage(db, market_ids):
    times = single_node(market_ids, AnalyzerConfig(), passes=2)
    assert set(times) == {"extract", "similarity", "clustering", "labelling", "sentiment"}
    assert all(seconds >= 0 for seconds in times.values())
