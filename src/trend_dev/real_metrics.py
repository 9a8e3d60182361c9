"""Scores of ``make eval-real``: clusters against gold categories, sentence sentiment against gold polarity.

Conventions (docs/real_data.md):
- clusters: scored over sentences with exactly one gold category; a noise sentence counts as one
  cluster of its own (label ``NOISE``); ``outliers`` is the share of *all* sentences flagged noise;
  ``k`` the number of distinct clusters outside noise.
- sentiment: scored over sentences whose gold opinions share one polarity. 3-class accuracy: the
  predicted label equals it (neutral included); pos/neg accuracy: over gold positive/negative
  sentences, the prediction's sign matches (sign of the score when there is one, else of the label).
SPVP micro-F1 is ``trend_dev.spvp_eval.score``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score, normalized_mutual_info_score

NOISE = -1
POLARITY_SIGN = {"positive": 1, "negative": -1, "neutral": 0}


@dataclass(frozen=True)
class ClusterScores:
    k: int
    ami: float
    nmi: float
    ari: float
    outliers: float
    scored: int  # sentences with exactly one gold category

    def line(self, name: str = "clusters") -> str:
        return (
            f"{name}: k={self.k} AMI={self.ami:.3f} NMI={self.nmi:.3f} ARI={self.ari:.3f} "
            f"outliers={self.outliers:.3f}  (n={self.scored})"
        )


def cluster_scores(
    categories: Sequence[frozenset[str]], clusters: Sequence[int], noise: Sequence[bool] | None = None
) -> ClusterScores:
    """``categories[i]``: gold categories of sentence i (any number); ``clusters[i]`` its cluster id."""
    flags = list(noise) if noise is not None else [False] * len(clusters)
    if not (len(categories) == len(clusters) == len(flags)):
        raise ValueError("categories, clusters and noise differ in length")
    labels = [NOISE if n else int(c) for c, n in zip(clusters, flags)]
    scored = [(next(iter(g)), label) for g, label in zip(categories, labels) if len(g) == 1]
    gold, found = [g for g, _ in scored], [c for _, c in scored]
    return ClusterScores(
        k=len({c for c in labels if c != NOISE}),
        ami=float(adjusted_mutual_info_score(gold, found)) if scored else 0.0,
        nmi=float(normalized_mutual_info_score(gold, found)) if scored else 0.0,
        ari=float(adjusted_rand_score(gold, found)) if scored else 0.0,
        outliers=sum(flags) / len(flags) if flags else 0.0,
        scored=len(scored),
    )


def single_polarity(polarities: frozenset[str]) -> str | None:
    """The polarity all of a sentence's gold opinions share; None without opinions or when they differ."""
    return next(iter(polarities)) if len(polarities) == 1 and polarities <= set(POLARITY_SIGN) else None


def sign(label: str | None, score: float | None = None) -> int:
    if score is not None:
        return (score > 0) - (score < 0)
    return POLARITY_SIGN.get((label or "").lower(), 0)


@dataclass(frozen=True)
class SentimentScores:
    pos_neg: float
    three_class: float
    polar: int  # gold positive/negative sentences
    scored: int  # sentences with one gold polarity

    def line(self, name: str = "default") -> str:
        return (
            f"sentiment ({name}): pos/neg accuracy={self.pos_neg:.3f} 3-class accuracy={self.three_class:.3f}"
            f"  (n={self.polar}/{self.scored})"
        )


def sentiment_scores(
    gold: Sequence[frozenset[str]], labels: Sequence[str | None], scores: Sequence[float | None] | None = None
) -> SentimentScores:
    """``gold[i]``: polarities of sentence i's opinions; ``labels[i]`` the predicted label, ``scores[i]`` its score."""
    values = list(scores) if scores is not None else [None] * len(labels)
    if not (len(gold) == len(labels) == len(values)):
        raise ValueError("gold, labels and scores differ in length")
    polar_hits = polar = three_hits = scored = 0
    for polarities, label, score in zip(gold, labels, values):
        truth = single_polarity(polarities)
        if truth is None:
            continue
        scored += 1
        three_hits += (label or "").lower() == truth
        if truth != "neutral":
            polar += 1
            polar_hits += sign(label, score) == POLARITY_SIGN[truth]
    return SentimentScores(polar_hits / polar if polar else 0.0, three_hits / scored if scored else 0.0, polar, scored)
