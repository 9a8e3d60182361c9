"""K-means over the sentence vectors: seeded on a sample, refined by full Lloyd passes in Spark.

Why not ``pyspark.ml.clustering.KMeans`` as such: it computes one point-to-centroid dot product at
a time in the JVM (BLAS level 1, so native BLAS does not help it), needs double-precision
``VectorUDT`` features (a second copy of the vectors next to the float32 arrays the job caches),
and runs ``maxIter`` full passes per restart. Here:

1. **seed**: scikit-learn K-means (k-means++, ``restarts`` initialisations, best inertia) on a
   uniform sample of at most ``kmeans_sample_size`` vectors collected to the driver — bounded
   work whatever the input size; below that size the sample is the whole input, so the result is
   exactly scikit-learn's on all sentences in ``order_by`` order (same seed → same clusters,
   whatever the partitioning);
2. **refine**: warm-started Lloyd passes over all sentences, at most ``kmeans_refine_passes``, until
   no centroid moves more than ``kmeans_tolerance``. Each pass is one ``mapInPandas`` over the
   cached float32 arrays: per Arrow batch a matrix product with the k centroids (numpy BLAS,
   level 3) gives the nearest centroid; the partitions return per-cluster sums and counts
   (k × d numbers each) that the driver adds up.
3. **assign**: one more pass adds ``cluster_id`` and the Euclidean ``distance`` to the centroid.

Vectors are unit length, so squared Euclidean distance is 2 - 2·cosine.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, IntegerType, StructField, StructType

log = logging.getLogger(__name__)

PASS_SCHEMA = "cluster_id int, size long, cost double, total array<double>"
ASSIGN_TYPE = StructType([StructField("cluster_id", IntegerType()), StructField("distance", DoubleType())])


@dataclass(frozen=True)
class KMeansFit:
    centers: np.ndarray  # (k, d) float64
    cost: float  # sum of squared distances to the nearest centroid (last pass, or the sample's fit)
    sample_size: int
    passes: int  # full passes over the input after the sample fit


def as_matrix(values: pd.Series, dtype: type = np.float32) -> np.ndarray:
    """A pandas Series of equal-length arrays (Arrow list<float>) → (n, d) matrix."""
    if len(values) == 0:
        return np.zeros((0, 0), dtype=dtype)
    return np.stack(values.to_numpy()).astype(dtype, copy=False)


def nearest(matrix: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of the nearest centre, squared distance to it) for each row, by one matrix product."""
    c = centers.astype(matrix.dtype, copy=False)
    squared = (matrix * matrix).sum(axis=1)[:, None] - 2 * (matrix @ c.T) + (c * c).sum(axis=1)[None, :]
    index = squared.argmin(axis=1)
    return index.astype(np.int32), np.maximum(squared[np.arange(len(index)), index], 0.0).astype(np.float64)


def _vector(column: Column | str) -> Column:
    return (F.col(column) if isinstance(column, str) else column).alias("_v")


def lloyd_pass(
    frame: DataFrame, centers: np.ndarray, column: Column | str = "features"
) -> tuple[np.ndarray, np.ndarray, float]:
    """One full pass: per-cluster sums and sizes of the nearest-centroid assignment, and the cost."""
    k, d = centers.shape
    shared = frame.sparkSession.sparkContext.broadcast(centers)

    def partial(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        c = shared.value
        totals, sizes, cost = np.zeros((k, d)), np.zeros(k, dtype=np.int64), 0.0
        for batch in batches:
            if batch.empty:
                continue
            matrix = as_matrix(batch["_v"])
            index, squared = nearest(matrix, c)
            np.add.at(sizes, index, 1)
            totals += _sum_by(index, matrix, k)
            cost += float(squared.sum())
        used = np.flatnonzero(sizes)
        yield pd.DataFrame(
            {
                "cluster_id": used.astype(np.int32),
                "size": sizes[used],
                "cost": [cost] + [0.0] * (len(used) - 1) if len(used) else [],
                "total": list(totals[used]),
            }
        )

    rows = frame.select(_vector(column)).mapInPandas(partial, PASS_SCHEMA).collect()
    shared.unpersist()
    totals, sizes, cost = np.zeros((k, d)), np.zeros(k, dtype=np.int64), 0.0
    for row in rows:
        totals[row["cluster_id"]] += np.asarray(row["total"])
        sizes[row["cluster_id"]] += row["size"]
        cost += row["cost"]
    return totals, sizes, cost


def _sum_by(index: np.ndarray, matrix: np.ndarray, k: int) -> np.ndarray:
    """Per-cluster sums of the rows as one sparse-indicator matrix product."""
    onehot = np.zeros((k, len(index)), dtype=np.float32)
    onehot[index, np.arange(len(index))] = 1.0
    return (onehot @ matrix).astype(np.float64)


def fit(
    frame: DataFrame,
    n: int,
    k: int,
    *,
    seed: int,
    restarts: int = 3,
    max_iter: int = 30,
    sample_size: int = 50_000,
    refine_passes: int = 5,
    tolerance: float = 1e-4,
    column: Column | str = "features",
    order_by: str | None = None,
) -> KMeansFit:
    """Centroids of ``frame[column]`` (array<float>, unit rows); see the module doc.

    ``order_by``: a unique column (sentence_id) that orders the sample, so that the result does
    not depend on how the rows are partitioned.
    """
    from sklearn.cluster import KMeans as LocalKMeans

    fraction = min(1.0, sample_size / max(n, 1))
    picked = frame.select(_vector(column), *([F.col(order_by).alias("_key")] if order_by else []))
    if fraction < 1.0:
        picked = picked.sample(fraction=fraction, seed=seed)
    rows = picked.collect()
    if order_by:  # scikit-learn's seeding depends on row order; partitioning must not
        rows.sort(key=lambda row: row["_key"])
    sample = np.asarray([row["_v"] for row in rows], dtype=np.float64)
    k = max(1, min(k, len(sample)))
    local = LocalKMeans(k, n_init=max(1, restarts), max_iter=max_iter, random_state=seed).fit(sample)
    centers, cost, passes = np.asarray(local.cluster_centers_, dtype=np.float64), float(local.inertia_), 0
    if fraction < 1.0:
        for passes in range(1, refine_passes + 1):
            totals, sizes, cost = lloyd_pass(frame, centers, column)
            moved = centers.copy()
            filled = sizes > 0
            moved[filled] = totals[filled] / sizes[filled, None]  # an emptied cluster keeps its centroid
            shift = float(np.max(np.linalg.norm(moved - centers, axis=1)))
            centers = moved
            if shift <= tolerance:
                break
    log.info("k-means k=%d: sample %d, %d full passes, cost %.2f", k, len(sample), passes, cost)
    return KMeansFit(centers, cost, len(sample), passes)


def assign(frame: DataFrame, centers: np.ndarray, column: Column | str = "features") -> DataFrame:
    """Adds ``cluster_id`` (nearest centroid) and ``distance`` (Euclidean, to that centroid)."""
    shared = frame.sparkSession.sparkContext.broadcast(np.asarray(centers, dtype=np.float64))

    @F.pandas_udf(ASSIGN_TYPE)  # type: ignore[call-overload]  # stubs lack the type-hinted form
    def nearest_centre(vectors: pd.Series) -> pd.DataFrame:
        index, squared = nearest(as_matrix(vectors, np.float64), shared.value)
        return pd.DataFrame({"cluster_id": index, "distance": np.sqrt(squared)})

    return (
        frame.withColumn("_nearest", nearest_centre(_vector(column)))
        .withColumn("cluster_id", F.col("_nearest.cluster_id"))
        .withColumn("distance", F.col("_nearest.distance"))
        .drop("_nearest")
    )
