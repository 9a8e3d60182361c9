"""The transformers path: tiny randomly initialised models saved to disk (no download), one per
label scheme (2-, 3- and 5-class), run through Spark; labels follow each model's id2label."""

from __future__ import annotations

import pytest

from trend.analyzer.sentiment import score_with_model, sentence_sentiment

pytestmark = pytest.mark.spark

WORDS = "the battery sound is great bad terrible fast slow lasts all day broke".split()
TEXTS = ["The battery is great.", "The sound is terrible!", "Fast.", "It broke all day."]
SCHEMES = {
    "negative-positive": ["NEGATIVE", "POSITIVE"],
    "label-0-1": ["LABEL_0", "LABEL_1"],
    "three-class": ["negative", "neutral", "positive"],
    "five-stars": ["1 star", "2 stars", "3 stars", "4 stars", "5 stars"],
}


def _save_tiny_model(folder, id2label: list[str], seed: int) -> str:
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, ".", "!"]) + "\n")
    BertTokenizerFast(vocab_file=str(vocab)).save_pretrained(folder)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(WORDS) + 7,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=len(id2label),
        id2label=dict(enumerate(id2label)),
        label2id={name: i for i, name in enumerate(id2label)},
    )
    model = BertForSequenceClassification(config)
    with torch.no_grad():  # random heads sit near uniform: spread the logits so labels differ
        model.classifier.weight.mul_(40.0)
    model.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    return {
        name: _save_tiny_model(tmp_path_factory.mktemp(name), labels, seed)
        for seed, (name, labels) in enumerate(SCHEMES.items())
    }


def _class_probabilities(model_path: str, texts: list[str]) -> list[list[float]]:
    """Softmax of the model's logits, in id order, computed without the pipeline."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForSequenceClassification.from_pretrained(model_path).eval()
    with torch.no_grad():
        logits = model(**tokenizer(texts, return_tensors="pt", padding=True)).logits
    return torch.softmax(logits, dim=-1).tolist()


def _expected(scheme: str, p: list[float]) -> tuple[str, float]:
    if scheme == "five-stars":
        stars = sum((k + 1) * pk for k, pk in enumerate(p))
        groups = {"negative": p[0] + p[1], "neutral": p[2], "positive": p[3] + p[4]}
        return max(groups, key=groups.__getitem__), (stars - 3) / 2
    if scheme == "three-class":
        return ["negative", "neutral", "positive"][max(range(3), key=p.__getitem__)], p[2] - p[0]
    score = p[1] - p[0]
    return ("positive" if score >= 0.05 else "negative" if score <= -0.05 else "neutral"), score


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_model_labels_follow_id2label_in_spark(spark, tiny_models, scheme):
    frame = spark.createDataFrame(list(enumerate(TEXTS)), "sentence_id long, text string").coalesce(1)

    frame = frame.withColumn("review_id", frame["sentence_id"] * 10)
    scored_frame = sentence_sentiment(frame, tiny_models[scheme], 0.05, keep=["review_id"])
    scored = {r["sentence_id"]: r for r in scored_frame.collect()}
    assert all(r["review_id"] == i * 10 for i, r in scored.items())

    assert sorted(scored) == [0, 1, 2, 3]
    for i, p in enumerate(_class_probabilities(tiny_models[scheme], TEXTS)):
        label, score = _expected(scheme, p)
        assert scored[i]["sentiment"] == label, (scheme, TEXTS[i], p)
        assert scored[i]["sentiment_score"] == pytest.approx(score, abs=1e-4)
        assert -1.0 <= score <= 1.0
    assert score_with_model(TEXTS, tiny_models[scheme], 0.05) == [
        (scored[i]["sentiment"], pytest.approx(scored[i]["sentiment_score"], abs=1e-5)) for i in range(4)
    ]


def test_the_schemes_disagree_on_the_same_text(tiny_models):
    """Sanity of the fixture: the random models do not all say the same, so the mapping is exercised."""
    labels = {
        scheme: [label for label, _ in score_with_model(TEXTS, path, 0.05)] for scheme, path in tiny_models.items()
    }
    assert len({label for found in labels.values() for label in found}) >= 2


def test_a_missing_model_fails_loudly(spark, tmp_path):
    frame = spark.createDataFrame([(1, "fine")], "sentence_id long, text string")
    with pytest.raises(Exception, match=r"(?i)(not|no such|does not appear|Incorrect path|valid)"):
        sentence_sentiment(frame, str(tmp_path / "nothing-here"), 0.05).collect()
