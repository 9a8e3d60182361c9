"""The sentence vectors live once, as float32 blobs; the numpy stages read them through Arrow.

The job caches ``features`` as ``binary``: each row 4 · dim bytes of little-endian float32, unit
length (1M × 384 ≈ 1.5 GB). A batch's blobs reach Python as one contiguous Arrow buffer, read as an
(n, dim) matrix without a copy: Spark's Arrow writer copies a blob per row where an
``array<float>`` costs it a write per element (a vector pass at 100k: ~0.65 s instead of ~1.0 s).
Callers (tests) may also pass ``array<float|double>`` or ML vectors; ``arrow_column`` and
``arrow_matrix`` read each kind.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import BinaryType


def arrow_column(frame: DataFrame, column: str = "features") -> Column:
    """``column`` in a form ``arrow_matrix`` reads: a float32 blob as it is, an ML vector or an
    array as array<float>."""
    from pyspark.ml.functions import vector_to_array  # here: pyspark.ml costs a Python worker ~0.5 s to import
    from pyspark.ml.linalg import VectorUDT

    kind = frame.schema[column].dataType
    if isinstance(kind, BinaryType):
        return F.col(column)
    if isinstance(kind, VectorUDT):
        return vector_to_array(F.col(column), "float32")
    return F.col(column).cast("array<float>")


def blob_matrix(blobs: pa.Array, dim: int | None = None) -> np.ndarray:
    """A pyarrow binary array of little-endian float32 blobs as an (n, dim) float32 matrix (a view).

    Every blob must be 4 · dim bytes (``dim`` defaults to the first blob's length).
    """
    n = len(blobs)
    if blobs.null_count:
        raise ValueError(f"{blobs.null_count} embeddings are NULL")
    offset_type = np.int64 if pa.types.is_large_binary(blobs.type) else np.int32
    _, offsets_buffer, data_buffer = blobs.buffers()
    if n == 0:
        return np.zeros((0, dim or 0), dtype=np.float32)
    offsets = np.frombuffer(
        offsets_buffer, dtype=offset_type, count=n + 1, offset=blobs.offset * offset_type().itemsize
    )
    lengths = np.diff(offsets)
    dim = dim if dim is not None else int(lengths[0]) // 4
    if np.any(lengths != 4 * dim):
        bad = int(lengths[lengths != 4 * dim][0])
        raise ValueError(f"embedding has {bad / 4:g} values, expected {dim}")
    return np.frombuffer(data_buffer, dtype="<f4", count=n * dim, offset=int(offsets[0])).reshape(n, dim)


def to_blobs(matrix: np.ndarray) -> pa.Array:
    """An (n, dim) matrix as a pyarrow binary array of little-endian float32 blobs (one buffer)."""
    data = np.ascontiguousarray(matrix, dtype="<f4")
    n, dim = data.shape
    offsets = np.arange(0, (n + 1) * 4 * dim, 4 * dim, dtype=np.int32)
    return pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def arrow_matrix(values: pa.Array) -> np.ndarray:
    """A pyarrow array of float32 blobs or of list<float> (one vector per row, equal lengths) as an
    (n, dim) float64 matrix.

    Reads Arrow's flat value buffer directly: no per-row numpy objects (pandas' conversion makes one per row).
    """
    n = len(values)
    if n == 0:
        return np.zeros((0, 0))
    if pa.types.is_binary(values.type) or pa.types.is_large_binary(values.type):
        return blob_matrix(values).astype(np.float64)
    flat = values.flatten().to_numpy(zero_copy_only=False)
    return flat.reshape(n, -1).astype(np.float64)


def rows_matrix(rows: Sequence) -> np.ndarray:
    """Collected vectors (float32 blobs, lists or arrays; one per row) as an (n, dim) float64 matrix."""
    return np.asarray(
        [np.frombuffer(r, dtype="<f4") if isinstance(r, bytes | bytearray) else r for r in rows], dtype=np.float64
    ).reshape(len(rows), -1)


def add_group_sums(totals: dict[int, np.ndarray], ids: np.ndarray, matrix: np.ndarray) -> None:
    """Add each group's rows of ``matrix`` (one sorted ``np.add.reduceat`` per batch) into ``totals``."""
    keys, inverse = np.unique(ids, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(len(keys)))
    for key, total in zip(keys.tolist(), np.add.reduceat(matrix[order], starts, axis=0), strict=True):
        totals[key] = totals[key] + total if key in totals else total
