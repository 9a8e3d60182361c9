"""Reading a dataset's input: validation in SQL, then partitioned JDBC reads into Spark.

Product ids come from ``parse_product_ids`` (validated ints), so they are the
only values formatted into the JDBC subqueries; names go through quote_identifier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyspark.ml.functions import array_to_vector
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, FloatType

from trend.analyzer.errors import AnalysisError
from trend.analyzer.settings import AnalyzerConfig
from trend.db import fetch_all
from trend.spark import jdbc_options
from trend.status import ErrorCode


@dataclass(frozen=True)
class InputSummary:
    product_ids: list[int]
    sentence_count: int
    min_sentence_id: int
    max_sentence_id: int


def validate_input(av_conn, dataset_id: int, product_ids: list[int], config: AnalyzerConfig) -> InputSummary:
    """Per-product counts in one query; raises the matching 1xxx code for bad input."""
    marks = ", ".join(["%s"] * len(product_ids))
    rows = fetch_all(
        av_conn,
        f"""SELECT p.id AS product_id, COUNT(s.id) AS sentences,
                   SUM(s.embedding IS NULL) AS missing,
                   SUM(s.embedding IS NOT NULL AND (LENGTH(s.embedding) <> %s OR
                       COALESCE(s.embedding_dim, 0) <> %s OR COALESCE(s.embedding_model, '') <> %s)) AS bad_dim,
                   MIN(s.id) AS min_id, MAX(s.id) AS max_id
            FROM products p LEFT JOIN review_sentences s ON s.product_id = p.id
            WHERE p.id IN ({marks}) GROUP BY p.id""",
        [4 * config.embedding_dim, config.embedding_dim, config.embedding_model, *product_ids],
    )
    found = {int(r["product_id"]): r for r in rows}
    total = sum(int(r["sentences"]) for r in rows)
    if total == 0:
        raise AnalysisError(
            ErrorCode.EMPTY_DATASET, f"none of the {len(product_ids)} products has review sentences", dataset_id
        )
    lacking = [p for p in product_ids if p not in found or int(found[p]["sentences"]) == 0]
    if lacking:
        raise AnalysisError(
            ErrorCode.PRODUCTS_WITHOUT_REVIEWS, f"products unknown or without reviews: {lacking[:20]}", dataset_id
        )
    missing = sum(int(r["missing"] or 0) for r in rows)
    if missing:
        raise AnalysisError(
            ErrorCode.MISSING_EMBEDDINGS, f"{missing} of {total} sentences have no embedding", dataset_id
        )
    bad = sum(int(r["bad_dim"] or 0) for r in rows)
    if bad:
        raise AnalysisError(
            ErrorCode.EMBEDDING_DIMENSION_MISMATCH,
            f"{bad} of {total} sentences are not {config.embedding_dim}-dim {config.embedding_model} embeddings",
            dataset_id,
        )
    return InputSummary(
        product_ids,
        total,
        min(int(r["min_id"]) for r in rows if r["min_id"] is not None),
        max(int(r["max_id"]) for r in rows if r["max_id"] is not None),
    )


def _reader(spark: SparkSession, config: AnalyzerConfig, database: str):
    mysql = config.mysql
    return spark.read.format("jdbc").options(
        **jdbc_options(mysql.jdbc_url(database), mysql.user, mysql.password), fetchsize="2000"
    )


def _in_list(product_ids: list[int]) -> str:
    return ", ".join(str(int(p)) for p in product_ids)


def read_products(spark: SparkSession, config: AnalyzerConfig, product_ids: list[int]) -> DataFrame:
    query = (
        f"(SELECT id AS product_id, mall_id, mall_product_id, name, description, category_code, "
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
        f"(SELECT id AS sentence_id, review_id, product_id, text, embedding "
        f"FROM review_sentences WHERE product_id IN ({_in_list(summary.product_ids)})) AS s"
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
    """Blob column ``embedding`` → L2-normalised ML vector ``features``; a wrong length fails loudly."""

    @F.pandas_udf(ArrayType(FloatType()))  # type: ignore[call-overload]  # stubs lack the type-hinted form
    def decode(blobs: pd.Series) -> pd.Series:
        out = []
        for blob in blobs:
            vector = np.frombuffer(bytes(blob), dtype="<f4")
            if vector.shape[0] != dim:
                raise ValueError(f"embedding has {vector.shape[0]} values, expected {dim}")
            norm = float(np.linalg.norm(vector)) or 1.0
            out.append(vector / norm)
        return pd.Series(out)

    return sentences.withColumn("features", array_to_vector(decode("embedding"))).drop("embedding")
