"""Per-cluster keywords (class-based TF-IDF over unigrams and bigrams) and representative sentences."""

from __future__ import annotations

from collections.abc import Iterator

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


def terms(text_column: str = "text"):
    """Column: the sentence's unigrams and bigrams (lower case, stop words and words under 3 letters out).

    A bigram joins two adjacent words that are both kept ("battery life", "customer service").
    """
    stop = sorted(STOPWORDS)  # IN over > 10 literals is a hash-set lookup (InSet), an array would be a scan
    tokens = F.split(F.lower(F.col(text_column)), r"[^\p{L}\p{N}']+")
    kept = F.filter(tokens, lambda w: (F.length(w) > 2) & ~w.isin(*stop))
    pairs = F.when(
        F.size(tokens) > 1,
        F.transform(F.sequence(F.lit(0), F.size(tokens) - 2), lambda i: F.array(tokens[i], tokens[i + 1])),
    ).otherwise(F.array().cast("array<array<string>>"))
    bigrams = F.transform(
        F.filter(
            pairs,
            lambda p: (F.length(p[0]) > 2) & (F.length(p[1]) > 2) & ~p[0].isin(*stop) & ~p[1].isin(*stop),
        ),
        lambda p: F.concat_ws(" ", p),
    )
    return F.concat(kept, bigrams)


def class_tfidf(
    clustered: DataFrame, top_n: int = 8, sizes: dict[int, int] | None = None, per_cluster_cap: int = 0, seed: int = 42
) -> dict[int, list[tuple[str, float]]]:
    """Per cluster id, its ``top_n`` (term, weight) by weight for non-noise sentences; terms are
    unigrams and bigrams.

    weight(t, c) = tf(t, c) / |c| · log(1 + A / f(t)), A = mean terms per cluster,
    f(t) = occurrences of t in all clusters (BERTopic's c-TF-IDF). Ties rank alphabetically.
    With ``sizes`` (non-noise sentences per cluster) and ``per_cluster_cap``, a cluster larger than
    the cap counts the words of about ``per_cluster_cap`` of its sentences, picked by
    hash(sentence_id, seed): the top terms of thousands of sentences are those of all of them.

    Spark counts tf(t, c) (one aggregation); the table of (cluster, term, count), bounded by the
    cap, comes to the driver once and the weights are numpy arithmetic there: the joins and the
    window of a Spark plan would each run jobs of their own for a few thousand rows.
    """
    kept = clustered.where(~F.col("is_noise"))
    large = {c: per_cluster_cap / n for c, n in (sizes or {}).items() if per_cluster_cap and n > per_cluster_cap}
    if large:
        share = F.coalesce(
            F.element_at(
                F.create_map(*[F.lit(v) for c, f in sorted(large.items()) for v in (c, f)]), F.col("cluster_id")
            ),
            F.lit(1.0),
        )
        bucket = F.pmod(F.xxhash64("sentence_id", F.lit(seed)), F.lit(1 << 20)) / F.lit(float(1 << 20))
        kept = kept.where(bucket < share)
    words = kept.select("cluster_id", F.explode(terms()).alias("term"))
    tf = words.groupBy("cluster_id", "term").count().toArrow().to_pandas()
    if tf.empty:
        return {}
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


_REPRESENTATIVES_ARROW = pa.schema([("cluster_id", pa.int32()), ("text", pa.string()), ("distance", pa.float64())])


def _nearest_distinct(frame: pd.DataFrame, per_cluster: int) -> pd.DataFrame:
    """Per cluster, the ``per_cluster`` distinct texts of smallest (distance, text), each at its
    smallest distance."""
    ordered = frame.sort_values(["cluster_id", "distance", "text"], kind="stable")
    distinct = ordered.drop_duplicates(["cluster_id", "text"], keep="first")
    return distinct.groupby("cluster_id", sort=True).head(per_cluster)


def representatives(clustered: DataFrame, per_cluster: int) -> dict[int, list[str]]:
    """Per cluster id, the ``per_cluster`` distinct non-noise sentences nearest to its centroid,
    nearest first (ties by text).

    One Spark job: each partition keeps its own nearest ``per_cluster`` distinct texts per cluster and
    the driver takes the nearest of those. Exact: a text among the global nearest is among the
    nearest of the partition that holds its smallest distance (every text ahead of it there is
    ahead of it globally, and fewer than ``per_cluster`` are).
    """

    def nearest(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        kept = [_nearest_distinct(b.to_pandas(), per_cluster) for b in batches if b.num_rows]
        if kept:
            found = _nearest_distinct(pd.concat(kept, ignore_index=True), per_cluster)
            yield pa.RecordBatch.from_pandas(found, schema=_REPRESENTATIVES_ARROW, preserve_index=False)

    rows = (
        clustered.where(~F.col("is_noise"))
        .select(F.col("cluster_id").cast("int").alias("cluster_id"), "text", F.col("distance").cast("double"))
        .mapInArrow(nearest, "cluster_id int, text string, distance double")
        .toArrow()
        .to_pandas()
    )
    out: dict[int, list[str]] = {}
    if rows.empty:
        return out
    found = _nearest_distinct(rows, per_cluster)
    for cluster_id, text in zip(found["cluster_id"], found["text"], strict=True):
        out.setdefault(int(cluster_id), []).append(str(text))
    return out
