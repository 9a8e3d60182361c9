"""K-means over sentence embeddings: k picked by silhouette on a sample, then noise flags.

Features are unit vectors, so squared Euclidean distance is 2 - 2·cosine and
Spark's default K-means groups by cosine similarity.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from pyspark.ml.clustering import KMeans
from pyspark.ml.evaluation import ClusteringEvaluator
from pyspark.ml.stat import Summarizer
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from trend.analyzer import kmeans, vectors
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
    sample = features.select(vectors.as_array(features).alias("features")).sample(fraction=fraction, seed=config.seed)
    scores = _driver_scores(sample, ks, config) if config.k_selection == "driver" else _spark_scores(sample, ks, config)
    best = max(scores, key=lambda k: (round(scores[k], 4), -k))
    log.info("silhouette by k: %s -> k=%d", {k: round(v, 3) for k, v in scores.items()}, best)
    return KChoice(best, scores)


def _driver_scores(sample: DataFrame, ks: list[int], config: AnalyzerConfig) -> dict[int, float]:
    from sklearn.cluster import KMeans as LocalKMeans
    from sklearn.metrics import silhouette_score

    x = np.asarray([row["features"] for row in sample.collect()], dtype=np.float64)
    scores: dict[int, float] = {}
    for k in ks:
        if k >= len(x):
            break
        labels = LocalKMeans(k, n_init=1, max_iter=config.kmeans_max_iter, random_state=config.seed).fit_predict(x)
        scores[k] = float(silhouette_score(x, labels, metric="sqeuclidean")) if len(set(labels)) > 1 else -1.0
    return scores or {ks[0]: 0.0}


def _spark_scores(sample: DataFrame, ks: list[int], config: AnalyzerConfig) -> dict[int, float]:
    sample = sample.select(vectors.as_vector(sample).alias("features")).cache()
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


def fit(features: DataFrame, n: int, k: int, config: AnalyzerConfig) -> tuple[DataFrame, np.ndarray]:
    """Adds cluster_id and distance (to the centroid); returns the centroids too.

    k=1 (tiny input) is the mean, no K-means. Otherwise ``trend.analyzer.kmeans``: seeded on a
    sample of at most ``kmeans_sample_size`` (best of ``kmeans_restarts``), refined by full passes.
    """
    if k == 1:
        row = features.select(Summarizer.mean(vectors.as_vector(features)).alias("m")).first()
        assert row is not None  # a global aggregate has exactly one row
        centers = np.asarray([row["m"].toArray()])
        return kmeans.assign(features, centers, vectors.as_array(features)), centers
    fitted = kmeans.fit(
        features,
        n,
        k,
        seed=config.seed,
        restarts=config.kmeans_restarts,
        max_iter=config.kmeans_max_iter,
        sample_size=config.kmeans_sample_size,
        refine_passes=config.kmeans_refine_passes,
        tolerance=config.kmeans_tolerance,
        column=vectors.as_array(features),
        order_by="sentence_id" if "sentence_id" in features.columns else None,
    )
    return kmeans.assign(features, fitted.centers, vectors.as_array(features)), fitted.centers


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
    predicted, _ = fit(features, n, choice.k, config)
    return flag_noise(predicted, config.noise_z), choice
