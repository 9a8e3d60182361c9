"""Per-cluster keywords (class-based TF-IDF over unigrams and bigrams) and representative sentences."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
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
) -> DataFrame:
    """(cluster_id, term, weight, rank) for non-noise sentences; terms are unigrams and bigrams.

    weight(t, c) = tf(t, c) / |c| · log(1 + A / f(t)), A = mean terms per cluster,
    f(t) = occurrences of t in all clusters (BERTopic's c-TF-IDF). Ties rank alphabetically.
    With ``sizes`` (non-noise sentences per cluster) and ``per_cluster_cap``, a cluster larger than
    the cap counts the words of about ``per_cluster_cap`` of its sentences, picked by
    hash(sentence_id, seed): the top terms of thousands of sentences are those of all of them.
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
    # counted once (cluster × distinct terms rows, small): the three uses below would each re-read the text
    tf = words.groupBy("cluster_id", "term").count().localCheckpoint()
    per_cluster = tf.groupBy("cluster_id").agg(F.sum("count").alias("cluster_words"))
    per_term = tf.groupBy("term").agg(F.sum("count").alias("term_total"))
    average = per_cluster.agg(F.avg("cluster_words").alias("average"))  # one row, joined: no extra job
    weighted = (
        tf.join(per_cluster, "cluster_id")
        .join(per_term, "term")
        .crossJoin(F.broadcast(average))
        .withColumn(
            "weight", F.col("count") / F.col("cluster_words") * F.log(1 + F.col("average") / F.col("term_total"))
        )
    )
    order = Window.partitionBy("cluster_id").orderBy(F.desc("weight"), F.asc("term"))
    return (
        weighted.withColumn("rank", F.row_number().over(order))
        .where(F.col("rank") <= top_n)
        .select("cluster_id", "term", "weight", "rank")
    )


def representatives(clustered: DataFrame, per_cluster: int) -> DataFrame:
    """The ``per_cluster`` distinct non-noise sentences nearest to each centroid."""
    distinct = (
        clustered.where(~F.col("is_noise")).groupBy("cluster_id", "text").agg(F.min("distance").alias("distance"))
    )
    order = Window.partitionBy("cluster_id").orderBy("distance", "text")
    return (
        distinct.withColumn("rank", F.row_number().over(order))
        .where(F.col("rank") <= per_cluster)
        .select("cluster_id", "text", "rank")
    )
