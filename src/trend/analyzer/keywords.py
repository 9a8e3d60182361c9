"""Per-cluster keywords (class-based TF-IDF over unigrams and bigrams) and representative sentences."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

_STOPWORDS = sorted(
    set(
        """
a about above after again against all also am an and any are aren't as at be because been before being
below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down
during each even few for from further get got had hadn't has hasn't have haven't having he her here hers
herself him himself his how i i'm i've if in into is isn't it it's its itself just let's me more most much
my myself no nor not now of off on once one only or other ought our ours ourselves out over own really
same she should shouldn't so some still such than that that's the their theirs them themselves then there
these they they're this those through to too under until up us very was wasn't we we're were weren't what
when where which while who whom why will with won't would wouldn't you you're your yours yourself
""".split()
    )
)


# words that carry opinion or filler, not a topic: a label made of them says nothing about the aspect
_GENERIC = sorted(
    set(
        """
absolutely actually amazing anything awesome bad best better bit definitely either else enough ever every
everything excellent fantastic fine good great highly lot lots love loved many may might must need nice
nothing okay perfect pretty quite recommend say something thing things think truly want way well wonderful
worst yet
""".split()
    )
)
STOPWORDS = frozenset(_STOPWORDS) | frozenset(_GENERIC)


_SEPARATORS = re.compile(r"(?:[^\w']|_)+")  # anything but letters, digits and apostrophes


def terms(text: str | None) -> list[str]:
    """The sentence's unigrams and bigrams (lower case, stop words and words under 3 letters out).

    A bigram joins two adjacent words that are both kept ("battery life", "customer service").
    """
    tokens = _SEPARATORS.split((text or "").lower())
    kept = [w for w in tokens if len(w) > 2 and w not in STOPWORDS]
    bigrams = [
        f"{a} {b}"
        for a, b in pairwise(tokens)
        if len(a) > 2 and len(b) > 2 and a not in STOPWORDS and b not in STOPWORDS
    ]
    return kept + bigrams


@dataclass(frozen=True)
class ClusterWords:
    terms: dict[int, list[tuple[str, float]]]  # cluster_id -> top (term, c-TF-IDF weight), best first
    representatives: dict[int, list[str]]  # cluster_id -> distinct sentences nearest the centroid


_WORDS_SCHEMA = "cluster_id int, text string, value double, is_term boolean"
_WORDS_ARROW = pa.schema(
    [("cluster_id", pa.int32()), ("text", pa.string()), ("value", pa.float64()), ("is_term", pa.bool_())]
)


def cluster_words(
    clustered: DataFrame,
    top_n: int = 8,
    per_cluster: int = 5,
    sizes: dict[int, int] | None = None,
    per_cluster_cap: int = 0,
    seed: int = 42,
) -> ClusterWords:
    """Keywords and representative sentences of every cluster, from its non-noise sentences, in one job.

    Keywords: the ``top_n`` terms (unigrams and bigrams) by c-TF-IDF,
    weight(t, c) = tf(t, c) / |c| · log(1 + A / f(t)), A = mean terms per cluster,
    f(t) = occurrences of t in all clusters (BERTopic's); ties rank alphabetically. With ``sizes``
    (non-noise sentences per cluster) and ``per_cluster_cap``, a cluster larger than the cap counts
    the words of about ``per_cluster_cap`` of its sentences, picked by hash(sentence_id, seed): the
    top terms of thousands of sentences are those of all of them.

    Representatives: the ``per_cluster`` distinct texts nearest the centroid (ties by text).

    Each partition counts its (cluster, term) pairs and keeps its nearest ``per_cluster`` distinct
    texts per cluster; the driver adds the counts (a table bounded by the cap) and takes the nearest
    of the nearest. That is exact: a text among the global nearest is among the nearest of the
    partition holding its smallest distance (every text ahead of it there is ahead of it globally,
    and fewer than ``per_cluster`` are). Python tokenises 32k sentences in ~0.3 s where Spark SQL's
    higher-order functions took ~2.4 s, and one pass replaces three jobs.
    """
    kept = clustered.where(~F.col("is_noise"))
    large = {c: per_cluster_cap / n for c, n in (sizes or {}).items() if per_cluster_cap and n > per_cluster_cap}
    sampled = F.lit(True)
    if large:
        share = F.coalesce(
            F.element_at(
                F.create_map(*[F.lit(v) for c, f in sorted(large.items()) for v in (c, f)]), F.col("cluster_id")
            ),
            F.lit(1.0),
        )
        bucket = F.pmod(F.xxhash64("sentence_id", F.lit(seed)), F.lit(1 << 20)) / F.lit(float(1 << 20))
        sampled = bucket < share

    def partial(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        counts: Counter[tuple[int, str]] = Counter()
        nearest = []
        for batch in batches:
            if not batch.num_rows:
                continue
            frame = batch.to_pandas()
            nearest.append(_nearest_distinct(frame[["cluster_id", "text", "distance"]], per_cluster))
            chosen = frame[frame["sampled"]]
            for cluster_id, text in zip(chosen["cluster_id"].tolist(), chosen["text"].tolist(), strict=True):
                counts.update((cluster_id, term) for term in terms(text))
        if not nearest:
            return
        reps = _nearest_distinct(pd.concat(nearest, ignore_index=True), per_cluster)
        pairs = sorted(counts)
        yield pa.RecordBatch.from_arrays(
            [
                pa.array(reps["cluster_id"].tolist() + [c for c, _ in pairs], pa.int32()),
                pa.array(reps["text"].tolist() + [t for _, t in pairs], pa.string()),
                pa.array(reps["distance"].tolist() + [float(counts[p]) for p in pairs], pa.float64()),
                pa.array([False] * len(reps) + [True] * len(pairs), pa.bool_()),
            ],
            schema=_WORDS_ARROW,
        )

    rows = (
        kept.select(
            F.col("cluster_id").cast("int").alias("cluster_id"),
            "text",
            F.col("distance").cast("double").alias("distance"),
            sampled.alias("sampled"),
        )
        .mapInArrow(partial, _WORDS_SCHEMA)
        .toArrow()
        .to_pandas()
    )
    is_term = rows["is_term"].astype(bool)
    tf = rows[is_term].rename(columns={"text": "term", "value": "count"})
    nearest = rows[~is_term].rename(columns={"value": "distance"})
    representatives: dict[int, list[str]] = {}
    if not nearest.empty:
        found = _nearest_distinct(nearest, per_cluster)
        for cluster_id, text in zip(found["cluster_id"], found["text"], strict=True):
            representatives.setdefault(int(cluster_id), []).append(str(text))
    return ClusterWords(_top_terms(tf, top_n), representatives)


def _top_terms(tf: pd.DataFrame, top_n: int) -> dict[int, list[tuple[str, float]]]:
    """(cluster_id, term, count) counts → per cluster its ``top_n`` (term, c-TF-IDF weight)."""
    if tf.empty:
        return {}
    tf = tf.groupby(["cluster_id", "term"], as_index=False)["count"].sum()
    cluster_words = tf.groupby("cluster_id")["count"].transform("sum")
    term_total = tf.groupby("term")["count"].transform("sum")
    average = tf.groupby("cluster_id")["count"].sum().mean()
    tf["weight"] = tf["count"] / cluster_words * np.log(1 + average / term_total)
    ranked = tf.sort_values(["cluster_id", "weight", "term"], ascending=[True, False, True])
    top = ranked.groupby("cluster_id", sort=True).head(top_n)
    out: dict[int, list[tuple[str, float]]] = {}
    for cluster_id, term, weight in zip(top["cluster_id"], top["term"], top["weight"], strict=True):
        out.setdefault(int(cluster_id), []).append((str(term), float(weight)))
    return out


def _nearest_distinct(frame: pd.DataFrame, per_cluster: int) -> pd.DataFrame:
    """Per cluster, the ``per_cluster`` distinct texts of smallest (distance, text), each at its
    smallest distance."""
    ordered = frame.sort_values(["cluster_id", "distance", "text"], kind="stable")
    distinct = ordered.drop_duplicates(["cluster_id", "text"], keep="first")
    return distinct.groupby("cluster_id", sort=True).head(per_cluster)


def class_tfidf(
    clustered: DataFrame, top_n: int = 8, sizes: dict[int, int] | None = None, per_cluster_cap: int = 0, seed: int = 42
) -> dict[int, list[tuple[str, float]]]:
    """``cluster_words``' keywords alone."""
    return cluster_words(clustered, top_n, 1, sizes, per_cluster_cap, seed).terms


def representatives(clustered: DataFrame, per_cluster: int) -> dict[int, list[str]]:
    """``cluster_words``' representative sentences alone."""
    return cluster_words(clustered, per_cluster=per_cluster).representatives
