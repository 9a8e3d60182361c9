"""A sentence-sentiment head trained on labelled sentences: logistic regression on the
MiniLM sentence embedding, VADER's four scores and TF-IDF of hashed words and word pairs
(the hashing is stateless; only the IDF weights are learnt from the examples).

Fitted on the driver (a few thousand examples at most), shipped to the workers by
pickling, applied batch by batch in a pandas UDF. The score is P(positive) - P(negative),
in [-1, 1]; the label is the most probable class, so a neutral label goes with a score
near 0 and the score's sign is the polarity.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LABELS = ("negative", "neutral", "positive")
POSITIVE_MIN_STARS = 4  # weak labels from a review's stars (the ratings method)
NEGATIVE_MAX_STARS = 2
VADER_WEIGHT = 2.0  # VADER's 4 scores against 384 unit-norm embedding values: give them a voice
HASH_FEATURES = 2**16
TOKENS = r"(?u)\b\w+\b|[!?]"  # one-letter words and !/? count ("i", "a", "no!")


class TrainingDataError(ValueError):
    """The labelled sentences cannot train a head (missing file, bad line, too few examples)."""


@functools.lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_scores(texts: Sequence[str]) -> np.ndarray:
    """(n, 4): VADER's neg, neu, pos and compound for each text."""
    analyzer = _vader()
    rows = []
    for text in texts:
        s = analyzer.polarity_scores(text or "")
        rows.append((s["neg"], s["neu"], s["pos"], s["compound"]))
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), 4)


def vader_compound(texts: Sequence[str]) -> np.ndarray:
    return vader_scores(texts)[:, 3]


def word_counts(texts: Sequence[str]):
    """Sparse counts of hashed words and word pairs (stateless: the same on every worker)."""
    from sklearn.feature_extraction.text import HashingVectorizer

    hasher = HashingVectorizer(
        ngram_range=(1, 2), n_features=HASH_FEATURES, alternate_sign=False, norm=None, token_pattern=TOKENS
    )
    return hasher.transform([t or "" for t in texts])


def head_features(vectors: np.ndarray, texts: Sequence[str], idf) -> object:
    """Embedding ⊕ weighted VADER scores ⊕ TF-IDF words (a sparse matrix)."""
    from scipy import sparse

    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape[0] != len(texts):
        raise ValueError(f"{len(texts)} texts but vectors of shape {vectors.shape}")
    dense = np.hstack([vectors, VADER_WEIGHT * vader_scores(texts)])
    return sparse.hstack([sparse.csr_matrix(dense), idf.transform(word_counts(texts))]).tocsr()


@dataclass
class SentimentHead:
    """A fitted classifier over ``head_features``; ``source`` says what trained it."""

    model: object
    idf: object  # the TfidfTransformer fitted on the examples' word counts
    source: str
    examples: dict[str, int]

    def predict(self, vectors: np.ndarray, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        if len(texts) == 0:
            return [], np.zeros(0)
        proba = self.model.predict_proba(head_features(vectors, texts, self.idf))  # type: ignore[attr-defined]
        classes = list(self.model.classes_)  # type: ignore[attr-defined]
        column = {c: proba[:, i] for i, c in enumerate(classes)}
        zero = np.zeros(len(texts))
        score = column.get("positive", zero) - column.get("negative", zero)
        labels = [classes[i] for i in proba.argmax(axis=1)]
        return labels, np.clip(score, -1.0, 1.0)


def fit_head(
    vectors: np.ndarray,
    texts: Sequence[str],
    labels: Sequence[str],
    source: str,
    min_per_class: int = 5,
    c: float = 4.0,
    seed: int = 42,
) -> SentimentHead:
    """Logistic regression (no class weights: the priors of the examples stand); classes with
    fewer than ``min_per_class`` examples drop out."""
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import LogisticRegression

    counts = Counter(labels)
    unknown = sorted(set(counts) - set(LABELS))
    if unknown:
        raise TrainingDataError(f"{source}: labels must be one of {LABELS}, found {unknown}")
    kept = [label for label in LABELS if counts[label] >= min_per_class]
    if "positive" not in kept or "negative" not in kept:
        raise TrainingDataError(
            f"{source}: need at least {min_per_class} positive and {min_per_class} negative examples, "
            f"have {dict(counts)}"
        )
    mask = np.array([label in kept for label in labels])
    kept_texts = [t for t, m in zip(texts, mask, strict=True) if m]
    idf = TfidfTransformer(sublinear_tf=True).fit(word_counts(kept_texts))
    x = head_features(np.asarray(vectors)[mask], kept_texts, idf)
    y = np.array(labels)[mask]
    model = LogisticRegression(C=c, max_iter=3000, random_state=seed)
    model.fit(x, y)
    return SentimentHead(model, idf, source, {label: counts[label] for label in kept})


def read_training_file(path: str | Path) -> list[tuple[str, str]]:
    """JSONL, one ``{"text": str, "label": "positive"|"negative"|"neutral"}`` per line."""
    path = Path(path)
    if not path.is_file():
        raise TrainingDataError(f"sentiment training file {path} does not exist")
    out = []
    with path.open(encoding="utf-8") as handle:
        for n, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                text, label = item["text"], item["label"]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise TrainingDataError(f"{path}:{n}: expected {{'text': ..., 'label': ...}}") from None
            if not isinstance(text, str) or label not in LABELS:
                raise TrainingDataError(f"{path}:{n}: text must be a string and label one of {LABELS}")
            if text.strip():
                out.append((text.strip(), label))
    return out


def rating_label(
    rating: float | None, positive_min: float = POSITIVE_MIN_STARS, negative_max: float = NEGATIVE_MAX_STARS
) -> str | None:
    """Weak label from a review's stars: >= 4 positive, <= 2 negative, in between neutral."""
    if rating is None or rating != rating:  # None or NaN
        return None
    if rating >= positive_min:
        return "positive"
    if rating <= negative_max:
        return "negative"
    return "neutral"
