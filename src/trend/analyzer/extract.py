"""Reading a dataset's input: per-product counts in SQL, then partitioned JDBC reads into Spark.

The products are checked in SQL (``summarise_input``: counts from the indexes, no embedding is
read); the embeddings are checked in Spark while they are read and decoded (``decode_embeddings``
marks each row's problem, ``check_embeddings`` counts them in the pass that fills the cache), so
MariaDB reads every sentence row once. Product ids come from ``parse_product_ids`` (validated
ints), so they are the only values formatted into the JDBC subqueries; names go through
quote_identifier; the model name is a Spark literal, never SQL text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
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


def summarise_input(av_conn, product_ids: list[int]) -> InputSummary:
    """Per-product counts in one query (index lookups only: no sentence row is read); products
    without review sentences are excluded with the reason."""
    marks = ", ".join(["%s"] * len(product_ids))
    rows = fetch_all(
        av_conn,
        f"""SELECT p.id AS product_id, p.mall_product_id, COUNT(DISTINCT r.id) AS reviews, COUNT(s.id) AS sentences,
                   MIN(s.id) AS min_id, MAX(s.id) AS max_id
            FROM products p LEFT JOIN reviews r ON r.product_id = p.id
            LEFT JOIN review_sentences s ON s.review_id = r.id
            WHERE p.id IN ({marks}) GROUP BY p.id""",
        product_ids,
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


def check_input(summary: InputSummary, dataset_id: int) -> None:
    """Raise 1002 (empty dataset) when no product is left to analyse."""
    if not summary.product_ids:
        reasons = "; ".join(f"{e.product_id}: {e.reason}" for e in summary.excluded[:20])
        raise AnalysisError(
            ErrorCode.EMPTY_DATASET,
            f"none of the {len(summary.excluded)} products has review sentences ({reasons})",
            dataset_id,
        )


def validate_input(av_conn, dataset_id: int, product_ids: list[int]) -> InputSummary:
    """summarise_input + check_input, without recording exclusions (benchmarks, checks); the
    embeddings are checked as the job reads them (``check_embeddings``)."""
    summary = summarise_input(av_conn, product_ids)
    check_input(summary, dataset_id)
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
    """Sentences with their raw embedding, read in id ranges by ``jdbc_partitions`` connections at
    most, and no more than the session's task slots (the partitions of the cached vectors: K-means
    runs all its passes in one barrier stage when they fit the slots, see ``clustering.fit_centroids``)."""
    query = (
        f"(SELECT s.id AS sentence_id, s.review_id, r.product_id, s.sentence AS text, s.embedding, s.embedding_model "
        f"FROM review_sentences s JOIN reviews r ON r.id = s.review_id "
        f"WHERE r.product_id IN ({_in_list(summary.product_ids)})) AS s"
    )
    slots = spark.sparkContext.defaultParallelism
    partitions = max(1, min(config.jdbc_partitions, slots, summary.sentence_count // 500 + 1))
    return (
        _reader(spark, config, config.av_db)
        .option("dbtable", query)
        .option("partitionColumn", "sentence_id")
        .option("lowerBound", str(summary.min_sentence_id))
        .option("upperBound", str(summary.max_sentence_id + 1))
        .option("numPartitions", str(partitions))
        .load()
    )


# decode_embeddings' ``embedding_problem`` per row
FINE, NO_EMBEDDING, WRONG_EMBEDDING = 0, 1, 2


def decode_embeddings(sentences: DataFrame, dim: int, model: str | None = None) -> DataFrame:
    """Blob column ``embedding`` → ``features``, the same float32 blob L2-normalised, and
    ``embedding_problem``: FINE, NO_EMBEDDING (NULL) or WRONG_EMBEDDING (not 4 · dim bytes, or,
    with ``model`` and an ``embedding_model`` column, another model's); ``features`` is NULL
    unless FINE.

    float32 blobs are what the embeddings are stored as and what the job caches (see
    ``trend.analyzer.vectors``). An Arrow UDF: a batch's blobs are one contiguous buffer, read as an
    (n, dim) matrix and written back as one, without a per-row Python object.
    """

    def decode(blobs: pa.Array) -> pa.Array:
        lengths = pc.fill_null(pc.binary_length(blobs), 0).to_numpy()
        if not blobs.null_count and (lengths == 4 * dim).all():
            return to_blobs(unit_rows(blob_matrix(blobs, dim)))
        # a batch with a problem (the job stops on it): the fine rows decoded one by one
        return pa.array(
            [
                None
                if b is None or len(b) != 4 * dim
                else to_blobs(unit_rows(np.frombuffer(b, "<f4")[None]))[0].as_py()
                for b in blobs.to_pylist()
            ],
            pa.binary(),
        )

    decode_udf = F.arrow_udf(decode, BinaryType())  # type: ignore[call-overload]
    blob = F.col("embedding")
    wrong = F.length(blob) != 4 * dim
    if model is not None and "embedding_model" in sentences.columns:
        wrong = wrong | ~F.col("embedding_model").eqNullSafe(F.lit(model))
    problem = F.when(blob.isNull(), NO_EMBEDDING).when(wrong, WRONG_EMBEDDING).otherwise(FINE)
    decoded = sentences.withColumn("embedding_problem", problem)
    features = F.when(F.col("embedding_problem") == FINE, decode_udf(blob))
    return decoded.withColumn("features", features).drop("embedding", "embedding_model")


def check_embeddings(sentences: DataFrame, dataset_id: int, config: AnalyzerConfig) -> int:
    """Count ``decode_embeddings``' problems (as the job's first action on the cached frame, this
    pass also fills the cache); raise 1004 / 1005 with the counts, else return the sentence count."""
    counts = {
        int(r["embedding_problem"]): int(r["n"])
        for r in sentences.groupBy("embedding_problem").agg(F.count("*").alias("n")).collect()
    }
    total = sum(counts.values())
    if counts.get(NO_EMBEDDING):
        raise AnalysisError(
            ErrorCode.MISSING_EMBEDDINGS, f"{counts[NO_EMBEDDING]} of {total} sentences have no embedding", dataset_id
        )
    if counts.get(WRONG_EMBEDDING):
        raise AnalysisError(
            ErrorCode.EMBEDDING_DIMENSION_MISMATCH,
            f"{counts[WRONG_EMBEDDING]} of {total} sentences are not "
            f"{config.embedding_dim}-dim {config.embedding_model} embeddings",
            dataset_id,
        )
    return total


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """float32 rows scaled to unit length; all-zero rows stay zero.

    Each norm is a per-row dot product (a batched matmul), bit-identical to ``np.linalg.norm`` of the
    row, so the vectors (and the clusters built on them) are the same as when rows were normalised
    one at a time.
    """
    norms = np.sqrt((matrix[:, None, :] @ matrix[:, :, None])[:, 0, 0])
    norms[norms == 0] = 1.0
    return matrix / norms[:, None]
