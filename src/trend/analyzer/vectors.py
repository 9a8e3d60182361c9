"""The sentence vectors live once, as float32 arrays; Spark ML stages get ML vectors on the fly.

The job caches ``features`` as ``array<float>`` (1M × 384 ≈ 1.5 GB instead of 3 GB of doubles) and
the numpy stages read it through Arrow. The few Spark ML estimators that need ``VectorUDT`` doubles
(Summarizer, PCA) convert per row while they run, without a second cached copy. Callers (tests)
may pass either type.
"""

from __future__ import annotations

import numpy as np
from pyspark.ml.functions import array_to_vector, vector_to_array
from pyspark.ml.linalg import VectorUDT
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F


def is_vector(frame: DataFrame, column: str) -> bool:
    return isinstance(frame.schema[column].dataType, VectorUDT)


def as_array(frame: DataFrame, column: str = "features") -> Column:
    """``column`` as array<float>."""
    if is_vector(frame, column):
        return vector_to_array(F.col(column), "float32")
    return F.col(column).cast("array<float>")


def as_vector(frame: DataFrame, column: str = "features") -> Column:
    """``column`` as an ML vector (doubles)."""
    if is_vector(frame, column):
        return F.col(column)
    return array_to_vector(F.col(column))


def arrow_matrix(values) -> np.ndarray:
    """A pyarrow list<float> array (one vector per row, equal lengths) as an (n, dim) float64 matrix.

    Reads Arrow's flat value buffer directly: no per-row numpy objects (pandas' conversion makes one per row).
    """
    n = len(values)
    if n == 0:
        return np.zeros((0, 0))
    flat = values.flatten().to_numpy(zero_copy_only=False)
    return flat.reshape(n, -1).astype(np.float64)
