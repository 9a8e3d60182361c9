"""The offline classifier for real: MiniLM embeddings of synthetic sentences against their truth."""

import numpy as np
import pytest

from trend import embeddings
from trend.spvp import offline
from trend.spvp.offline import OfflineSettings
from trend.spvp.viewpoints import parse_category
from trend_dev import spvp_eval as evaluate


@pytest.fixture(scope="module")
def synthetic_eval():
    category, texts, truth = evaluate.synthetic_inputs(seed=11, products_per_category=2, reviews_per_product=6)
    return category, texts, truth, embeddings.encode(texts)


def test_zero_shot_maps_synthetic_sentences_to_their_aspect(synthetic_eval):
    category, _texts, truth, vectors = synthetic_eval
    model = offline.fit(category, embeddings.encode)
    labels, _ = model.decide(model.scores(vectors))
    scores = evaluate.score(truth, labels, [v.name for v in category.viewpoints])
    assert scores.micro_f1 > 0.85, scores
    filler = ~truth.any(axis=1)
    assert filler.any() and labels[filler].any(axis=1).mean() < 0.5  # most filler maps to nothing


def test_examples_calibrate_per_viewpoint_thresholds():
    doc = {
        "category": "c",
        "viewpoints": [
            {
                "ordinal": 1,
                "name": "Battery",
                "examples": ["The battery lasts two days.", "Battery drains fast.", "It needs charging every night."],
            },
            {
                "ordinal": 2,
                "name": "Shipping",
                "examples": ["Delivery was quick.", "The parcel arrived late.", "Shipping took a week."],
            },
            {"ordinal": 3, "name": "Screen", "description": "display quality"},
        ],
    }
    settings = OfflineSettings(zero_shot_threshold=0.42)
    model = offline.fit(parse_category(doc), embeddings.encode, settings)
    assert model.thresholds[2] == pytest.approx(0.42)  # no examples: the default
    assert model.thresholds[0] != pytest.approx(0.42) and model.thresholds[1] != pytest.approx(0.42)
    vectors = embeddings.encode(["My battery died after an hour.", "The box came two days late."])
    labels, _ = model.decide(model.scores(vectors))
    assert labels.tolist() == [[True, False, False], [False, True, False]]


def test_uncertain_means_a_score_near_a_threshold():
    model = offline.OfflineModel(
        ordinals=np.array([1, 2]),
        prototypes=np.eye(2, dtype=np.float32),
        owner=np.array([0, 1]),
        kind=np.array([0, 0]),
        thresholds=np.array([0.5, 0.5], dtype=np.float32),
        settings=OfflineSettings(margin=0.1, band=0.05),
    )
    scores = np.array([[0.9, 0.1], [0.52, 0.1], [0.2, 0.1], [0.7, 0.65]], dtype=np.float32)
    labels, uncertain = model.decide(scores)
    assert labels.tolist() == [[True, False], [True, False], [False, False], [True, True]]
    assert uncertain.tolist() == [False, True, False, False]
