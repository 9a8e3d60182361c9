"""Offline default backend: a multi-label classifier over MiniLM sentence embeddings.

Each viewpoint gets prototype vectors: its "name: description" and each keyword
(zero-shot), plus each example sentence (few-shot). A sentence's score for a
viewpoint is the best of its zero-shot similarity and the mean of its top-k
example similarities. A viewpoint is assigned when the score clears the
viewpoint's threshold and is within ``margin`` of the sentence's best score.

Thresholds are calibrated per viewpoint when examples exist: leave-one-out
scores of the examples (positives: its own, negatives: the other viewpoints'
examples) give the threshold with the best F1. Without examples, the default
zero-shot threshold is used. Sentences whose scores lie within ``band`` of a
threshold are *uncertain*: the router may send them to an LLM.

The fitted model holds only numpy arrays, so Spark can ship it to executors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # executors unpickle the model without importing the DB layer
    from trend.spvp.viewpoints import ViewpointCategory

Encoder = Callable[[Sequence[str]], np.ndarray]
ZERO_SHOT, FEW_SHOT = 0, 1


@dataclass(frozen=True)
class OfflineSettings:
    zero_shot_threshold: float = 0.42
    margin: float = 0.12
    band: float = 0.05
    top_k: int = 3
    min_threshold: float = 0.25
    max_threshold: float = 0.85
    max_examples: int = 200  # per viewpoint, keeps the prototype matrix small
    calibration_prior: float = 4.0  # pseudo-examples pulling thresholds towards the default


@dataclass
class OfflineModel:
    ordinals: np.ndarray  # (V,) viewpoint ordinal numbers
    prototypes: np.ndarray  # (P, D) L2-normalised
    owner: np.ndarray  # (P,) viewpoint index of each prototype
    kind: np.ndarray  # (P,) ZERO_SHOT or FEW_SHOT
    thresholds: np.ndarray  # (V,)
    settings: OfflineSettings

    def scores(self, vectors: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
        """(N, V) scores for L2-normalised sentence vectors (N, D).

        ``exclude`` (N,) optionally names one prototype per row to ignore (leave-one-out).
        """
        sims = np.asarray(vectors, dtype=np.float32) @ self.prototypes.T
        if exclude is not None:
            rows = np.flatnonzero(exclude >= 0)
            sims[rows, exclude[rows]] = -np.inf
        n, v = sims.shape[0], len(self.ordinals)
        out = np.full((n, v), -1.0, dtype=np.float32)
        for j in range(v):
            zero = sims[:, (self.owner == j) & (self.kind == ZERO_SHOT)]
            if zero.shape[1]:
                out[:, j] = zero.max(axis=1)
            few = sims[:, (self.owner == j) & (self.kind == FEW_SHOT)]
            if few.shape[1]:
                k = min(self.settings.top_k, few.shape[1])
                top = -np.sort(-few, axis=1)[:, :k]
                top = np.where(np.isfinite(top), top, np.nan)
                with np.errstate(all="ignore"):
                    mean = np.nan_to_num(np.nanmean(top, axis=1), nan=-1.0)
                out[:, j] = np.maximum(out[:, j], mean)
        return out

    def decide(self, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(labels (N, V) bool, uncertain (N,) bool) from scores."""
        s = self.settings
        if scores.shape[0] == 0:
            return np.zeros(scores.shape, dtype=bool), np.zeros(0, dtype=bool)
        best = scores.max(axis=1, keepdims=True)
        near_top = scores >= best - s.margin
        labels = (scores >= self.thresholds) & near_top
        uncertain = (np.abs(scores - self.thresholds) < s.band) & (scores >= best - s.margin - s.band)
        return labels, uncertain.any(axis=1)


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1, norms)


def fit(category: ViewpointCategory, encode: Encoder, settings: OfflineSettings | None = None) -> OfflineModel:
    """Encode the viewpoints' texts and calibrate per-viewpoint thresholds."""
    settings = settings or OfflineSettings()
    texts, owner, kind = [], [], []
    for j, v in enumerate(category.viewpoints):
        zero = [f"{v.name}: {v.description}" if v.description else v.name, *v.keywords]
        for t in zero:
            texts.append(t)
            owner.append(j)
            kind.append(ZERO_SHOT)
        for t in v.examples[: settings.max_examples]:
            texts.append(t)
            owner.append(j)
            kind.append(FEW_SHOT)
    model = OfflineModel(
        ordinals=np.array(category.ordinals, dtype=np.int64),
        prototypes=_unit(encode(texts)),
        owner=np.array(owner, dtype=np.int64),
        kind=np.array(kind, dtype=np.int64),
        thresholds=np.full(len(category.viewpoints), settings.zero_shot_threshold, dtype=np.float32),
        settings=settings,
    )
    model.thresholds = calibrate(model)
    return model


def calibrate(model: OfflineModel) -> np.ndarray:
    """Per-viewpoint thresholds from leave-one-out scores of the example sentences."""
    s = model.settings
    thresholds = model.thresholds.copy()
    examples = np.flatnonzero(model.kind == FEW_SHOT)
    if examples.size == 0:
        return thresholds
    scores = model.scores(model.prototypes[examples], exclude=examples)
    truth = model.owner[examples]
    for j in range(len(model.ordinals)):
        positive = truth == j
        if positive.sum() < 2 or (~positive).sum() < 2:
            continue
        col = scores[:, j]
        best_t, best_f1 = thresholds[j], -1.0
        for t in np.unique(np.clip(col, s.min_threshold, s.max_threshold)):
            predicted = col >= t
            tp = float((predicted & positive).sum())
            f1 = 2 * tp / (predicted.sum() + positive.sum())
            if f1 > best_f1 + 1e-9:
                best_t, best_f1 = t, f1
        # Shrink towards the default: a handful of examples gives a noisy optimum.
        weight = positive.sum() / (positive.sum() + s.calibration_prior)
        thresholds[j] = weight * best_t + (1 - weight) * thresholds[j]
    return thresholds
