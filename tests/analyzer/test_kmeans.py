"""trend.analyzer.kmeans (sample fit + full Lloyd passes) and the pruning of the LSH similarity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans as LocalKMeans
from sklearn.metrics import adjusted_rand_score

from trend.analyzer import kmeans, similarity
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


def test_small_input_is_exactly_scikit_learn_on_all_rows(spark):
    x, _ = _planted(np.random.default_rng(1))
    frame = _frame(spark, x)
    fitted = kmeans.fit(frame, len(x), 4, seed=7, restarts=2, sample_size=10_000, order_by="sentence_id")
    local = LocalKMeans(4, n_init=2, random_state=7).fit(x.astype(np.float64))
    assert fitted.passes == 0 and fitted.sample_size == len(x)
    np.testing.assert_allclose(fitted.centers, local.cluster_centers_, atol=1e-9)
    rows = kmeans.assign(frame, fitted.centers).orderBy("sentence_id").collect()
    assert [r["cluster_id"] for r in rows] == local.labels_.tolist()
    own = fitted.centers[[r["cluster_id"] for r in rows]]
    np.testing.assert_allclose([r["distance"] for r in rows], np.linalg.norm(x - own, axis=1), atol=1e-5)


def test_sampled_fit_is_refined_by_full_passes(spark):
    x, truth = _planted(np.random.default_rng(2), per=400)
    frame = _frame(spark, x)
    fitted = kmeans.fit(frame, len(x), 4, seed=3, sample_size=200, refine_passes=6)
    assert fitted.sample_size < len(x) and 1 <= fitted.passes <= 6
    labels = [r["cluster_id"] for r in kmeans.assign(frame, fitted.centers).orderBy("sentence_id").collect()]
    assert adjusted_rand_score(truth, labels) > 0.98
    # a converged full pass leaves the centroids at the means of their members
    totals, sizes, _ = kmeans.lloyd_pass(frame, fitted.centers)
    means = totals / sizes[:, None]
    assert np.max(np.linalg.norm(means - fitted.centers, axis=1)) < 1e-3
    assert sizes.sum() == len(x)


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
