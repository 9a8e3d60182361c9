"""sentiment_method=finetuned: the MiniLM encoder fine-tuned on a labelled file, cached by content,
saved as a transformers classifier the model path scores."""

from __future__ import annotations

import json

import pytest

from tests.analyzer.test_sentiment import NEGATIVE, NEUTRAL, POSITIVE
from trend.analyzer import sentiment_finetune
from trend.analyzer.sentiment import score_with_model
from trend.analyzer.sentiment_finetune import FinetuneSettings, finetuned_model
from trend.analyzer.sentiment_head import TrainingDataError

EXAMPLES = [(t, "positive") for t in POSITIVE] + [(t, "negative") for t in NEGATIVE]
QUICK = FinetuneSettings(epochs=6, batch_size=8, learning_rate=1e-4)


def test_a_finetuned_model_learns_its_examples_and_is_reused_from_the_cache(tmp_path):
    folder, cached = finetuned_model(EXAMPLES, "test", QUICK, cache_dir=tmp_path)
    assert not cached and (folder / "config.json").is_file()
    config = json.loads((folder / "config.json").read_text())
    assert config["id2label"] == {"0": "negative", "1": "positive"}  # too few neutral examples: two classes
    scored = score_with_model([t for t, _ in EXAMPLES], str(folder), 0.05)
    right = sum(label == y for (label, _), (_, y) in zip(scored, EXAMPLES, strict=True))
    assert right >= len(EXAMPLES) - 2, scored
    assert all(-1 <= score <= 1 for _, score in scored)

    again, cached = finetuned_model(EXAMPLES, "test", QUICK, cache_dir=tmp_path)
    assert cached and again == folder
    other, cached = finetuned_model(EXAMPLES[1:], "test", QUICK, cache_dir=tmp_path)
    assert not cached and other != folder
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([folder.name, other.name])  # no staging left


def test_three_classes_when_neutral_examples_are_enough():
    examples = EXAMPLES + [(t, "neutral") for t in NEUTRAL]
    kept = sentiment_finetune.kept_examples(examples, "test", min_per_class=5)
    assert {y for _, y in kept} == {"positive", "negative", "neutral"}
    assert len(sentiment_finetune.kept_examples(examples, "test", min_per_class=7)) == len(EXAMPLES)


@pytest.mark.parametrize(
    "examples, message",
    [
        (EXAMPLES[:8], "at least 5 positive and 5 negative"),
        ([*EXAMPLES, ("fine", "great")], "labels must be one of"),
    ],
)
def test_examples_that_cannot_train_fail_before_training(tmp_path, examples, message):
    with pytest.raises(TrainingDataError, match=message):
        finetuned_model(examples, "test", QUICK, cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []
