"""sentiment_method through the whole job: star-rating weak supervision, its recorded fallback,
a trained head from a labelled file, and a broken training file failing with 2005."""

from __future__ import annotations

import json

import pytest

from tests.analyzer.conftest import create_dataset, dataset_row
from tests.analyzer.test_sentiment import NEGATIVE, NEUTRAL, POSITIVE
from trend.analyzer.job import run
from trend.analyzer.settings import AnalyzerConfig
from trend.db import fetch_all
from trend.status import DatasetStatus, ErrorCode

pytestmark = [pytest.mark.spark, pytest.mark.slow]

FAST = AnalyzerConfig(k_max=3, k_sample_size=300, kmeans_max_iter=5, kmeans_restarts=1, labeller="tfidf")


def _sentences(ds, dataset_id):
    return fetch_all(ds, "SELECT sentiment, sentiment_score FROM review_sentences WHERE dataset_id = %s", (dataset_id,))


def test_ratings_train_a_head_or_fall_back_with_the_reason_recorded(db, market_ids, spark):
    ds = db["ds_analyzer"]
    rated = fetch_all(db["analyzer_v2"], "SELECT COUNT(*) AS n FROM reviews WHERE rating IS NOT NULL")[0]["n"]
    first = create_dataset(ds, {"product_ids": market_ids})
    result = run(spark, first, FAST.replace(sentiment_method="ratings", sentiment_ratings_min_reviews=rated))
    assert result.ok, result.error_message
    assert result.sentiment_method == "ratings"
    assert "review's stars" in result.sentiment_note and f"{rated} rated reviews" in result.sentiment_note
    rows = _sentences(ds, first)
    assert {r["sentiment"] for r in rows} >= {"positive", "negative"}
    assert all(-1 <= r["sentiment_score"] <= 1 for r in rows)

    second = create_dataset(ds, {"product_ids": market_ids}, name="too few ratings")
    fallback = run(spark, second, FAST.replace(sentiment_method="ratings", sentiment_ratings_min_reviews=rated + 1))
    assert fallback.ok and fallback.sentiment_method == "vader"
    assert fallback.sentiment_note.startswith("fell back to vader: ratings:") and str(rated) in fallback.sentiment_note


def test_a_trained_head_scores_the_dataset_and_a_broken_file_fails_with_2005(db, market_ids, spark, tmp_path):
    ds = db["ds_analyzer"]
    examples = tmp_path / "labelled.jsonl"
    lines = [(t, "positive") for t in POSITIVE] + [(t, "negative") for t in NEGATIVE]
    lines += [(t, "neutral") for t in NEUTRAL]
    examples.write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in lines))
    good = create_dataset(ds, {"product_ids": market_ids})
    result = run(spark, good, FAST.replace(sentiment_method="trained", sentiment_training_file=str(examples)))
    assert result.ok, result.error_message
    assert result.sentiment_method == "trained" and str(examples) in result.sentiment_note
    assert {r["sentiment"] for r in _sentences(ds, good)} >= {"positive", "negative"}

    examples.write_text('{"text": "Nice.", "label": "great"}\n')
    bad = create_dataset(ds, {"product_ids": market_ids}, name="bad training file")
    failed = run(spark, bad, FAST.replace(sentiment_method="trained", sentiment_training_file=str(examples)))
    assert failed.status == DatasetStatus.FAILED and failed.error_code == ErrorCode.SENTIMENT_MODEL_FAILED
    assert "labelled.jsonl:1" in failed.error_message
    assert dataset_row(ds, bad)["error_code"] == ErrorCode.SENTIMENT_MODEL_FAILED


def test_a_finetuned_encoder_scores_the_dataset_and_a_rerun_reuses_it(db, market_ids, spark, tmp_path, monkeypatch):
    monkeypatch.setenv("TP_MODEL_CACHE", str(tmp_path / "models"))
    ds = db["ds_analyzer"]
    examples = tmp_path / "labelled.jsonl"
    lines = [(t, "positive") for t in POSITIVE] + [(t, "negative") for t in NEGATIVE]
    examples.write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in lines))
    config = FAST.replace(
        sentiment_method="finetuned", sentiment_training_file=str(examples), sentiment_finetune_epochs=2
    )
    first = create_dataset(ds, {"product_ids": market_ids})
    result = run(spark, first, config)
    assert result.ok, result.error_message
    assert result.sentiment_method == "finetuned" and "saved at" in result.sentiment_note
    rows = _sentences(ds, first)
    assert {r["sentiment"] for r in rows} >= {"positive", "negative"}
    assert all(-1 <= r["sentiment_score"] <= 1 for r in rows)
    assert len(list((tmp_path / "models").iterdir())) == 1

    second = create_dataset(ds, {"product_ids": market_ids}, name="same file again")
    again = run(spark, second, config)
    assert again.ok and "reused at" in again.sentiment_note
    scores = {r["sentiment_score"] for r in _sentences(ds, second)}
    assert scores == {r["sentiment_score"] for r in rows}  # the same model gives the same scores
