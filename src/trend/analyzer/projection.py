"""2-D map of the sentence embeddings: the top two principal directions of a bounded sample.

The dataset report draws every sentence at (map_x, map_y) coloured by its viewpoint. The
projection is part of the analysis (stored in ds_analyzer.review_sentences, published with the
other results), so the page only reads numbers. The two directions of largest variance are the
top eigenvectors of the covariance of the clustering's sample (at most ``k_sample_size`` sentences,
already on the driver: the d × d covariance, d = 384, is the cost, and the top two directions are
stable long before 100k rows); every sentence is projected on them (two dot products per row) in
the same Arrow pass that assigns it to its viewpoint (``clustering.assign``). As in Spark ML's PCA,
the rows are projected as they are (not centred) and a direction's sign is arbitrary; here it is
fixed (its largest coordinate is positive) so that the same sample gives the same map.
"""

from __future__ import annotations

import numpy as np


def fit_components(sample: np.ndarray) -> np.ndarray:
    """(dim, 2): the top two eigenvectors of the sample's covariance; zeros when it has < 2 rows."""
    if len(sample) < 2:
        return np.zeros((sample.shape[1] if sample.ndim == 2 else 0, 2))
    values, vectors = np.linalg.eigh(np.cov(np.asarray(sample, dtype=np.float64), rowvar=False))
    top = vectors[:, np.argsort(values)[::-1][:2]]
    if top.shape[1] < 2:  # one-dimensional vectors: the second coordinate is 0
        top = np.hstack([top, np.zeros((top.shape[0], 2 - top.shape[1]))])
    signs = np.sign(top[np.argmax(np.abs(top), axis=0), [0, 1]])
    return top * np.where(signs == 0, 1.0, signs)


def project(matrix: np.ndarray, components: np.ndarray) -> np.ndarray:
    """(n, 2) float32 map coordinates, rounded to 1e-4."""
    return np.round(matrix @ components, 4).astype(np.float32)
