"""Offline default backend: a multi-label classifier over MiniLM sentence embeddings.

Two kinds of viewpoint column, one model:

* **supervised** (``classifier: "logreg"``, a viewpoint with at least ``min_examples``
  positive and negative examples): a logistic regression per viewpoint (``class_weight``),
  one-vs-rest, on [sentence embedding ⊕ ``tfidf_weight`` · TF-IDF word 1-2-grams of the
  text]. Positives: the viewpoint's examples; negatives: every other example sentence
  (the other viewpoints' examples and the category's "none of them" examples). Its score is
  the probability; its threshold is the F1-best value on ``cv_folds``-fold out-of-fold
  probabilities over the examples only. **Top-1 guarantee**: a sentence that no column
  claims gets its best supervised viewpoint when that probability clears ``floor``,
  chosen by the same cross-validation (micro-F1 over the examples).
* **prototype** (zero-shot; a category without examples, or a viewpoint with fewer than
  ``min_examples``): prototype vectors "name: description", each keyword and each example
  sentence. Score = max(best zero-shot cosine, mean of the top-k example cosines),
  assigned when it clears the viewpoint's threshold and is within ``margin`` of the best
  prototype score; thresholds calibrated by leave-one-out over the examples when there
  are some, else ``zero_shot_threshold``.

A sentence is *uncertain* when a score lies within ``band`` (cosine, prototype columns) or
``logit_band`` (log-odds, supervised columns) of its threshold, or when the top-1
guarantee decided it within ``logit_band`` of the floor: the router may send it to an LLM.

The fitted model holds numpy arrays and, with text features, a fitted scikit-learn
``TfidfVectorizer`` (installed on executors): picklable, so Spark ships it to executors.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # executors unpickle the model without importing the DB layer
    from trend.spvp.viewpoints import ViewpointCategory

Encoder = Callable[[Sequence[str]], np.ndarray]
ZERO_SHOT, FEW_SHOT = 0, 1
CLASSIFIERS = ("logreg", "prototype")


@dataclass(frozen=True)
class OfflineSettings:
    zero_shot_threshold: float = 0.42
    margin: float = 0.12
    band: float = 0.05
    top_k: int = 3
    min_threshold: float = 0.25
    max_threshold: float = 0.85
    max_examples: int = 200  # per viewpoint as prototypes, keeps the prototype matrix small
    calibration_prior: float = 4.0  # pseudo-examples pulling thresholds towards the default
    classifier: str = "logreg"  # "logreg": supervised columns where examples allow; "prototype": never
    min_examples: int = 5  # positives (and negatives) a viewpoint needs for a supervised column
    max_train_examples: int = 20000  # example sentences a category's classifier learns from
    C: float = 4.0  # inverse L2 strength of the logistic regressions
    class_weight: str | None = None
    tfidf_weight: float = 1.0  # 0: embedding only
    tfidf_min_df: int = 2
    cv_folds: int = 5
    logit_band: float = 0.4  # uncertainty of supervised columns, in log-odds (0.4 = ±0.1 around p 0.5)
    top1: bool = True

    def __post_init__(self):
        if self.classifier not in CLASSIFIERS:
            raise ValueError(f"offline.classifier {self.classifier!r} unknown; expected one of {CLASSIFIERS}")
        if self.min_examples < 2 or self.cv_folds < 2:
            raise ValueError("offline.min_examples and offline.cv_folds must be at least 2")


@dataclass(frozen=True)
class Example:
    """A labelled sentence besides the viewpoint file's: ``ordinals`` empty = none of them."""

    text: str
    ordinals: frozenset[int]
    vector: np.ndarray | None = None  # its stored embedding, when known
    source: str = "file"


@dataclass
class SupervisedHead:
    """One-vs-rest logistic regressions for the viewpoint columns ``columns``."""

    columns: np.ndarray  # (S,) viewpoint indices
    coef: np.ndarray  # (S, D + T) float32
    intercept: np.ndarray  # (S,)
    vectorizer: Any = None  # fitted TfidfVectorizer or None
    tfidf_weight: float = 0.0
    floor: float | None = None  # top-1 guarantee
    examples: dict[str, int] = field(default_factory=dict)  # by source, for the run report

    def probabilities(self, vectors: np.ndarray, texts: Sequence[str] | None) -> np.ndarray:
        d = vectors.shape[1]
        z = np.asarray(vectors, dtype=np.float32) @ self.coef[:, :d].T + self.intercept
        if self.vectorizer is not None:
            if texts is None:
                raise ValueError("this offline model uses text features: pass the sentences' texts")
            z = z + self.tfidf_weight * np.asarray(self.vectorizer.transform(list(texts)) @ self.coef[:, d:].T)
        return (1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))).astype(np.float32)


@dataclass
class OfflineModel:
    ordinals: np.ndarray  # (V,) viewpoint ordinal numbers
    prototypes: np.ndarray  # (P, D) L2-normalised
    owner: np.ndarray  # (P,) viewpoint index of each prototype
    kind: np.ndarray  # (P,) ZERO_SHOT or FEW_SHOT
    thresholds: np.ndarray  # (V,)
    settings: OfflineSettings
    head: SupervisedHead | None = None

    @property
    def supervised(self) -> np.ndarray:
        """(V,) bool: columns scored by the logistic regressions."""
        mask = np.zeros(len(self.ordinals), dtype=bool)
        if self.head is not None:
            mask[self.head.columns] = True
        return mask

    def prototype_scores(self, vectors: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
        """(N, V) cosine scores for L2-normalised sentence vectors (N, D).

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
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # a row whose examples are all excluded
                    mean = np.nan_to_num(np.nanmean(top, axis=1), nan=-1.0)
                out[:, j] = np.maximum(out[:, j], mean)
        return out

    def scores(self, vectors: np.ndarray, exclude: np.ndarray | None = None, texts: Sequence[str] | None = None):
        """(N, V) scores: probabilities in supervised columns, cosines in prototype ones."""
        out = self.prototype_scores(vectors, exclude)
        if self.head is not None and len(out):
            out[:, self.head.columns] = self.head.probabilities(np.asarray(vectors), texts)
        return out

    def decide(self, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(labels (N, V) bool, uncertain (N,) bool) from scores."""
        s = self.settings
        if scores.shape[0] == 0:
            return np.zeros(scores.shape, dtype=bool), np.zeros(0, dtype=bool)
        sup = self.supervised
        labels = scores >= self.thresholds
        uncertain = np.zeros(scores.shape, dtype=bool)
        if (~sup).any():
            proto = scores[:, ~sup]
            best = proto.max(axis=1, keepdims=True)
            labels[:, ~sup] &= proto >= best - s.margin
            uncertain[:, ~sup] = (np.abs(proto - self.thresholds[~sup]) < s.band) & (proto >= best - s.margin - s.band)
        if sup.any():
            probs = scores[:, sup]
            uncertain[:, sup] = np.abs(_logit(probs) - _logit(self.thresholds[sup])) < s.logit_band
            floor = self.head.floor if self.head is not None else None
            if floor is not None:
                unclaimed = ~labels.any(axis=1)
                top = probs.max(axis=1)
                rows = np.flatnonzero(unclaimed & (top >= floor))
                labels[rows, np.flatnonzero(sup)[probs[rows].argmax(axis=1)]] = True
                uncertain[unclaimed, 0] |= np.abs(_logit(top[unclaimed]) - _logit(np.float32(floor))) < s.logit_band
        return labels, np.asarray(uncertain.any(axis=1))


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1, norms)


def fit(
    category: ViewpointCategory,
    encode: Encoder,
    settings: OfflineSettings | None = None,
    extra: Iterable[Example] = (),
) -> OfflineModel:
    """Encode the viewpoints' texts, calibrate the prototype thresholds and, where the examples
    allow, train the supervised columns (``extra``: stored examples, e.g. LLM-decided sentences)."""
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
    if settings.classifier == "logreg":
        train_texts, truth, vectors, sources = training_set(category, extra, encode, settings.max_train_examples)
        head, thresholds = train_head(vectors, train_texts, truth, settings)
        if head is not None:
            head.examples = sources
            model.head = head
            model.thresholds[head.columns] = thresholds
    return model


def training_set(
    category: ViewpointCategory, extra: Iterable[Example], encode: Encoder, limit: int
) -> tuple[list[str], np.ndarray, np.ndarray, dict[str, int]]:
    """Unique example sentences, their (n, V) labels, embeddings and counts by source.

    A sentence listed under several viewpoints (or stored again) is one row with all its labels;
    "none of them" examples (the category's ``negative_examples``, stored examples with no
    ordinal) are rows without labels.
    """
    column = {o: j for j, o in enumerate(category.ordinals)}
    rows: dict[str, set[int]] = {}
    vectors: dict[str, np.ndarray] = {}
    sources: dict[str, int] = {}

    def add(text: str, cols: Iterable[int], source: str, vector=None) -> None:
        if text not in rows:
            if len(rows) >= limit:
                return
            rows[text] = set()
            sources[source] = sources.get(source, 0) + 1
        rows[text].update(cols)
        if vector is not None:
            vectors[text] = np.asarray(vector, dtype=np.float32)

    for j, v in enumerate(category.viewpoints):
        for t in v.examples:
            add(t, [j], "file")
    for t in getattr(category, "negative_examples", ()):
        add(t, [], "file")
    for e in extra:
        add(e.text, [column[o] for o in e.ordinals if o in column], e.source, e.vector)
    texts = list(rows)
    truth = np.zeros((len(texts), len(column)), dtype=bool)
    for i, t in enumerate(texts):
        truth[i, sorted(rows[t])] = True
    if not texts:
        return texts, truth, np.zeros((0, 0), dtype=np.float32), sources
    missing = [t for t in texts if t not in vectors]
    if missing:
        vectors.update(zip(missing, _unit(encode(missing))))
    matrix = np.array([vectors[t] for t in texts], dtype=np.float32).reshape(len(texts), -1)
    return texts, truth, _unit(matrix), sources


def _design(vectors: np.ndarray, texts: Sequence[str], vectorizer, weight: float):
    from scipy import sparse

    if vectorizer is None:
        return vectors
    return sparse.hstack([sparse.csr_matrix(vectors), weight * vectorizer.transform(list(texts))]).tocsr()


def _fit_columns(vectors, texts, truth, columns, settings: OfflineSettings):
    """Vectorizer + one logistic regression per column: (vectorizer, coef (S, F), intercept (S,))."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = None
    if settings.tfidf_weight > 0:
        vectorizer = TfidfVectorizer(
            ngram_range=(1, 2), min_df=settings.tfidf_min_df, sublinear_tf=True, dtype=np.float32
        )
        try:
            vectorizer.fit(list(texts))
        except ValueError:  # no term reaches min_df: embedding only
            vectorizer = None
    x = _design(vectors, texts, vectorizer, settings.tfidf_weight)
    coef, intercept = [], []
    for j in columns:
        lr = LogisticRegression(C=settings.C, class_weight=settings.class_weight, max_iter=2000)
        lr.fit(x, truth[:, j])
        coef.append(lr.coef_[0])
        intercept.append(lr.intercept_[0])
    return vectorizer, np.array(coef, dtype=np.float32), np.array(intercept, dtype=np.float32)


def _f1(tp: float, predicted: float, actual: float) -> float:
    return 2 * tp / (predicted + actual) if predicted + actual else 0.0


def train_head(
    vectors: np.ndarray, texts: Sequence[str], truth: np.ndarray, settings: OfflineSettings
) -> tuple[SupervisedHead | None, np.ndarray]:
    """The supervised columns, their thresholds and top-1 floor from out-of-fold probabilities."""
    if not len(texts):
        return None, np.zeros(0, dtype=np.float32)
    positives, negatives = truth.sum(axis=0), (~truth).sum(axis=0)
    columns = np.flatnonzero((positives >= settings.min_examples) & (negatives >= settings.min_examples))
    if not columns.size:
        return None, np.zeros(0, dtype=np.float32)
    n = len(texts)
    folds = min(settings.cv_folds, int(positives[columns].min()))
    order = np.random.default_rng(0).permutation(n)
    oof = np.zeros((n, columns.size), dtype=np.float32)
    for k in range(folds):
        held = np.zeros(n, dtype=bool)
        held[order[k::folds]] = True
        train = ~held
        if (truth[train][:, columns].sum(axis=0) == 0).any() or (~truth[train][:, columns]).sum(axis=0).min() == 0:
            continue  # a fold without both classes cannot be fit; its rows keep probability 0
        vec, coef, intercept = _fit_columns(
            vectors[train], [texts[int(i)] for i in np.flatnonzero(train)], truth[train], columns, settings
        )
        part = SupervisedHead(columns, coef, intercept, vec, settings.tfidf_weight)
        oof[held] = part.probabilities(vectors[held], [texts[int(i)] for i in np.flatnonzero(held)])
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    thresholds = np.empty(columns.size, dtype=np.float32)
    for c, j in enumerate(columns):
        actual = float(truth[:, j].sum())
        f1s = [_f1(float(((oof[:, c] >= t) & truth[:, j]).sum()), float((oof[:, c] >= t).sum()), actual) for t in grid]
        thresholds[c] = grid[int(np.argmax(f1s))]
    floor = _choose_floor(oof, truth[:, columns], thresholds) if settings.top1 else None
    vec, coef, intercept = _fit_columns(vectors, texts, truth, columns, settings)
    return SupervisedHead(columns, coef, intercept, vec, settings.tfidf_weight, floor), thresholds


def _choose_floor(oof: np.ndarray, truth: np.ndarray, thresholds: np.ndarray) -> float | None:
    """The top-1 floor (or None: no guarantee) with the best out-of-fold micro-F1."""
    base = oof >= thresholds
    unclaimed = ~base.any(axis=1)
    top, best_col = oof.max(axis=1), oof.argmax(axis=1)
    hit = truth[np.arange(len(truth)), best_col]
    tp0, predicted0, actual = float((base & truth).sum()), float(base.sum()), float(truth.sum())
    best_floor, best_f1 = None, _f1(tp0, predicted0, actual)
    for floor in np.round(np.arange(0.05, 0.951, 0.05), 2):
        added = unclaimed & (top >= floor)
        f1 = _f1(tp0 + float((added & hit).sum()), predicted0 + float(added.sum()), actual)
        if f1 > best_f1 + 1e-9:
            best_floor, best_f1 = float(floor), f1
    return best_floor


def calibrate(model: OfflineModel) -> np.ndarray:
    """Per-viewpoint prototype thresholds from leave-one-out scores of the example sentences."""
    s = model.settings
    thresholds = model.thresholds.copy()
    examples = np.flatnonzero(model.kind == FEW_SHOT)
    if examples.size == 0:
        return thresholds
    scores = model.prototype_scores(model.prototypes[examples], exclude=examples)
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
