"""Sentence sentiment: VADER default, the trained head, label mapping of transformers models."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.analyzer.conftest import cached_encode
from trend.analyzer import sentiment_head
from trend.analyzer.sentiment import LabelMappingError, class_meaning, map_class_scores, sentence_sentiment
from trend.analyzer.sentiment_head import TrainingDataError, fit_head, rating_label, read_training_file

# hand-written, not the synthetic generator's phrases
POSITIVE = [
    "The keyboard feels wonderful to type on.",
    "Honestly the best purchase I made this year.",
    "Battery life is excellent, a full day of work easily.",
    "The screen is bright and sharp.",
    "Customer service solved my problem in minutes, very helpful.",
    "I am really happy with how quiet it runs.",
    "Setup was painless and quick.",
    "It boots up in seconds, I love it.",
]
NEGATIVE = [
    "The trackpad stopped working after two weeks.",
    "Worst laptop I have ever owned.",
    "The fan is loud and annoying all the time.",
    "Support never answered my emails.",
    "The hinge snapped and the repair took a month.",
    "It overheats whenever I open more than three tabs.",
    "Terrible speakers, everything sounds tinny.",
    "I regret buying this, it keeps crashing.",
]
NEUTRAL = [
    "I bought it in March for my daughter.",
    "It has two USB ports and an HDMI output.",
    "The box contained the charger and a manual.",
    "I use it mainly for spreadsheets.",
    "It came with Windows preinstalled.",
    "We ordered the silver model.",
]


def test_vader_default_scores_polarity_negation_and_no_opinion(spark):
    texts = ["The screen is gorgeous.", "It is not good at all.", "The laptop arrived on Tuesday.", "Awful hinge."]
    frame = spark.createDataFrame(list(enumerate(texts)), "sentence_id long, text string")
    rows = {r["sentence_id"]: r for r in sentence_sentiment(frame).collect()}  # no arguments: VADER
    assert [rows[i]["sentiment"] for i in range(4)] == ["positive", "negative", "neutral", "negative"]
    assert rows[0]["sentiment_score"] > 0.05 > -0.05 > rows[1]["sentiment_score"]
    assert rows[2]["sentiment_score"] == 0.0
    assert all(-1 <= r["sentiment_score"] <= 1 for r in rows.values())


def test_trained_head_learns_the_labels_it_is_given():
    texts = POSITIVE + NEGATIVE + NEUTRAL
    labels = ["positive"] * len(POSITIVE) + ["negative"] * len(NEGATIVE) + ["neutral"] * len(NEUTRAL)
    head = fit_head(cached_encode(texts), texts, labels, "hand-written")
    assert head.examples == {"negative": 8, "neutral": 6, "positive": 8}
    unseen = ["Gorgeous display and great speakers.", "The battery died after a week, awful.", "It is grey."]
    predicted, scores = head.predict(cached_encode(unseen), unseen)
    assert scores[0] > 0 > scores[1]
    assert predicted[:2] == ["positive", "negative"]
    # the same sentences with the labels swapped: the head follows its data, not a built-in lexicon
    swapped = [{"positive": "negative", "negative": "positive"}.get(y, y) for y in labels]
    flipped = fit_head(cached_encode(texts), texts, swapped, "swapped")
    _, flipped_scores = flipped.predict(cached_encode(unseen[:2]), unseen[:2])
    assert flipped_scores[0] < 0 < flipped_scores[1]


def test_a_head_needs_both_polarities():
    texts = POSITIVE + NEUTRAL
    with pytest.raises(TrainingDataError, match="positive and 5 negative"):
        fit_head(cached_encode(texts), texts, ["positive"] * 8 + ["neutral"] * 6, "one-sided")


def test_trained_head_runs_in_spark_like_on_the_driver(spark):
    from pyspark.ml.functions import array_to_vector
    from pyspark.sql import functions as F

    texts = POSITIVE + NEGATIVE + NEUTRAL
    labels = ["positive"] * 8 + ["negative"] * 8 + ["neutral"] * 6
    head = fit_head(cached_encode(texts), texts, labels, "hand-written")
    unseen = ["Fantastic value for the money.", "The charger broke on day one.", "It weighs two kilos."]
    vectors = cached_encode(unseen)
    frame = spark.createDataFrame(
        [(i, t, v.tolist()) for i, (t, v) in enumerate(zip(unseen, vectors, strict=True))],
        "sentence_id long, text string, features array<float>",
    ).withColumn("features", array_to_vector("features"))
    frame = frame.withColumn("review_id", F.col("sentence_id") + 100)
    scored = sentence_sentiment(frame, method="trained", head=head, keep=["review_id"])
    rows = {r["sentence_id"]: r for r in scored.collect()}
    labels_direct, scores_direct = head.predict(vectors, unseen)
    for i in range(3):
        assert rows[i]["sentiment"] == labels_direct[i]
        assert rows[i]["sentiment_score"] == pytest.approx(scores_direct[i], abs=1e-6)
        assert rows[i]["review_id"] == i + 100


def test_training_file_is_validated(tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text(
        "\n".join(json.dumps({"text": t, "label": y}) for t, y in [("Great.", "positive"), ("Bad.", "negative")])
        + "\n\n"
    )
    assert read_training_file(good) == [("Great.", "positive"), ("Bad.", "negative")]
    with pytest.raises(TrainingDataError, match="does not exist"):
        read_training_file(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "Fine.", "label": "positive"}\n{"text": "Meh.", "label": "mixed"}\n')
    with pytest.raises(TrainingDataError, match=r"bad.jsonl:2"):
        read_training_file(bad)
    bad.write_text("not json\n")
    with pytest.raises(TrainingDataError, match=r"bad.jsonl:1"):
        read_training_file(bad)


def test_star_ratings_become_weak_labels():
    assert [rating_label(r) for r in (1, 2, 3, 4, 5)] == ["negative", "negative", "neutral", "positive", "positive"]
    assert rating_label(None) is None and rating_label(float("nan")) is None


def test_vader_features_carry_the_polarity():
    scores = sentiment_head.vader_scores(["I love it.", "I hate it.", ""])
    assert scores.shape == (3, 4)
    assert scores[0, 3] > 0 > scores[1, 3] and scores[2, 3] == 0
    assert np.allclose(scores[:, :3].sum(axis=1)[:2], 1.0, atol=0.01)


# --- transformers models: what each class means ---------------------------------------------


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["NEGATIVE", "POSITIVE"], ["negative", "positive"]),
        (["LABEL_0", "LABEL_1"], ["negative", "positive"]),
        (["LABEL_0", "LABEL_1", "LABEL_2"], ["negative", "neutral", "positive"]),
        (["negative", "neutral", "positive"], ["negative", "neutral", "positive"]),
        (["neg", "neu", "pos"], ["negative", "neutral", "positive"]),
        (["1 star", "2 stars", "3 stars", "4 stars", "5 stars"], [1, 2, 3, 4, 5]),
        (["LABEL_0", "LABEL_1", "LABEL_2", "LABEL_3", "LABEL_4"], [1, 2, 3, 4, 5]),
    ],
)
def test_class_names_map_to_polarities(names, expected):
    assert [class_meaning(n, len(names)) for n in names] == expected


def test_unknown_class_names_fail_loudly():
    with pytest.raises(LabelMappingError, match="joy"):
        class_meaning("joy", 6)


def test_class_probabilities_map_to_label_and_score():
    # 2 classes: P(pos) - P(neg), the threshold leaves an undecided model neutral
    assert map_class_scores({"NEGATIVE": 0.1, "POSITIVE": 0.9}, 2, 0.05) == ("positive", pytest.approx(0.8))
    assert map_class_scores({"LABEL_0": 0.51, "LABEL_1": 0.49}, 2, 0.05) == ("neutral", pytest.approx(-0.02))
    # 3 classes: the most probable polarity, score still P(pos) - P(neg)
    assert map_class_scores({"negative": 0.3, "neutral": 0.45, "positive": 0.25}, 3, 0.05) == (
        "neutral",
        pytest.approx(-0.05),
    )
    # 5 stars: 1-2 negative, 3 neutral, 4-5 positive; score = (expected stars - 3) / 2
    stars = {"1 star": 0.05, "2 stars": 0.05, "3 stars": 0.1, "4 stars": 0.3, "5 stars": 0.5}
    label, score = map_class_scores(stars, 5, 0.05)
    assert label == "positive" and score == pytest.approx((4.15 - 3) / 2)
    assert map_class_scores({"1 star": 1.0, "2 stars": 0, "3 stars": 0, "4 stars": 0, "5 stars": 0}, 5, 0.05) == (
        "negative",
        -1.0,
    )


@pytest.mark.parametrize(
    "values",
    [
        {"sentiment_method": "lexicon"},
        {"sentiment_method": "model"},  # no model path
        {"sentiment_model_path": "/models/x"},  # a path without sentiment_method=model
        {"sentiment_method": "trained"},  # no training file
        {"sentiment_method": "finetuned"},
        {"sentiment_method": "finetuned", "sentiment_training_file": "/data/x.jsonl", "sentiment_finetune_epochs": 0},
        {"sentiment_training_file": "/data/x.jsonl"},
        {"sentiment_method": "ratings", "sentiment_ratings_max_per_class": 1},
        {"sentiment_head_c": 0},
    ],
)
def test_sentiment_settings_that_cannot_work_are_refused(values):
    from trend.analyzer.settings import AnalyzerConfig
    from trend.config import ConfigError

    with pytest.raises(ConfigError, match="sentiment"):
        AnalyzerConfig.from_dict(values)


def test_sentiment_settings_default_to_vader():
    from trend.analyzer.settings import AnalyzerConfig

    config = AnalyzerConfig.from_dict({})
    assert config.sentiment_method == "vader" and config.sentiment_model_path is None
    model = AnalyzerConfig.from_dict({"sentiment_method": "model", "sentiment_model_path": "/m"})
    assert model.sentiment_method == "model"


def test_the_job_summary_shows_which_scorer_ran_and_why():
    import io

    from trend.analyzer.report import print_job_results

    base = {"dataset_id": 4, "status": 3, "error_code": None, "sentences": 9, "k": 2, "similarity_method": "exact"}
    fallback = {"method": "vader", "note": "fell back to vader: ratings: 3 rated reviews, fewer than 30"}
    log = "\n".join(
        [
            "ANALYZER_RESULT " + json.dumps({**base, "timings": {"extract": 1.0}, "sentiment": fallback}),
            "ANALYZER_RESULT " + json.dumps({**base, "timings": {}}),  # a log from before the field existed
        ]
    )
    out = io.StringIO()
    assert print_job_results(log, out) == 2
    first, second = out.getvalue().splitlines()
    assert "sentiment vader (fell back to vader: ratings: 3 rated reviews, fewer than 30)" in first
    assert "sentiment" not in second
