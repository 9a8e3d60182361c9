"""The transformers path: a tiny randomly initialised model saved to disk, run through Spark."""

from __future__ import annotations

import pytest

from trend.analyzer.sentiment import score_with_model, sentence_sentiment

pytestmark = pytest.mark.spark

WORDS = "the battery sound is great bad terrible fast slow lasts all day broke".split()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-sentiment")
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, ".", "!"]) + "\n")
    BertTokenizerFast(vocab_file=str(vocab)).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(WORDS) + 7,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=2,
        id2label={0: "NEGATIVE", 1: "POSITIVE"},
        label2id={"NEGATIVE": 0, "POSITIVE": 1},
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    return str(folder)


def test_model_path_scores_every_sentence_like_the_pipeline_does(spark, tiny_model):
    texts = ["The battery is great.", "The sound is terrible!", "Fast.", "It broke all day."]
    frame = spark.createDataFrame(list(enumerate(texts)), "sentence_id long, text string").coalesce(1)

    scored = {r["sentence_id"]: r for r in sentence_sentiment(frame, tiny_model, 0.05).collect()}

    direct = score_with_model(texts, tiny_model, 0.05)  # the same pipeline, on the driver
    assert sorted(scored) == [0, 1, 2, 3]
    for i, (label, value) in enumerate(direct):
        assert scored[i]["sentiment"] == label
        assert scored[i]["sentiment_score"] == pytest.approx(value, abs=1e-5)
        assert -1.0 <= value <= 1.0


def test_a_missing_model_fails_loudly(spark, tmp_path):
    frame = spark.createDataFrame([(1, "fine")], "sentence_id long, text string")
    with pytest.raises(Exception, match=r"(?i)(not|no such|does not appear|Incorrect path|valid)"):
        sentence_sentiment(frame, str(tmp_path / "nothing-here"), 0.05).collect()
