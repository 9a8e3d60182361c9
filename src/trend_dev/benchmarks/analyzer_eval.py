"""make eval-analyzer: the analyzer job on the synthetic marketplace with real MiniLM embeddings.

Prints cluster purity and NMI against the known aspects, and sentence sentiment
accuracy against the known polarity. Uses private databases (prefix eval_analyzer_).
"""

from __future__ import annotations

import tempfile
import time

from trend_dev.benchmarks import analyzer_common as common


def main(
    seed: int = 7, products_per_category: int = 6, reviews_per_product: int = 30, overrides: dict | None = None
) -> dict:
    """``overrides``: AnalyzerConfig fields, e.g. from the command line ``merge_threshold=0.8``."""
    common.use_private_databases("eval_analyzer_")
    from trend.analyzer.job import run
    from trend.analyzer.report import print_clusters
    from trend.analyzer.settings import AnalyzerConfig
    from trend.crawl.local_source import MarketplaceDump, crawl_all_reviews
    from trend.db import connect
    from trend_dev import synthetic

    market = synthetic.generate(
        seed=seed, products_per_category=products_per_category, reviews_per_product=reviews_per_product
    )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        stats = crawl_all_reviews(MarketplaceDump.load(market.write_dump(folder)), lambda: connect("analyzer_v2"))
    print(
        f"loaded {len(market.products)} products, {stats.sentences_added} sentences with MiniLM "
        f"embeddings in {time.perf_counter() - started:.1f} s"
    )
    dataset_id = common.create_dataset(sorted(set(stats.product_ids)), "eval")
    spark = common.session("analyzer-eval")
    try:
        result = run(spark, dataset_id, AnalyzerConfig.from_dict(overrides or {}))
    finally:
        spark.stop()
    if not result.ok:
        raise SystemExit(f"analysis failed: [{result.error_code}] {result.error_message}")
    truth = market.truth()
    rows = common.analysed_sentences(dataset_id)
    found = common.scores(rows, lambda r: truth[(r["mall_review_id"], int(r["sentence_index"]))])
    conn = connect("ds_analyzer")
    try:
        print_clusters(conn)
    finally:
        conn.close()
    if overrides:
        print(f"config overrides: {overrides}")
    print(f"k: {result.k} viewpoints ({result.k0} K-means clusters before merging)")
    print(f"job stages (s): {result.timings}")
    print(f"sentences {found['sentences']}, noise share {found['noise_share']:.3f}")
    print(f"cluster purity {found['purity']:.3f} (without noise {found['purity_without_noise']:.3f})")
    print(f"NMI {found['nmi']:.3f}")
    print(f"NMI without noise {found['nmi_without_noise']:.3f}")
    print(f"sentiment accuracy {found['sentiment_accuracy']:.3f} (lexicon, polar sentences)")
    common.drop_private_databases()
    return found


if __name__ == "__main__":
    import json
    import sys

    def _value(raw: str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw  # a bare string

    main(overrides={key: _value(value) for key, _, value in (a.partition("=") for a in sys.argv[1:])})
