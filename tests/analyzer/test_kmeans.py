"""Clustering on the cached float32 arrays (same clusters as on ML vectors) and the pruning of the LSH similarity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyspark.ml.functions import array_to_vector
from pyspark.sql import functions as F
from sklearn.metrics import adjusted_rand_score

from trend.analyzer import clustering, similarity
from trend.analyzer.settings import AnalyzerConfig

pytestmark = pytest.mark.spark


def _unit(m):
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def _planted(rng, k=4, per=150, dim=16, spread=0.15):
    centers = _unit(rng.normal(size=(k, dim)))
    truth = np.repeat(np.arange(k), per)
    return _unit(centers[truth] + rng.normal(0, spread, (k * per, dim))).astype(np.float32), truth


def _frame(spark, x):
    data = pd.DataFrame({"sentence_id": np.arange(len(x)), "features": list(x)})
    return spark.createDataFrame(data, "sentence_id long, features array<float>").repartition(3)


def test_float32_blobs_arrays_and_ml_vectors_give_the_same_clusters(spark):
    x, truth = _planted(np.random.default_rng(1), per=120)
    arrays = _frame(spark, x)
    ml = arrays.select("sentence_id", array_to_vector("features").alias("features"))
    blobs = spark.createDataFrame(
        [(i, bytearray(v.astype("<f4").tobytes())) for i, v in enumerate(x)], "sentence_id long, features binary"
    ).repartition(3)
    config = AnalyzerConfig(k_max=8, k_sample_size=100)  # sample < n: Lloyd passes over all rows
    found = {}
    for name, frame in (("arrays", arrays), ("vectors", ml), ("blobs", blobs)):
        clustered, choice = clustering.cluster_sentences(frame, len(x), config)
        rows = clustered.orderBy("sentence_id").collect()
        found[name] = [r["cluster_id"] for r in rows], [r["is_noise"] for r in rows], choice.k
    assert found["arrays"] == found["vectors"] == found["blobs"]
    assert adjusted_rand_score(truth, found["arrays"][0]) > 0.95


def test_lloyd_passes_in_spark_are_scikit_learns_and_stop_when_they_stop_paying(spark):
    from sklearn.cluster import KMeans

    x, _ = _planted(np.random.default_rng(2), k=6, per=150, spread=0.35)
    data = x.astype(np.float64)
    start = data[np.random.default_rng(3).choice(len(x), 10, replace=False)]
    vectors = _frame(spark, x).select("sentence_id", F.col("features").alias("vec"))
    centers, sizes, iterations, _ = clustering.fit_centroids(vectors, start, AnalyzerConfig(kmeans_max_iter=50))
    assert 1 < iterations < 50
    local = KMeans(10, init=start, n_init=1, max_iter=iterations, tol=0).fit(data)  # the same passes
    np.testing.assert_allclose(centers, local.cluster_centers_, atol=1e-6)
    assert sizes.sum() == len(x)
    _, _, inertia = clustering.lloyd_step(vectors, local.cluster_centers_)
    assert inertia == pytest.approx(local.inertia_, rel=1e-6)
    exact = clustering.fit_centroids(vectors, start, AnalyzerConfig(kmeans_max_iter=50, kmeans_tol=0)).iterations
    assert exact > iterations  # tol 0: until nothing moves or the pass limit


def test_prefiltered_sample_is_the_sorted_hash_sample(spark):
    x, _ = _planted(np.random.default_rng(4), per=100)
    frame = _frame(spark, x)
    config = AnalyzerConfig(k_max=4, k_sample_size=40)
    fast = clustering.sample_vectors(frame, config, len(x))  # only rows under a hash bound are sorted
    full = clustering.sample_vectors(frame, config)  # the whole frame sorted by hash
    assert fast.shape == (40, x.shape[1])
    np.testing.assert_array_equal(fast, full)


def test_lsh_compares_only_a_fraction_of_all_pairs(spark):
    rng = np.random.default_rng(5)
    n = 400
    x = _unit(rng.normal(size=(n, 32))).astype(np.float32)
    vectors = spark.createDataFrame(
        pd.DataFrame({"product_id": np.arange(n), "vector": list(x)}), "product_id long, vector array<float>"
    )
    config = AnalyzerConfig(lsh_hash_tables=4, lsh_bits_per_table=6)
    keys = similarity.lsh_buckets(vectors, config, n).toPandas()
    assert len(keys) == 4 * n
    share = 0
    for _, group in keys.groupby(["table", "bucket"]):
        share += len(group) * (len(group) - 1)
    assert share / (n * (n - 1)) < 0.15  # random directions: ~4 / 2^6 of the pairs, far from all
    # a product's own copy (cosine 1) always shares every bucket
    twin = spark.createDataFrame(
        pd.DataFrame({"product_id": [1, 2], "vector": [x[0], x[0]]}), "product_id long, vector array<float>"
    )
    top = similarity.lsh_top_k(twin, 1, config, 2).collect()
    assert {(r["product_id"], r["similar_product_id"]) for r in top} == {(1, 2), (2, 1)}


def test_all_passes_in_one_barrier_job_match_a_job_per_pass_bit_for_bit(spark):
    x, _ = _planted(np.random.default_rng(6), k=5, per=200, spread=0.3)
    start = x[np.random.default_rng(7).choice(len(x), 8, replace=False)].astype(np.float64)
    config = AnalyzerConfig(kmeans_max_iter=50)
    data = pd.DataFrame({"sentence_id": np.arange(len(x)), "product_id": np.arange(len(x)) % 7, "features": list(x)})
    frame = (
        spark.createDataFrame(data, "sentence_id long, product_id long, features array<float>")
        .repartition(2)  # within local[2]'s two task slots: the barrier path
        .cache()
    )
    frame.count()
    vectors = frame.select("sentence_id", "product_id", F.col("features").alias("vec"))
    context = spark.sparkContext
    context.setJobGroup("barrier-fit", "test")
    fit = clustering.fit_centroids(vectors, start, config, sum_by="product_id")
    context.setLocalProperty("spark.jobGroup.id", None)
    assert len(context.statusTracker().getJobIdsForGroup("barrier-fit")) == 1  # every pass in one job
    context.setJobGroup("per-pass-fit", "test")
    per_pass = clustering.fit_centroids(vectors, start, config.replace(kmeans_one_job=False), sum_by="product_id")
    context.setLocalProperty("spark.jobGroup.id", None)
    assert len(context.statusTracker().getJobIdsForGroup("per-pass-fit")) == per_pass.iterations  # a job per pass
    assert fit.iterations == per_pass.iterations > 1
    np.testing.assert_array_equal(fit.centers, per_pass.centers)
    np.testing.assert_array_equal(fit.sizes, per_pass.sizes)
    assert per_pass.group_sums is None  # that path leaves the product sums to the similarity stage
    # the products' review sums come with it: the same partials as the similarity stage's own pass
    assert fit.group_sums == similarity.partial_review_sums(frame)
    frame.unpersist()
