"""K-means over sentence embeddings: k picked by silhouette on a sample, then noise flags.

Features are unit vectors, so squared Euclidean distance is 2 - 2·cosine and
Spark's default K-means groups by cosine similarity.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyspark.ml.clustering import KMeans, KMeansModel
from pyspark.ml.evaluation import ClusteringEvaluator
from pyspark.ml.functions import vector_to_array
from pyspark.ml.stat import Summarizer
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType

from trend.analyzer.settings import AnalyzerConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KChoice:
    k: int
    silhouettes: dict[int, float]


def candidate_ks(n: int, config: AnalyzerConfig) -> list[int]:
    """k in [k_min, min(k_max, n / min_cluster_size)]; a single cluster when n is tiny."""
    upper = min(config.k_max, n // max(1, config.min_cluster_size))
    if upper < max(2, config.k_min):
        return [1]
    return list(range(max(2, config.k_min), upper + 1))


def _kmeans(k: int, config: AnalyzerConfig, seed: int | None = None) -> KMeans:
    return KMeans(
        k=k,
        seed=config.seed if seed is None else seed,
        maxIter=config.kmeans_max_iter,
        featuresCol="features",
        predictionCol="cluster_id",
        initMode="k-means||",
    )


def choose_k(features: DataFrame, n: int, config: AnalyzerConfig) -> KChoice:
    """Fit each candidate k on a sample and keep the best silhouette (ties → smaller k).

    ``k_selection="driver"`` (default) scores the sample (at most ``k_sample_size`` rows) with
    scikit-learn on the driver: one small in-memory problem instead of a dozen distributed
    fits. ``"spark"`` runs the same search with Spark ML. The final clustering is Spark ML either way.
    """
    ks = candidate_ks(n, config)
    if len(ks) == 1:
        return KChoice(ks[0], {})
    fraction = min(1.0, config.k_sample_size / max(n, 1))
    sample = features.select("features").sample(fraction=fraction, seed=config.seed)
    scores = _driver_scores(sample, ks, config) if config.k_selection == "driver" else _spark_scores(sample, ks, config)
    best = max(scores, key=lambda k: (round(scores[k], 4), -k))
    log.info("silhouette by k: %s -> k=%d", {k: round(v, 3) for k, v in scores.items()}, best)
    return KChoice(best, scores)


def _driver_scores(sample: DataFrame, ks: list[int], config: AnalyzerConfig) -> dict[int, float]:
    from sklearn.cluster import KMeans as LocalKMeans
    from sklearn.metrics import silhouette_score

    x = np.asarray([row["features"].toArray() for row in sample.collect()])
    scores: dict[int, float] = {}
    for k in ks:
        if k >= len(x):
            break
        labels = LocalKMeans(k, n_init=1, max_iter=config.kmeans_max_iter, random_state=config.seed).fit_predict(x)
        scores[k] = float(silhouette_score(x, labels, metric="sqeuclidean")) if len(set(labels)) > 1 else -1.0
    return scores or {ks[0]: 0.0}


def _spark_scores(sample: DataFrame, ks: list[int], config: AnalyzerConfig) -> dict[int, float]:
    sample = sample.cache()
    evaluator = ClusteringEvaluator(
        featuresCol="features", predictionCol="cluster_id", metricName="silhouette", distanceMeasure="squaredEuclidean"
    )
    scores: dict[int, float] = {}
    try:
        for k in ks:
            model = _kmeans(k, config).fit(sample)
            scores[k] = float(evaluator.evaluate(model.transform(sample)))
    finally:
        sample.unpersist()
    return scores


def fit(features: DataFrame, k: int, config: AnalyzerConfig) -> tuple[DataFrame, np.ndarray]:
    """Adds cluster_id; returns the centroids too. k=1 (tiny input) is the mean, no K-means."""
    if k == 1:
        row = features.select(Summarizer.mean(F.col("features")).alias("m")).first()
        assert row is not None  # a global aggregate has exactly one row
        mean = row["m"]
        return features.withColumn("cluster_id", F.lit(0)), np.asarray([mean.toArray()])
    best: KMeansModel | None = None
    for restart in range(max(1, config.kmeans_restarts)):  # keep the lowest within-cluster cost
        model: KMeansModel = _kmeans(k, config, seed=config.seed + restart).fit(features)
        if best is None or model.summary.trainingCost < best.summary.trainingCost:
            best = model
    assert best is not None  # at least one restart ran
    return best.transform(features), np.asarray(best.clusterCenters(), dtype=np.float64)


def assign_distance(predicted: DataFrame, centers: np.ndarray) -> DataFrame:
    """Adds ``distance`` (Euclidean, from each sentence to its own centroid)."""

    @F.pandas_udf(DoubleType())  # type: ignore[call-overload]  # stubs lack the type-hinted form
    def distance(vectors: pd.Series, clusters: pd.Series) -> pd.Series:
        matrix = np.stack(vectors.to_numpy())
        return pd.Series(np.linalg.norm(matrix - centers[clusters.to_numpy()], axis=1))

    return predicted.withColumn("distance", distance(vector_to_array(F.col("features")), F.col("cluster_id")))


def flag_noise(assigned: DataFrame, noise_z: float) -> DataFrame:
    """is_noise when the distance is above median + z·1.4826·MAD of its cluster (robust z-score)."""
    stats = assigned.groupBy("cluster_id").agg(F.percentile_approx("distance", 0.5).alias("median_distance"))
    with_median = assigned.join(F.broadcast(stats), "cluster_id")
    mad = with_median.groupBy("cluster_id").agg(
        F.percentile_approx(F.abs(F.col("distance") - F.col("median_distance")), 0.5).alias("mad")
    )
    return (
        with_median.join(F.broadcast(mad), "cluster_id")
        .withColumn(
            "noise_threshold", F.col("median_distance") + F.lit(noise_z * 1.4826) * F.greatest("mad", F.lit(1e-6))
        )
        .withColumn("is_noise", F.col("distance") > F.col("noise_threshold"))
        .drop("median_distance", "mad", "noise_threshold")
    )


def cluster_sentences(features: DataFrame, n: int, config: AnalyzerConfig) -> tuple[DataFrame, KChoice]:
    """features (sentence_id, features, ...) → + cluster_id, distance, is_noise."""
    choice = choose_k(features, n, config)
    predicted, centers = fit(features, choice.k, config)
    return flag_noise(assign_distance(predicted, centers), config.noise_z), choice
