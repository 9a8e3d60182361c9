"""Product similarities: cosine of product vectors, top-k per product.

A product vector joins the mean of its sentence embeddings with TF-IDF text
features of name + description, each L2-normalised and weighted so that the
cosine of the joined vector is ``(1-w)·cos_reviews + w·cos_text``.

Exact: every partition of products is multiplied against the broadcast matrix
of all products (numpy), keeping the top-k per row. Approximate (above
``similarity_exact_max_products``): bucketed random-projection LSH joins,
then the same top-k.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from pyspark.ml.feature import IDF, BucketedRandomProjectionLSH, HashingTF, RegexTokenizer
from pyspark.ml.functions import array_to_vector, vector_to_array
from pyspark.ml.stat import Summarizer
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DoubleType

from trend.analyzer.settings import AnalyzerConfig

TEXT_FEATURES = 256
PAIR_SCHEMA = "product_id long, similar_product_id long, score double"


def product_vectors(sentences: DataFrame, products: DataFrame, text_weight: float) -> DataFrame:
    """(product_id, vector: array<double>) unit vectors; see the module doc."""
    review_part = sentences.groupBy("product_id").agg(Summarizer.mean(F.col("features")).alias("review_vec"))
    text = products.select("product_id", F.concat_ws(" ", "name", F.coalesce("description", F.lit(""))).alias("text"))
    tokens = RegexTokenizer(inputCol="text", outputCol="tokens", pattern="[^a-z0-9]+").transform(text)
    tf = HashingTF(inputCol="tokens", outputCol="tf", numFeatures=TEXT_FEATURES).transform(tokens)
    tfidf = IDF(inputCol="tf", outputCol="text_vec").fit(tf).transform(tf)
    joined = review_part.join(tfidf.select("product_id", "text_vec"), "product_id")
    w_review, w_text = float(np.sqrt(1 - text_weight)), float(np.sqrt(text_weight))

    @F.pandas_udf(ArrayType(DoubleType()))  # type: ignore[call-overload]  # stubs lack the type-hinted form
    def combine(review: pd.Series, text_vec: pd.Series) -> pd.Series:
        out = []
        for r, t in zip(review, text_vec):
            r, t = np.asarray(r, dtype=np.float64), np.asarray(t, dtype=np.float64)
            r = r / (np.linalg.norm(r) or 1.0) * w_review
            t = t / (np.linalg.norm(t) or 1.0) * w_text
            v = np.concatenate([r, t])
            out.append(v / (np.linalg.norm(v) or 1.0))
        return pd.Series(out)

    return joined.select(
        "product_id", combine(vector_to_array(F.col("review_vec")), vector_to_array(F.col("text_vec"))).alias("vector")
    )


def _top_k(pairs: DataFrame, k: int) -> DataFrame:
    order = Window.partitionBy("product_id").orderBy(F.desc("score"), F.asc("similar_product_id"))
    return pairs.withColumn("rank_no", F.row_number().over(order)).where(F.col("rank_no") <= k)


def exact_top_k(vectors: DataFrame, k: int) -> DataFrame:
    """All-pairs cosine against a broadcast matrix; keeps each product's k best partners."""
    rows = vectors.orderBy("product_id").collect()
    ids = np.asarray([r["product_id"] for r in rows], dtype=np.int64)
    matrix = np.asarray([r["vector"] for r in rows], dtype=np.float32)
    shared = vectors.sparkSession.sparkContext.broadcast((ids, matrix))
    keep = min(k, max(len(ids) - 1, 0))

    def score_partition(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        all_ids, all_vectors = shared.value
        for batch in batches:
            if batch.empty or keep == 0:
                continue
            mine = np.stack(batch["vector"].to_numpy()).astype(np.float32)
            scores = mine @ all_vectors.T
            scores[batch["product_id"].to_numpy()[:, None] == all_ids[None, :]] = -np.inf
            best = np.argpartition(-scores, keep - 1, axis=1)[:, :keep]
            rows_idx = np.repeat(np.arange(len(batch)), keep)
            yield pd.DataFrame(
                {
                    "product_id": np.repeat(batch["product_id"].to_numpy(), keep),
                    "similar_product_id": all_ids[best.ravel()],
                    "score": scores[rows_idx, best.ravel()].astype(np.float64),
                }
            )

    pairs = vectors.mapInPandas(score_partition, PAIR_SCHEMA)
    return _top_k(pairs, k).withColumn("method", F.lit("exact"))


def lsh_top_k(vectors: DataFrame, k: int, config: AnalyzerConfig) -> DataFrame:
    """Approximate: random-projection LSH self-join within ``lsh_max_distance``, then top-k."""
    data = vectors.select("product_id", array_to_vector(F.col("vector")).alias("v"))
    model = BucketedRandomProjectionLSH(
        inputCol="v",
        outputCol="hashes",
        seed=config.seed,
        bucketLength=config.lsh_bucket_length,
        numHashTables=config.lsh_hash_tables,
    ).fit(data)
    joined = model.approxSimilarityJoin(data, data, config.lsh_max_distance, distCol="distance")
    pairs = joined.select(
        F.col("datasetA.product_id").alias("product_id"),
        F.col("datasetB.product_id").alias("similar_product_id"),
        (1 - F.col("distance") ** 2 / 2).alias("score"),
    ).where(F.col("product_id") != F.col("similar_product_id"))
    return _top_k(pairs, k).withColumn("method", F.lit("lsh"))


def choose_method(product_count: int, config: AnalyzerConfig) -> str:
    if config.similarity_method != "auto":
        return config.similarity_method
    return "exact" if product_count <= config.similarity_exact_max_products else "lsh"


def similarities(vectors: DataFrame, product_count: int, config: AnalyzerConfig) -> DataFrame:
    """(product_id, similar_product_id, score, rank_no, method)."""
    if choose_method(product_count, config) == "exact":
        return exact_top_k(vectors, config.similarity_top_k)
    return lsh_top_k(vectors, config.similarity_top_k, config)


def recall(approximate: DataFrame, exact: DataFrame) -> float:
    """Share of the exact top-k pairs that the approximate method also found."""
    truth = exact.select("product_id", "similar_product_id")
    found = truth.join(
        approximate.select("product_id", "similar_product_id"), ["product_id", "similar_product_id"]
    ).count()
    total = truth.count()
    return found / total if total else 1.0
