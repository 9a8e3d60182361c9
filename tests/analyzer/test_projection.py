"""The sentence map: the 2-D projection equals the textbook PCA, and analyzer_batch stores it."""

from __future__ import annotations

import numpy as np
import pytest

from tests.analyzer.conftest import create_dataset
from trend.analyzer import projection
from trend.analyzer.job import run
from trend.analyzer.settings import AnalyzerConfig
from trend.db import fetch_all

FAST = AnalyzerConfig(k_max=5, k_sample_size=400, kmeans_max_iter=10, kmeans_restarts=1)


def _numpy_pca_2d(x: np.ndarray) -> np.ndarray:
    """Top-2 eigenvectors of the covariance; the (uncentred) rows projected on them."""
    values, vectors = np.linalg.eigh(np.cov(x, rowvar=False))
    top = vectors[:, np.argsort(values)[::-1][:2]]
    return x @ top


def _same_up_to_sign(got: np.ndarray, expected: np.ndarray, atol: float) -> None:
    for j in range(2):
        sign = 1.0 if np.dot(got[:, j], expected[:, j]) >= 0 else -1.0
        np.testing.assert_allclose(got[:, j], sign * expected[:, j], atol=atol)


def test_projection_is_the_pca_of_the_vectors():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(300, 16)) * np.array([6.0, 3.0] + [0.3] * 14)  # two clear directions of variance
    x = x @ np.linalg.qr(rng.normal(size=(16, 16)))[0]  # rotated away from the axes
    got = projection.project(x, projection.fit_components(x))
    assert got.dtype == np.float32 and got.shape == (300, 2)
    _same_up_to_sign(got, _numpy_pca_2d(x), atol=2e-3)


def test_a_fit_on_a_sample_maps_every_row_like_the_fit_on_all():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(2000, 16)) * np.array([6.0, 3.0] + [0.3] * 14)
    x = x @ np.linalg.qr(rng.normal(size=(16, 16)))[0]
    got = projection.project(x, projection.fit_components(x[rng.permutation(2000)[:300]]))
    expected = _numpy_pca_2d(x)
    for j in range(2):
        assert abs(np.corrcoef(got[:, j], expected[:, j])[0, 1]) > 0.99


def test_the_same_sample_gives_the_same_signs_and_one_row_sits_at_the_origin():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(50, 8))
    first = projection.fit_components(x)
    np.testing.assert_array_equal(first, projection.fit_components(x.copy()))
    assert (first[np.argmax(np.abs(first), axis=0), [0, 1]] > 0).all()  # largest coordinate positive
    assert projection.project(x[:1], projection.fit_components(x[:1])).tolist() == [[0.0, 0.0]]


@pytest.mark.spark
@pytest.mark.slow
def test_analysis_stores_map_coordinates_of_every_sentence(db, market_ids, spark):
    ds = db["ds_analyzer"]
    dataset_id = create_dataset(ds, {"product_ids": market_ids})
    assert run(spark, dataset_id, FAST).ok
    ds.commit()
    stored = fetch_all(
        ds,
        "SELECT sentence_id, map_x, map_y FROM review_sentences WHERE dataset_id = %s ORDER BY sentence_id",
        (dataset_id,),
    )
    blobs = fetch_all(db["analyzer_v2"], "SELECT id, embedding FROM review_sentences ORDER BY id")
    assert [r["sentence_id"] for r in stored] == [b["id"] for b in blobs]
    vectors = np.stack([np.frombuffer(b["embedding"], dtype="<f4") for b in blobs]).astype(np.float64)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)  # the analysis works on unit vectors
    got = np.array([[r["map_x"], r["map_y"]] for r in stored], dtype=np.float64)
    _same_up_to_sign(got, _numpy_pca_2d(vectors), atol=2e-3)
