"""Plain baselines of ``make eval-real`` on the same MiniLM embeddings the pipeline stored.

- clusters: scikit-learn KMeans at the pipeline's k (no noise);
- sentiment: VADER (compound >= 0.05 positive, <= -0.05 negative, else neutral), and a
  3-class logistic regression on the embeddings trained on TRAIN;
- SPVP: one logistic regression per viewpoint, trained on TRAIN, threshold chosen by 5-fold
  cross-validated F1 on TRAIN.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

VADER_THRESHOLD = 0.05
THRESHOLDS = np.linspace(0.05, 0.95, 19)


def kmeans(vectors: np.ndarray, k: int, seed: int = 42) -> np.ndarray:
    return KMeans(n_clusters=max(1, k), n_init=4, random_state=seed).fit_predict(vectors)


def vader(texts: Sequence[str]) -> tuple[list[str], list[float]]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    compound = [float(analyzer.polarity_scores(t)["compound"]) for t in texts]
    labels = [
        "positive" if c >= VADER_THRESHOLD else "negative" if c <= -VADER_THRESHOLD else "neutral" for c in compound
    ]
    return labels, compound


def logistic_sentiment(train_x: np.ndarray, train_labels: Sequence[str], x: np.ndarray) -> list[str]:
    model = LogisticRegression(max_iter=2000).fit(train_x, list(train_labels))
    return [str(label) for label in model.predict(x)]


def _best_threshold(y: np.ndarray, probability: np.ndarray) -> float:
    best, best_f1 = 0.5, -1.0
    for t in THRESHOLDS:
        predicted = probability >= t
        tp = float((predicted & y).sum())
        f1 = 2 * tp / (predicted.sum() + y.sum()) if predicted.sum() + y.sum() else 0.0
        if f1 > best_f1:
            best, best_f1 = float(t), f1
    return best


def logistic_multilabel(train_x: np.ndarray, train_y: np.ndarray, x: np.ndarray, seed: int = 42) -> np.ndarray:
    """``train_y``: (n, labels) booleans; returns (len(x), labels) booleans."""
    predicted = np.zeros((len(x), train_y.shape[1]), dtype=bool)
    for j in range(train_y.shape[1]):
        y = train_y[:, j]
        if y.sum() < 2 or (~y).sum() < 2:
            continue  # nothing to learn from
        model = LogisticRegression(max_iter=2000)
        folds = StratifiedKFold(n_splits=int(min(5, y.sum())), shuffle=True, random_state=seed)
        oof = cross_val_predict(model, train_x, y, cv=folds, method="predict_proba")[:, 1]
        threshold = _best_threshold(y, oof)
        predicted[:, j] = model.fit(train_x, y).predict_proba(x)[:, 1] >= threshold
    return predicted
