"""Atomic publish: stage a run's rows through JDBC, then swap them in with one transaction.

A failure before the final COMMIT leaves the dataset's rows in the 7 result
tables exactly as they were; staging rows of the run are removed either way.
"""

from __future__ import annotations

import logging

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from trend.analyzer import lifecycle
from trend.analyzer.errors import InjectedFailure
from trend.analyzer.settings import AnalyzerConfig
from trend.config import quote_identifier
from trend.db import transaction
from trend.spark import jdbc_options

log = logging.getLogger(__name__)

# staging table -> its columns (after run_id); order is the publish order.
STAGED = {
    "products": [
        "dataset_id",
        "crawler_product_id",
        "mall_id",
        "mall_product_id",
        "name",
        "processed_name",
        "review_count",
        "sentence_count",
        "average_rating",
        "sentiment_score",
    ],
    # product_id: analyzer_v2.products.id here; publish turns it into ds_analyzer.products.id
    "product_details": ["dataset_id", "product_id", "specifications", "metadata"],
    "product_similarities": ["dataset_id", "product_id", "similar_product_id", "similarity_score", "rank_no", "method"],
    "ai_viewpoints": [
        "dataset_id",
        "cluster_id",
        "name",
        "description",
        "keywords",
        "sentence_count",
        "label_source",
        "centroid",
    ],
    "reviews": ["dataset_id", "review_id", "product_id", "rating", "sentiment_overall", "sentiment_score"],
    "review_sentences": [
        "dataset_id",
        "sentence_id",
        "review_id",
        "product_id",
        "cluster_id",
        "is_noise",
        "sentiment",
        "sentiment_score",
        "map_x",
        "map_y",
    ],
}
# staged tables copied as they are; the others are joined to the dataset's products while published
_COPIED = ("products", "ai_viewpoints", "reviews")
RESULT_TABLES = (
    "products",
    "product_details",
    "product_similarities",
    "ai_viewpoints",
    "review_sentence_aivp",
    "reviews",
    "review_sentences",
)


# products first (the others join them), ai_viewpoints before review_sentences, the mapping last
PUBLISH_ORDER = (
    "products",
    "product_details",
    "product_similarities",
    "ai_viewpoints",
    "reviews",
    "review_sentences",
    "review_sentence_aivp",
)


def _check_fail_point(config: AnalyzerConfig, point: str) -> None:
    if config.fail_point == point:
        raise InjectedFailure(f"injected failure at {point}")


def stage(conn, dataset_id: int, frames: dict[str, DataFrame], run_id: str, config: AnalyzerConfig) -> None:
    """Append each frame (columns as in STAGED) to stg_<table> under ``run_id``; the run must own the dataset."""
    with transaction(conn) as cur:
        lifecycle.ensure_owner(cur, dataset_id, run_id)
    mysql = config.mysql
    options = jdbc_options(mysql.jdbc_url(config.ds_db), mysql.user, mysql.password)
    for name, columns in STAGED.items():
        frame = frames[name].select(F.lit(run_id).alias("run_id"), *columns)
        (
            frame.write.format("jdbc")
            .options(**options)
            .option("dbtable", f"stg_{name}")
            .option("batchsize", "5000")
            .option("isolationLevel", "READ_COMMITTED")
            .mode("append")
            .save()
        )
        _check_fail_point(config, f"staging:{name}")


def _insert_from_staging(cur, name: str, run_id: str) -> None:
    cols = ", ".join(quote_identifier(c) for c in STAGED[name])
    cur.execute(
        f"INSERT INTO {quote_identifier(name)} ({cols}) SELECT {cols} "
        f"FROM {quote_identifier('stg_' + name)} WHERE run_id = %s",
        (run_id,),
    )


def _insert_joined(cur, name: str, run_id: str, dataset_id: int) -> int:
    """Tables whose published rows need the dataset's products (ids, mall product ids)."""
    statements = {
        "product_details": """INSERT INTO product_details (dataset_id, product_id, specifications, metadata)
            SELECT s.dataset_id, p.id, s.specifications, s.metadata FROM stg_product_details s
            JOIN products p ON p.dataset_id = s.dataset_id AND p.crawler_product_id = s.product_id
            WHERE s.run_id = %s""",
        "product_similarities": """INSERT INTO product_similarities (dataset_id, product_id, similar_product_id,
                mall_product_id_a, mall_product_id_b, similarity_score, rank_no, method)
            SELECT s.dataset_id, s.product_id, s.similar_product_id, a.mall_product_id, b.mall_product_id,
                   s.similarity_score, s.rank_no, s.method FROM stg_product_similarities s
            JOIN products a ON a.dataset_id = s.dataset_id AND a.crawler_product_id = s.product_id
            JOIN products b ON b.dataset_id = s.dataset_id AND b.crawler_product_id = s.similar_product_id
            WHERE s.run_id = %s""",
        "review_sentences": """INSERT INTO review_sentences (dataset_id, sentence_id, review_id, product_id,
                cluster_id, is_noise, ai_viewpoint_id, sentiment, sentiment_score, map_x, map_y)
            SELECT s.dataset_id, s.sentence_id, s.review_id, s.product_id, s.cluster_id, s.is_noise,
                   IF(s.is_noise, NULL, v.id), s.sentiment, s.sentiment_score, s.map_x, s.map_y
            FROM stg_review_sentences s
            LEFT JOIN ai_viewpoints v ON v.dataset_id = s.dataset_id AND v.cluster_id = s.cluster_id
            WHERE s.run_id = %s""",
        "review_sentence_aivp": """INSERT INTO review_sentence_aivp (dataset_id, sentence_id, product_id,
                mall_product_id, ai_viewpoint_id)
            SELECT s.dataset_id, s.sentence_id, s.product_id, p.mall_product_id, s.ai_viewpoint_id
            FROM review_sentences s
            JOIN products p ON p.dataset_id = s.dataset_id AND p.crawler_product_id = s.product_id
            WHERE s.dataset_id = %s AND s.ai_viewpoint_id IS NOT NULL""",
    }
    cur.execute(statements[name], (dataset_id if name == "review_sentence_aivp" else run_id,))
    return int(cur.rowcount)


def publish(conn, dataset_id: int, run_id: str, config: AnalyzerConfig) -> dict[str, int]:
    """One transaction: delete the dataset's rows, insert the staged ones, status → 3 (owning run only)."""
    counts: dict[str, int] = {}
    conn.commit()  # end any open snapshot: the transaction below must see the staged rows
    with transaction(conn) as cur:  # commits at the end, rolls back on any error
        lifecycle.ensure_owner(cur, dataset_id, run_id)  # locks the row; another run's claim stops us here
        for name in RESULT_TABLES:
            cur.execute(f"DELETE FROM {quote_identifier(name)} WHERE dataset_id = %s", (dataset_id,))
        for name in PUBLISH_ORDER:
            if name in _COPIED:
                _insert_from_staging(cur, name, run_id)
                counts[name] = cur.rowcount
            else:
                counts[name] = _insert_joined(cur, name, run_id, dataset_id)
            _check_fail_point(config, f"publish:{name}")
        lifecycle.complete(cur, dataset_id, run_id)
    return counts


def clean_staging(conn, run_id: str | None = None, dataset_id: int | None = None) -> None:
    """Delete staging rows of a run (or of every earlier run of a dataset)."""
    cur = conn.cursor()
    for name in STAGED:
        table = quote_identifier("stg_" + name)
        if run_id is not None:
            cur.execute(f"DELETE FROM {table} WHERE run_id = %s", (run_id,))
        if dataset_id is not None:
            cur.execute(f"DELETE FROM {table} WHERE dataset_id = %s", (dataset_id,))
    conn.commit()
