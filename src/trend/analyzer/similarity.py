"""Product similarities: cosine of product vectors, top-k per product.

A product vector joins the mean of its sentence embeddings with TF-IDF text
features of name + description, each L2-normalised and weighted so that the
cosine of the joined vector is ``(1-w)·cos_reviews + w·cos_text``.

Exact (up to ``similarity_exact_max_products``): the products' partial review sums
and text term counts are collected (two small jobs), and the vectors and their
top-k partners are computed on the driver with numpy, blocks of rows against the
whole matrix; ``exact_top_k`` is the same ranking over a DataFrame of vectors,
one partition against a broadcast matrix. Approximate (above
``similarity_exact_max_products``): sign-random-projection LSH with
``lsh_hash_tables`` tables of ``lsh_bits_per_table`` bits; products are compared
(one matrix product per bucket) only with those sharing a bucket in some table,
then the same top-k.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DoubleType

from trend.analyzer import vectors
from trend.analyzer.settings import AnalyzerConfig

TEXT_FEATURES = 256
PAIR_SCHEMA = "product_id long, similar_product_id long, score double"


def _review_sums_partial(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """mapInArrow body: (product_id, vec) rows → one (product_id, float64 sum bytes) row per product here."""
    totals: dict[int, np.ndarray] = {}
    for batch in batches:
        if batch.num_rows == 0:
            continue
        ids = batch.column("product_id").to_numpy(zero_copy_only=False)
        vectors.add_group_sums(totals, ids, vectors.arrow_matrix(batch.column("vec")))
    if totals:
        ordered = sorted(totals)
        yield pa.RecordBatch.from_arrays(
            [pa.array(ordered, pa.int64()), pa.array([totals[k].tobytes() for k in ordered], pa.binary())],
            names=["product_id", "sums"],
        )


def _partial_sums(sentences: DataFrame) -> DataFrame:
    """(product_id, sums): ``_review_sums_partial`` over the sentences' cached float32 arrays."""
    frame = sentences.select(F.col("product_id").cast("long"), vectors.arrow_column(sentences, "features").alias("vec"))
    return frame.mapInArrow(_review_sums_partial, "product_id long, sums binary")


def _add_partials(partials: list[bytes]) -> np.ndarray:
    """A product's review sum from its partition sums; sorted, so the same partials add up to the
    same bits whatever order they were collected in."""
    return np.sum([np.frombuffer(b, dtype=np.float64) for b in sorted(partials)], axis=0)


def review_sums(sentences: DataFrame) -> DataFrame:
    """(product_id, review_sums: array<binary>): each partition's float64 sum of a product's sentence vectors.

    One Arrow pass over the cached float32 arrays (numpy sums per product and batch); only
    products × partitions vectors leave the workers. The mean's direction is the sum's.
    """
    return _partial_sums(sentences).groupBy("product_id").agg(F.collect_list("sums").alias("review_sums"))


def _term_frequencies(products: DataFrame) -> DataFrame:
    """(product_id, tf): hashed term counts of name + description (Spark ML's HashingTF)."""
    from pyspark.ml.feature import HashingTF, RegexTokenizer  # driver side: workers import this module too

    text = products.select("product_id", F.concat_ws(" ", "name", F.coalesce("description", F.lit(""))).alias("text"))
    tokens = RegexTokenizer(inputCol="text", outputCol="tokens", pattern="[^a-z0-9]+").transform(text)
    return HashingTF(inputCol="tokens", outputCol="tf", numFeatures=TEXT_FEATURES).transform(tokens)


def _combine(review_sum: np.ndarray, text_vec: np.ndarray, w_review: float, w_text: float) -> np.ndarray:
    r = review_sum / (np.linalg.norm(review_sum) or 1.0) * w_review
    t = text_vec / (np.linalg.norm(text_vec) or 1.0) * w_text
    v = np.concatenate([r, t])
    return v / (np.linalg.norm(v) or 1.0)


def _weights(text_weight: float) -> tuple[float, float]:
    return float(np.sqrt(1 - text_weight)), float(np.sqrt(text_weight))


def product_vectors(sentences: DataFrame, products: DataFrame, text_weight: float) -> DataFrame:
    """(product_id, vector: array<double>) unit vectors; see the module doc."""
    from pyspark.ml.feature import IDF
    from pyspark.ml.functions import vector_to_array

    tf = _term_frequencies(products)
    tfidf = IDF(inputCol="tf", outputCol="text_vec").fit(tf).transform(tf)
    joined = review_sums(sentences).join(
        tfidf.select(F.col("product_id").cast("long").alias("product_id"), "text_vec"), "product_id"
    )
    w_review, w_text = _weights(text_weight)

    @F.pandas_udf(ArrayType(DoubleType()))  # type: ignore[call-overload]  # stubs lack the type-hinted form
    def combine(partials: pd.Series, text_vec: pd.Series) -> pd.Series:
        out = []
        for sums, t in zip(partials, text_vec):
            out.append(_combine(_add_partials(sums), np.asarray(t, dtype=np.float64), w_review, w_text))
        return pd.Series(out)

    return joined.select("product_id", combine("review_sums", vector_to_array(F.col("text_vec"))).alias("vector"))


def partial_review_sums(sentences: DataFrame) -> dict[int, list[bytes]]:
    """Per product, each partition's float64 sum of its sentence vectors (one pass; what
    ``product_matrix`` needs, which the K-means job also returns: ``KChoice.group_sums``)."""
    sums: dict[int, list[bytes]] = {}
    for row in _partial_sums(sentences).collect():
        sums.setdefault(row["product_id"], []).append(row["sums"])
    return sums


def product_matrix(
    sentences: DataFrame, products: DataFrame, text_weight: float, sums: dict[int, list[bytes]] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(ids, unit vectors) on the driver, sorted by id: the rows ``product_vectors`` makes.

    Two jobs collect what is small: each partition's review sums per product (products × partitions
    vectors; none when ``sums`` has them already) and the hashed term counts of the product texts;
    the IDF is Spark ML's, log((m + 1) / (df + 1)) over the m products of ``products``.
    """
    if sums is None:
        sums = partial_review_sums(sentences)
    counts = {int(r["product_id"]): r["tf"] for r in _term_frequencies(products).select("product_id", "tf").collect()}
    texts = sorted(counts)
    tf = np.zeros((len(texts), TEXT_FEATURES))
    for i, pid in enumerate(texts):
        tf[i, counts[pid].indices] = counts[pid].values
    idf = np.log((len(texts) + 1.0) / ((tf > 0).sum(axis=0) + 1.0))  # fitted on every product, as IDF().fit
    row_of = {pid: i for i, pid in enumerate(texts)}
    ids = np.asarray(sorted(set(sums) & set(counts)), dtype=np.int64)
    w_review, w_text = _weights(text_weight)
    rows = [
        _combine(
            _add_partials(sums[pid]),
            tf[row_of[pid]] * idf,
            w_review,
            w_text,
        )
        for pid in ids.tolist()
    ]
    return ids, np.asarray(rows, dtype=np.float64).reshape(len(ids), -1)


def top_k_pairs(ids: np.ndarray, matrix: np.ndarray, k: int, block: int = 1024) -> pd.DataFrame:
    """Each product's ``k`` best partners by cosine (float32 products; ties by partner id), as ranked rows."""
    keep = min(k, max(len(ids) - 1, 0))
    parts = []
    all_vectors = matrix.astype(np.float32)
    for start in range(0, len(ids) if keep else 0, block):
        scores = all_vectors[start : start + block] @ all_vectors.T
        rows = np.arange(len(scores))
        scores[rows, start + rows] = -np.inf
        best = np.argpartition(-scores, keep - 1, axis=1)[:, :keep]
        chosen = scores[rows[:, None], best].astype(np.float64)
        # rank: score descending, then the partner's id ascending (as the Window of exact_top_k)
        order = np.lexsort((ids[best], -chosen), axis=1)
        parts.append(
            pd.DataFrame(
                {
                    "product_id": np.repeat(ids[start : start + block], keep),
                    "similar_product_id": np.take_along_axis(ids[best], order, axis=1).ravel(),
                    "score": np.take_along_axis(chosen, order, axis=1).ravel(),
                    "rank_no": np.tile(np.arange(1, keep + 1, dtype=np.int32), len(scores)),
                }
            )
        )
    columns = {"product_id": "int64", "similar_product_id": "int64", "score": "float64", "rank_no": "int32"}
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(columns)).astype(columns)


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


def lsh_bits(product_count: int, config: AnalyzerConfig) -> int:
    """Bits per table: ``lsh_bits_per_table``, or from the product count (≈ n/32 buckets per table)."""
    if config.lsh_bits_per_table:
        return config.lsh_bits_per_table
    return int(min(24, max(4, round(np.log2(max(product_count, 2))) - 5)))


def lsh_buckets(vectors: DataFrame, config: AnalyzerConfig, product_count: int) -> DataFrame:
    """(table, bucket, product_id, vector): each product once per table, in the bucket of its signature.

    A table's signature is ``bits`` signs of random projections (SimHash): two vectors at angle θ
    agree on a bit with probability 1 - θ/π, so on a whole table with (1 - θ/π)^bits — near
    neighbours share a bucket in some table, unrelated products almost never in any.
    """
    tables, bits = config.lsh_hash_tables, lsh_bits(product_count, config)
    seed = config.seed

    def sign_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        planes = None
        weights = (1 << np.arange(bits, dtype=np.int64))[None, None, :]
        for batch in batches:
            if batch.empty:
                continue
            matrix = np.stack(batch["vector"].to_numpy()).astype(np.float32)
            if planes is None:  # same seed → same planes in every worker
                planes = np.random.default_rng(seed).standard_normal((tables * bits, matrix.shape[1]))
                planes = planes.astype(np.float32)
            signs = (matrix @ planes.T > 0).reshape(len(batch), tables, bits)
            keys = (signs * weights).sum(axis=2)  # (rows, tables)
            yield pd.DataFrame(
                {
                    "table": np.tile(np.arange(tables, dtype=np.int32), len(batch)),
                    "bucket": keys.ravel(),
                    "product_id": np.repeat(batch["product_id"].to_numpy(), tables),
                    "vector": list(np.repeat(matrix, tables, axis=0)),
                }
            )

    schema = "table int, bucket long, product_id long, vector array<float>"
    return vectors.select("product_id", "vector").mapInPandas(sign_batches, schema)


def lsh_top_k(vectors: DataFrame, k: int, config: AnalyzerConfig, product_count: int | None = None) -> DataFrame:
    """Approximate: exact cosine within each LSH bucket (one matrix product per bucket), then top-k.

    Candidate pairs are those sharing a bucket in at least one of ``lsh_hash_tables`` tables
    (see ``lsh_buckets``); the bench reports their share of n² and the recall against exact.
    """
    n = product_count if product_count is not None else vectors.count()

    def score_bucket(bucket: pd.DataFrame) -> pd.DataFrame:
        if len(bucket) < 2:
            return pd.DataFrame({"product_id": [], "similar_product_id": [], "score": []})
        ids = bucket["product_id"].to_numpy()
        matrix = np.stack(bucket["vector"].to_numpy()).astype(np.float32)
        scores = matrix @ matrix.T
        np.fill_diagonal(scores, -np.inf)
        keep = min(k, len(ids) - 1)
        best = np.argpartition(-scores, keep - 1, axis=1)[:, :keep]
        rows = np.repeat(np.arange(len(ids)), keep)
        return pd.DataFrame(
            {
                "product_id": np.repeat(ids, keep),
                "similar_product_id": ids[best.ravel()],
                "score": scores[rows, best.ravel()].astype(np.float64),
            }
        )

    pairs = (
        lsh_buckets(vectors, config, n)
        .groupBy("table", "bucket")
        .applyInPandas(score_bucket, PAIR_SCHEMA)
        .groupBy("product_id", "similar_product_id")
        .agg(F.max("score").alias("score"))
    )
    return _top_k(pairs, k).withColumn("method", F.lit("lsh"))


def lsh_candidate_pairs(vectors: DataFrame, config: AnalyzerConfig, product_count: int) -> int:
    """Distinct ordered pairs (a ≠ b) that share a bucket in some table: what LSH scores instead of n²."""
    keys = lsh_buckets(vectors, config, product_count).select("table", "bucket", "product_id")
    other = keys.withColumnRenamed("product_id", "other_id")
    return (
        keys.join(other, ["table", "bucket"])
        .where(F.col("product_id") != F.col("other_id"))
        .select("product_id", "other_id")
        .distinct()
        .count()
    )


def choose_method(product_count: int, config: AnalyzerConfig) -> str:
    if config.similarity_method != "auto":
        return config.similarity_method
    return "exact" if product_count <= config.similarity_exact_max_products else "lsh"


def similarities(
    sentences: DataFrame,
    products: DataFrame,
    product_count: int,
    config: AnalyzerConfig,
    sums: dict[int, list[bytes]] | None = None,
) -> DataFrame:
    """(product_id, similar_product_id, score, rank_no, method); ``sums``: ``partial_review_sums``
    if already known (the exact method uses them)."""
    if choose_method(product_count, config) == "exact":
        ids, matrix = product_matrix(sentences, products, config.similarity_text_weight, sums)
        pairs = top_k_pairs(ids, matrix, config.similarity_top_k)
        return sentences.sparkSession.createDataFrame(pairs, PAIR_SCHEMA + ", rank_no int").withColumn(
            "method", F.lit("exact")
        )
    vectors_ = product_vectors(sentences, products, config.similarity_text_weight)
    return lsh_top_k(vectors_, config.similarity_top_k, config, product_count)


def recall(approximate: DataFrame, exact: DataFrame) -> float:
    """Share of the exact top-k pairs that the approximate method also found."""
    truth = exact.select("product_id", "similar_product_id")
    found = truth.join(
        approximate.select("product_id", "similar_product_id"), ["product_id", "similar_product_id"]
    ).count()
    total = truth.count()
    return found / total if total else 1.0
