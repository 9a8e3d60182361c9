"""Spark side of the job: read a dataset's sentences in an id range over JDBC (partitioned by id),
score them with the offline model in mapInPandas, and stream them to the driver in id order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from trend.embeddings import DIMENSION
from trend.spark import jdbc_options

if TYPE_CHECKING:  # workers import this module; keep the DB layer out of it
    from trend.spvp.offline import OfflineModel
    from trend.spvp.progress import Databases

SCORED_SCHEMA = (
    "sentence_id long, mall_product_id string, text string, "
    "scores array<float>, labels array<boolean>, uncertain boolean"
)


def _reader(spark, dbs: Databases, logical: str):
    s = dbs.settings
    return spark.read.format("jdbc").options(**jdbc_options(dbs.jdbc_url(logical), s.user, s.password))


def read_sentences(spark, dbs: Databases, sentences_sql: str, low: int, high: int, partitions: int):
    """Sentences whose id ``sentences_sql`` selects, with low < id <= high, and their product's mall_product_id.

    ``sentences_sql`` (trend.spvp.progress.dataset_sentences_sql) names the datasets' sentences
    in ds_analyzer; text and embedding come from analyzer_v2 on the same server.
    """
    query = (
        "(SELECT s.id, s.sentence AS text, s.embedding, COALESCE(p.mall_product_id, CONCAT('#', p.id)) "
        "AS mall_product_id FROM review_sentences s JOIN reviews r ON r.id = s.review_id "
        f"JOIN products p ON p.id = r.product_id WHERE s.id IN ({sentences_sql}) "
        f"AND s.id > {int(low)} AND s.id <= {int(high)}) AS s"
    )
    return (
        _reader(spark, dbs, "analyzer_v2")
        .option("dbtable", query)
        .option("customSchema", "id LONG")
        .option("partitionColumn", "id")
        .option("lowerBound", str(int(low) + 1))
        .option("upperBound", str(int(high) + 1))
        .option("numPartitions", str(max(1, partitions)))
        .load()
    )


def score_partitions(model: OfflineModel):
    """mapInPandas function: offline scores, labels and uncertainty per sentence."""

    def score(frames):
        import pandas as pd

        for frame in frames:
            if frame.empty:
                continue
            vectors = np.vstack([np.frombuffer(bytes(b), dtype="<f4") for b in frame["embedding"]])
            if vectors.shape[1] != DIMENSION:
                raise ValueError(f"embedding dimension {vectors.shape[1]} != {DIMENSION}")
            scores = model.scores(vectors, texts=list(frame["text"]))
            labels, uncertain = model.decide(scores)
            yield pd.DataFrame(
                {
                    "sentence_id": frame["id"].astype("int64"),
                    "mall_product_id": frame["mall_product_id"],
                    "text": frame["text"],
                    "scores": list(scores.astype("float32")),
                    "labels": list(labels),
                    "uncertain": uncertain,
                }
            )

    return score


def scored_in_order(
    spark, dbs: Databases, model: OfflineModel, sentences_sql: str, low: int, high: int, partitions: int
) -> Iterator:
    """Rows (sentence_id, mall_product_id, text, scores, labels, uncertain) in id order.

    JDBC partitions are consecutive id ranges (partitionColumn=id) and mapInPandas keeps
    partitions as they are, so sorting within partitions and
    fetching partitions in index order yields global id order without a shuffle.
    ``in_id_order`` checks it on the driver anyway.
    """
    scored = read_sentences(spark, dbs, sentences_sql, low, high, partitions).mapInPandas(
        score_partitions(model), schema=SCORED_SCHEMA
    )
    return in_id_order(scored.sortWithinPartitions("sentence_id").toLocalIterator(prefetchPartitions=True))


class OrderViolation(RuntimeError):
    pass


def in_id_order(rows) -> Iterator:
    previous = None
    for row in rows:
        if previous is not None and row["sentence_id"] <= previous:
            raise OrderViolation(f"sentence {row['sentence_id']} arrived after {previous}")
        previous = row["sentence_id"]
        yield row
