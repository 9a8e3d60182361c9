"""Fitting the sentiment head a run asks for (``trained`` or ``ratings``) on the driver.

``trained``: the labelled JSONL file ``sentiment_training_file``, embedded with the same
MiniLM model as the sentences. A missing or malformed file fails the run (2005).

``finetuned``: the same file fine-tunes the MiniLM encoder end to end
(``sentiment_finetune``); the run scores sentences with that model, shipped to the workers.

``ratings``: weak supervision from the dataset itself: each sentence takes its review's
star rating as a label (>= 4 positive, <= 2 negative, 3 neutral), at most
``sentiment_ratings_max_per_class`` sentences per label are sampled to the driver. With
fewer rated reviews than ``sentiment_ratings_min_reviews`` (or too few of one polarity) the
run falls back to VADER, logs why and records it in the run result (``sentiment_note``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from trend.analyzer.errors import AnalysisError
from trend.analyzer.sentiment_head import (
    LABELS,
    NEGATIVE_MAX_STARS,
    POSITIVE_MIN_STARS,
    SentimentHead,
    TrainingDataError,
    fit_head,
    read_training_file,
)
from trend.analyzer.settings import AnalyzerConfig
from trend.analyzer.vectors import arrow_column, rows_matrix
from trend.status import ErrorCode

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SentimentPlan:
    method: str  # the method the run uses (vader after a fallback)
    head: SentimentHead | None = None
    note: str | None = None  # why the run fell back, or what trained the head
    model_path: str | None = None  # finetuned: the fitted model's folder


def plan(sentences: DataFrame, reviews: DataFrame, config: AnalyzerConfig, dataset_id: int | None = None):
    """The scorer this run uses; ``sentences`` has sentence_id, review_id, text, features."""
    if config.sentiment_method == "trained":
        return _from_file(config, dataset_id)
    if config.sentiment_method == "finetuned":
        return _finetuned(config, dataset_id)
    if config.sentiment_method == "ratings":
        return _from_ratings(sentences, reviews, config, dataset_id)
    return SentimentPlan(config.sentiment_method)


def _from_file(config: AnalyzerConfig, dataset_id: int | None) -> SentimentPlan:
    from trend import embeddings

    path = config.sentiment_training_file
    try:
        if config.embedding_model != embeddings.MODEL_NAME:
            raise TrainingDataError(
                f"the trained head embeds its examples with {embeddings.MODEL_NAME}, "
                f"the sentences use {config.embedding_model}"
            )
        examples = read_training_file(str(path))
        texts = [t for t, _ in examples]
        head = fit_head(
            embeddings.encode(texts), texts, [y for _, y in examples], f"file {path}", c=config.sentiment_head_c
        )
    except TrainingDataError as exc:
        raise AnalysisError(ErrorCode.SENTIMENT_MODEL_FAILED, str(exc), dataset_id) from None
    note = f"trained head from {path}: {head.examples}"
    log.info("sentiment: %s", note)
    return SentimentPlan("trained", head, note)


def _finetuned(config: AnalyzerConfig, dataset_id: int | None) -> SentimentPlan:
    from trend.analyzer.sentiment_finetune import FinetuneSettings, finetuned_model

    path = config.sentiment_training_file
    try:
        examples = read_training_file(str(path))
        settings = FinetuneSettings(epochs=config.sentiment_finetune_epochs, seed=config.seed)
        folder, cached = finetuned_model(examples, f"file {path}", settings)
    except TrainingDataError as exc:
        raise AnalysisError(ErrorCode.SENTIMENT_MODEL_FAILED, str(exc), dataset_id) from None
    note = f"encoder fine-tuned on {path} ({len(examples)} examples, {settings.epochs} epochs)"
    note += f", {'reused' if cached else 'saved'} at {folder}"
    log.info("sentiment: %s", note)
    return SentimentPlan("finetuned", None, note, str(folder))


def _from_ratings(sentences: DataFrame, reviews: DataFrame, config: AnalyzerConfig, dataset_id) -> SentimentPlan:
    rated = reviews.where(F.col("rating").isNotNull()).select("review_id", "rating")
    rated_reviews = rated.count()
    if rated_reviews < config.sentiment_ratings_min_reviews:
        return _fallback(
            f"ratings: {rated_reviews} rated reviews, fewer than sentiment_ratings_min_reviews="
            f"{config.sentiment_ratings_min_reviews}",
            dataset_id,
        )
    labelled = sentences.join(rated, "review_id").withColumn(
        "label",
        F.when(F.col("rating") >= POSITIVE_MIN_STARS, "positive")
        .when(F.col("rating") <= NEGATIVE_MAX_STARS, "negative")
        .otherwise("neutral"),
    )
    sample = _sample_per_label(labelled, config.sentiment_ratings_max_per_class, config.seed)
    texts = [r["text"] or "" for r in sample]
    labels = [r["label"] for r in sample]
    try:
        matrix = rows_matrix([r["features"] for r in sample])
        head = fit_head(matrix, texts, labels, "ratings", c=config.sentiment_head_c)
    except TrainingDataError as exc:
        return _fallback(f"ratings: {exc}", dataset_id)
    note = f"head trained on sentences labelled by their review's stars: {head.examples}"
    note += f" ({rated_reviews} rated reviews)"
    log.info("sentiment: %s", note)
    return SentimentPlan("ratings", head, note)


def _sample_per_label(labelled: DataFrame, per_class: int, seed: int) -> list:
    rows = []
    for name in LABELS:
        part = labelled.where(F.col("label") == name).orderBy(F.xxhash64("sentence_id", F.lit(seed)))
        rows += (
            part.select("sentence_id", "text", arrow_column(part).alias("features"), "rating", "label")
            .limit(per_class)
            .collect()
        )
    return rows


def _fallback(reason: str, dataset_id) -> SentimentPlan:
    note = f"fell back to vader: {reason}"
    log.warning("dataset %s: sentiment %s", dataset_id, note)
    return SentimentPlan("vader", None, note)
