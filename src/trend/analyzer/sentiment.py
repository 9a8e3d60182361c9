"""Sentence and review sentiment as Spark transforms.

``sentiment_method`` picks the scorer (docs/analyzer.md, "Sentiment"):

- ``vader`` (default): VADER's compound score, a pandas UDF; no labelled data needed.
- ``model``: a transformers text-classification model at ``sentiment_model_path``, loaded
  once per Python worker; its ``config.id2label`` says what each class means (2-, 3- and
  5-class star models).
- ``finetuned``: the encoder fine-tuned on a labelled file (``sentiment_finetune``), saved as
  a transformers model, shipped to the workers with ``SparkContext.addFile`` and scored like
  ``model``.
- ``trained`` / ``ratings``: a ``sentiment_head.SentimentHead`` fitted on the driver (from a
  labelled file, or from the dataset's own sentences labelled by their review's stars),
  broadcast, applied to the sentence embedding + text in ``mapInPandas``.

Every path yields (sentence_id, sentiment, sentiment_score) with the score in [-1, 1];
reviews get the mean of their sentences' scores.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType

from trend.analyzer.sentiment_head import SentimentHead, vader_compound
from trend.analyzer.vectors import arrow_column, rows_matrix

METHODS = ("vader", "model", "trained", "finetuned", "ratings")
# what every scorer returns per sentence, after the columns it was asked to keep
SENTENCE_FIELDS = [
    StructField("sentence_id", LongType()),
    StructField("sentiment", StringType()),
    StructField("sentiment_score", DoubleType()),
]


def _schema(sentences: DataFrame, keep: Sequence[str]) -> StructType:
    """The scored rows' schema: the ``keep`` columns of ``sentences``, then SENTENCE_FIELDS."""
    return StructType([sentences.schema[c] for c in keep] + SENTENCE_FIELDS)


class LabelMappingError(ValueError):
    """A model's id2label has a class this module cannot place on negative/neutral/positive."""


def label(value: float, threshold: float = 0.05) -> str:
    if value >= threshold:
        return "positive"
    if value <= -threshold:
        return "negative"
    return "neutral"


# --- the transformers path -------------------------------------------------------------

_STARS = re.compile(r"^\s*([1-5])\s*stars?\s*$", re.IGNORECASE)
_INDEXED = re.compile(r"^label_(\d+)$", re.IGNORECASE)
# LABEL_k of a model that only says how many classes it has
_BY_COUNT = {2: ("negative", "positive"), 3: ("negative", "neutral", "positive")}


def class_meaning(name: str, num_labels: int) -> str | int:
    """'negative' | 'neutral' | 'positive', or the number of stars (1..5) of a star class."""
    lowered = name.strip().lower()
    stars = _STARS.match(lowered)
    if stars:
        return int(stars.group(1))
    for polarity in ("negative", "neutral", "positive"):
        if lowered.startswith(polarity[:3]):
            return polarity
    indexed = _INDEXED.match(lowered)
    if indexed:
        k = int(indexed.group(1))
        if num_labels == 5 and k < 5:
            return k + 1
        if num_labels in _BY_COUNT and k < num_labels:
            return _BY_COUNT[num_labels][k]
    raise LabelMappingError(f"cannot tell the polarity of class {name!r} of a {num_labels}-class model")


def map_class_scores(probabilities: Mapping[str, float], num_labels: int, threshold: float) -> tuple[str, float]:
    """All classes' probabilities of one text → (label, score in [-1, 1]).

    Star classes: 1–2 negative, 3 neutral, 4–5 positive; score = (expected stars - 3) / 2.
    Polarity classes: score = P(positive) - P(negative); label = the most probable
    polarity (a 2-class model has no neutral class: there the score's threshold decides).
    """
    groups = {"negative": 0.0, "neutral": 0.0, "positive": 0.0}
    expected_stars, star_mass = 0.0, 0.0
    for name, p in probabilities.items():
        meaning = class_meaning(name, num_labels)
        if isinstance(meaning, int):
            expected_stars += meaning * p
            star_mass += p
            groups["negative" if meaning <= 2 else "neutral" if meaning == 3 else "positive"] += p
        else:
            groups[meaning] += p
    if star_mass > 0:
        score = (expected_stars / star_mass - 3.0) / 2.0
    else:
        score = groups["positive"] - groups["negative"]
    score = float(np.clip(score, -1.0, 1.0))
    has_neutral = star_mass > 0 or any(class_meaning(n, num_labels) == "neutral" for n in probabilities)
    if not has_neutral:
        return label(score, threshold), score
    return max(groups, key=lambda g: groups[g]), score


@functools.lru_cache(maxsize=2)
def _pipeline(model_path: str):
    from transformers import pipeline

    return pipeline("text-classification", model=model_path, tokenizer=model_path, device=-1, top_k=None)


def score_with_model(texts: list[str], model_path: str, threshold: float) -> list[tuple[str, float]]:
    pipe = _pipeline(model_path)
    num_labels = len(pipe.model.config.id2label)
    results = pipe(texts, truncation=True, batch_size=32)
    return [
        map_class_scores({r["label"]: float(r["score"]) for r in classes}, num_labels, threshold) for classes in results
    ]


def _model_sentiment(
    sentences: DataFrame, model_path: str, threshold: float, keep: Sequence[str], ship: bool = False
) -> DataFrame:
    """``ship``: copy the model folder to every executor (a model fitted by this run on the driver)."""
    shipped = None
    if ship:
        sentences.sparkSession.sparkContext.addFile(model_path, recursive=True)
        shipped = Path(model_path).name

    def model_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        from pyspark import SparkFiles

        path = SparkFiles.get(shipped) if shipped else model_path
        for batch in batches:
            scored = score_with_model(batch["text"].fillna("").tolist(), path, threshold)
            yield pd.DataFrame(
                {
                    **{c: batch[c] for c in keep},
                    "sentence_id": batch["sentence_id"],
                    "sentiment": [s for s, _ in scored],
                    "sentiment_score": [v for _, v in scored],
                }
            )

    return sentences.select(*keep, "sentence_id", "text").mapInPandas(model_batches, _schema(sentences, keep))


# --- VADER and trained heads ------------------------------------------------------------


def _vader_sentiment(sentences: DataFrame, threshold: float, keep: Sequence[str]) -> DataFrame:
    @F.pandas_udf(DoubleType())  # type: ignore[call-overload]  # stubs lack the type-hinted form
    def vader_score(texts: pd.Series) -> pd.Series:
        return pd.Series(vader_compound(texts.fillna("").tolist()), index=texts.index, dtype="float64")

    scored = sentences.select(*keep, "sentence_id", vader_score("text").alias("sentiment_score"))
    return scored.withColumn("sentiment", label_column("sentiment_score", threshold)).select(
        *keep, "sentence_id", "sentiment", "sentiment_score"
    )


def _head_sentiment(sentences: DataFrame, head: SentimentHead, keep: Sequence[str]) -> DataFrame:
    shared = sentences.sparkSession.sparkContext.broadcast(head)

    def head_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        model = shared.value
        for batch in batches:
            if batch.empty:
                continue
            vectors = rows_matrix(batch["vector"].tolist())
            labels, scores = model.predict(vectors, batch["text"].fillna("").tolist())
            yield pd.DataFrame(
                {
                    **{c: batch[c] for c in keep},
                    "sentence_id": batch["sentence_id"],
                    "sentiment": labels,
                    "sentiment_score": scores,
                }
            )

    frame = sentences.select(*keep, "sentence_id", "text", arrow_column(sentences).alias("vector"))
    return frame.mapInPandas(head_batches, _schema(sentences, keep))


def sentence_sentiment(
    sentences: DataFrame,
    model_path: str | None = None,
    threshold: float = 0.05,
    method: str | None = None,
    head: SentimentHead | None = None,
    keep: Sequence[str] = (),
) -> DataFrame:
    """(sentence_id, text[, features][, keep...]) → (keep..., sentence_id, sentiment, sentiment_score).

    ``keep``: columns of ``sentences`` carried through to the scored rows (so no join brings them back).

    ``method`` defaults to ``model`` when a model path is given, else ``vader``; ``trained``
    and ``ratings`` need a fitted ``head`` and the ``features`` vector column.
    """
    method = method or ("model" if model_path else "vader")
    if method == "vader":
        return _vader_sentiment(sentences, threshold, keep)
    if method == "model":
        if not model_path:
            raise ValueError("sentiment_method=model needs sentiment_model_path")
        return _model_sentiment(sentences, model_path, threshold, keep)
    if method == "finetuned":
        if not model_path:
            raise ValueError("sentiment_method=finetuned needs the fine-tuned model's folder")
        return _model_sentiment(sentences, model_path, threshold, keep, ship=True)
    if method in ("trained", "ratings"):
        if head is None:
            raise ValueError(f"sentiment_method={method} needs a fitted head")
        return _head_sentiment(sentences, head, keep)
    raise ValueError(f"unknown sentiment method {method!r}; one of {METHODS}")


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
