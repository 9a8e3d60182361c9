"""Stand-ins for what analyzer_batch publishes, for SPVP tests and benchmarks that skip the analysis."""

from __future__ import annotations

from trend.db import table


def publish_sentences(cur, dataset_id: int, products: list[int]) -> int:
    """The dataset's sentences in ds_analyzer.review_sentences (what SPVP reads), no clusters."""
    if not products:
        return 0
    cur.execute(
        f"INSERT INTO {table('ds_analyzer', 'review_sentences')} (dataset_id, sentence_id, review_id, product_id) "
        f"SELECT %s, s.id, s.review_id, r.product_id FROM {table('analyzer_v2', 'review_sentences')} s "
        f"JOIN {table('analyzer_v2', 'reviews')} r ON r.id = s.review_id "
        f"WHERE r.product_id IN ({', '.join(['%s'] * len(products))})",
        (dataset_id, *products),
    )
    return int(cur.rowcount)
