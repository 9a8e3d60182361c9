"""Sentence and review sentiment as Spark transforms.

With ``sentiment_model_path`` set, a transformers ``sentiment-analysis``
pipeline loaded once per Python worker scores the sentences; otherwise the
offline lexicon does. Reviews get the mean of their sentences' scores.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType

from trend.analyzer import lexicon

SENTENCE_SCHEMA = "sentence_id long, sentiment string, sentiment_score double"


@functools.lru_cache(maxsize=2)
def _pipeline(model_path: str):
    from transformers import pipeline

    return pipeline("text-classification", model=model_path, tokenizer=model_path, device=-1)


def _signed(label: str, probability: float, threshold: float) -> tuple[str, float]:
    name = label.lower()
    if "neu" in name:
        return "neutral", 0.0
    positive = "pos" in name or name in ("label_1", "1", "5 stars", "4 stars")
    value = probability if positive else -probability
    # A two-class model at p≈0.5 has no opinion: map [0.5, 1] onto [0, 1].
    value = (abs(value) - 0.5) * 2 * (1 if positive else -1)
    return lexicon.label(value, threshold), float(value)


def score_with_model(texts: list[str], model_path: str, threshold: float) -> list[tuple[str, float]]:
    results = _pipeline(model_path)(texts, truncation=True, batch_size=32)
    return [_signed(r["label"], float(r["score"]), threshold) for r in results]


def sentence_sentiment(sentences: DataFrame, model_path: str | None, threshold: float) -> DataFrame:
    """(sentence_id, text) → (sentence_id, sentiment, sentiment_score)."""
    if model_path:

        def model_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            for batch in batches:
                scored = score_with_model(batch["text"].fillna("").tolist(), model_path, threshold)
                yield pd.DataFrame(
                    {
                        "sentence_id": batch["sentence_id"],
                        "sentiment": [s for s, _ in scored],
                        "sentiment_score": [v for _, v in scored],
                    }
                )

        return sentences.select("sentence_id", "text").mapInPandas(model_batches, SENTENCE_SCHEMA)

    @F.pandas_udf(DoubleType())  # type: ignore[call-overload]  # stubs lack the type-hinted form
    def lexicon_score(texts: pd.Series) -> pd.Series:
        return texts.fillna("").map(lexicon.score).astype("float64")

    scored = sentences.select("sentence_id", lexicon_score("text").alias("sentiment_score"))
    return scored.withColumn("sentiment", label_column("sentiment_score", threshold)).select(
        "sentence_id", "sentiment", "sentiment_score"
    )


def label_column(column: str, threshold: float):
    return (
        F.when(F.col(column) >= threshold, "positive")
        .when(F.col(column) <= -threshold, "negative")
        .otherwise("neutral")
    )


def review_sentiment(sentences_scored: DataFrame, reviews: DataFrame, threshold: float) -> DataFrame:
    """Reviews (review_id, product_id, rating) + mean sentence score → sentiment_overall."""
    means = sentences_scored.groupBy("review_id").agg(F.avg("sentiment_score").alias("sentiment_score"))
    return (
        reviews.join(means, "review_id", "left")
        .withColumn("sentiment_score", F.coalesce("sentiment_score", F.lit(0.0)))
        .withColumn("sentiment_overall", label_column("sentiment_score", threshold))
    )
