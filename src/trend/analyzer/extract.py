"""Reading a dataset's input: validation in SQL, then partitioned JDBC reads into Spark.

Product ids come from ``parse_product_ids`` (validated ints), so they are the
only values formatted into the JDBC subqueries; names go through quote_identifier.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import BinaryType

from trend.analyzer.errors import AnalysisError
from trend.analyzer.settings import AnalyzerConfig
from trend.analyzer.vectors import blob_matrix, to_blobs
from trend.db import fetch_all, transaction
from trend.spark import jdbc_options
from trend.status import ErrorCode

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Exclusion:
    """A product of datasets.settings the analysis leaves out (recorded in dataset_excluded_products)."""

    product_id: int
    mall_product_id: str | None
    reason: str


@dataclass(frozen=True)
class InputSummary:
    product_ids: list[int]  # the products analysed: known, with review sentences
    excluded: list[Exclusion]
    sentence_count: int
    min_sentence_id: int
    max_sentence_id: int
    missing_embeddings: int = 0
    bad_embeddings: int = 0


def summarise_input(av_conn, product_ids: list[int], config: AnalyzerConfig) -> InputSummary:
    """Per-product counts in one query; products without review sentences are excluded with the reason."""
    marks = ", ".join(["%s"] * len(product_ids))
    rows = fetch_all(
        av_conn,
        f"""SELECT p.id AS product_id, p.mall_product_id, COUNT(DISTINCT r.id) AS reviews, COUNT(s.id) AS sentences,
                   SUM(s.embedding IS NULL) AS missing,
                   SUM(s.embedding IS NOT NULL AND (LENGTH(s.embedding) <> %s OR
                       COALESCE(s.embedding_dim, 0) <> %s OR COALESCE(s.embedding_model, '') <> %s)) AS bad_dim,
                   MIN(s.id) AS min_id, MAX(s.id) AS max_id
            FROM products p LEFT JOIN reviews r ON r.product_id = p.id
            LEFT JOIN review_sentences s ON s.review_id = r.id
            WHERE p.id IN ({marks}) GROUP BY p.id""",
        [4 * config.embedding_dim, config.embedding_dim, config.embedding_model, *product_ids],
    )
    found = {int(r["product_id"]): r for r in rows}
    excluded = [_exclusion(p, found.get(p)) for p in product_ids if p not in found or not found[p]["sentences"]]
    kept = [found[p] for p in product_ids if p in found and found[p]["sentences"]]
    return InputSummary(
        [int(r["product_id"]) for r in kept],
        excluded,
        sum(int(r["sentences"]) for r in kept),
        min((int(r["min_id"]) for r in kept), default=0),
        max((int(r["max_id"]) for r in kept), default=0),
        sum(int(r["missing"] or 0) for r in kept),
        sum(int(r["bad_dim"] or 0) for r in kept),
    )


def _exclusion(product_id: int, row: dict | None) -> Exclusion:
    if row is None:
        return Exclusion(product_id, None, "unknown product id (not in analyzer_v2.products)")
    reason = "no reviews" if not row["reviews"] else "reviews have no sentences"
    return Exclusion(product_id, row["mall_product_id"], reason)


def record_exclusions(ds_conn, dataset_id: int, excluded: list[Exclusion]) -> None:
    """Replace the dataset's recorded exclusions (one transaction), and log each."""
    with transaction(ds_conn) as cur:
        cur.execute("DELETE FROM dataset_excluded_products WHERE dataset_id = %s", (dataset_id,))
        cur.executemany(
            "INSERT INTO dataset_excluded_products (dataset_id, product_id, mall_product_id, reason) "
            "VALUES (%s, %s, %s, %s)",
            [(dataset_id, e.product_id, e.mall_product_id, e.reason) for e in excluded],
        )
    for e in excluded:
        log.warning("dataset %s: product %s (%s) left out: %s", dataset_id, e.product_id, e.mall_product_id, e.reason)


def check_input(summary: InputSummary, dataset_id: int, config: AnalyzerConfig) -> None:
    """Raise the matching 1xxx code when what remains cannot be analysed."""
    if not summary.product_ids:
        reasons = "; ".join(f"{e.product_id}: {e.reason}" for e in summary.excluded[:20])
        raise AnalysisError(
            ErrorCode.EMPTY_DATASET,
            f"none of the {len(summary.excluded)} products has review sentences ({reasons})",
            dataset_id,
        )
    if summary.missing_embeddings:
        raise AnalysisError(
            ErrorCode.MISSING_EMBEDDINGS,
            f"{summary.missing_embeddings} of {summary.sentence_count} sentences have no embedding",
            dataset_id,
        )
    if summary.bad_embeddings:
        raise AnalysisError(
            ErrorCode.EMBEDDING_DIMENSION_MISMATCH,
            f"{summary.bad_embeddings} of {summary.sentence_count} sentences are not "
            f"{config.embedding_dim}-dim {config.embedding_model} embeddings",
            dataset_id,
        )


def validate_input(av_conn, dataset_id: int, product_ids: list[int], config: AnalyzerConfig) -> InputSummary:
    """summarise_input + check_input, without recording exclusions (benchmarks, checks)."""
    summary = summarise_input(av_conn, product_ids, config)
    check_input(summary, dataset_id, config)
    return summary


def _reader(spark: SparkSession, config: AnalyzerConfig, database: str):
    mysql = config.mysql
    return spark.read.format("jdbc").options(
        **jdbc_options(mysql.jdbc_url(database), mysql.user, mysql.password), fetchsize="2000"
    )


def _in_list(product_ids: list[int]) -> str:
    return ", ".join(str(int(p)) for p in product_ids)


def read_products(spark: SparkSession, config: AnalyzerConfig, product_ids: list[int]) -> DataFrame:
    query = (
        f"(SELECT id AS product_id, mall_id, COALESCE(mall_product_id, CONCAT('#', id)) AS mall_product_id, "
        f"name, description, category_code, "
        f"brand, CAST(price AS DOUBLE) AS price, CAST(rating AS DOUBLE) AS rating, "
        f"CAST(specifications AS CHAR) AS specifications, url "
        f"FROM products WHERE id IN ({_in_list(product_ids)})) AS p"
    )
    return _reader(spark, config, config.av_db).option("dbtable", query).load()


def read_reviews(spark: SparkSession, config: AnalyzerConfig, product_ids: list[int]) -> DataFrame:
    query = (
        f"(SELECT id AS review_id, product_id, rating FROM reviews WHERE product_id IN ({_in_list(product_ids)})) AS r"
    )
    return _reader(spark, config, config.av_db).option("dbtable", query).load()


def read_sentences(spark: SparkSession, config: AnalyzerConfig, summary: InputSummary) -> DataFrame:
    """Sentences with their raw embedding, read in id ranges by ``jdbc_partitions`` connections."""
    query = (
        f"(SELECT s.id AS sentence_id, s.review_id, r.product_id, s.sentence AS text, s.embedding "
        f"FROM review_sentences s JOIN reviews r ON r.id = s.review_id "
        f"WHERE r.product_id IN ({_in_list(summary.product_ids)})) AS s"
    )
    partitions = max(1, min(config.jdbc_partitions, summary.sentence_count // 500 + 1))
    return (
        _reader(spark, config, config.av_db)
        .option("dbtable", query)
        .option("partitionColumn", "sentence_id")
        .option("lowerBound", str(summary.min_sentence_id))
        .option("upperBound", str(summary.max_sentence_id + 1))
        .option("numPartitions", str(partitions))
        .load()
    )


def decode_embeddings(sentences: DataFrame, dim: int) -> DataFrame:
    """Blob column ``embedding`` → ``features``, the same float32 blob L2-normalised; a wrong
    length fails loudly.

    float32 blobs are what the embeddings are stored as and what the job caches (see
    ``trend.analyzer.vectors``). An Arrow UDF: a batch's blobs are one contiguous buffer, read as an
    (n, dim) matrix and written back as one, without a per-row Python object.
    """

    def decode(blobs: pa.Array) -> pa.Array:
        return to_blobs(unit_rows(blob_matrix(blobs, dim)))

    decode_udf = F.arrow_udf(decode, BinaryType())  # type: ignore[call-overload]
    return sentences.withColumn("features", decode_udf("embedding")).drop("embedding")


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """float32 rows scaled to unit length; all-zero rows stay zero.

    Each norm is a per-row dot product (a batched matmul), bit-identical to ``np.linalg.norm`` of the
    row, so the vectors (and the clusters built on them) are the same as when rows were normalised
    one at a time.
    """
    norms = np.sqrt((matrix[:, None, :] @ matrix[:, :, None])[:, 0, 0])
    norms[norms == 0] = 1.0
    return matrix / norms[:, None]
