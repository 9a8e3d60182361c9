"""The supervised offline mapper on hand-written examples (real MiniLM embeddings), and its
stored examples (spvp_examples) in MariaDB."""

import pickle

import numpy as np
import pytest

from trend import embeddings
from trend.config import ConfigError
from trend.db import fetch_all
from trend.spvp import examples, offline, semeval
from trend.spvp.offline import Example, OfflineSettings
from trend.spvp.settings import SpvpConfig
from trend.spvp.viewpoints import parse_category, save_category

BATTERY = [
    "The battery lasts all day.",
    "Battery life is terrible, two hours at most.",
    "It needs charging every night.",
    "The battery drains fast when streaming.",
    "Great battery, I charge it twice a week.",
    "After a year the battery barely holds a charge.",
    "Charging takes forever.",
]
SCREEN = [
    "The screen is bright and sharp.",
    "The display has dead pixels.",
    "Colors on the screen look washed out.",
    "The retina display is gorgeous.",
    "Screen glare makes it hard to read outside.",
    "The monitor resolution is too low.",
]
NONE = [
    "I bought it for my son.",
    "We ordered it on Monday.",
    "My old one was a gift from my aunt.",
    "I am writing this from the airport.",
    "This is my third review on this site.",
    "We will see how it goes.",
]


def category(keyboard_examples=()):
    return parse_category(
        {
            "category": "laptops",
            "viewpoints": [
                {"ordinal": 1, "name": "Battery", "description": "battery life and charging", "examples": BATTERY},
                {"ordinal": 2, "name": "Screen", "description": "display quality", "examples": SCREEN},
                {
                    "ordinal": 3,
                    "name": "Keyboard",
                    "description": "keyboard and typing",
                    "examples": list(keyboard_examples),
                },
            ],
            "negative_examples": NONE,
        }
    )


@pytest.fixture(scope="module")
def model():
    return offline.fit(category(["The keys feel mushy."]), embeddings.encode, OfflineSettings(cv_folds=3))


def test_viewpoints_with_enough_examples_are_supervised_the_others_zero_shot(model):
    assert model.supervised.tolist() == [True, True, False]  # Keyboard has 1 example < min_examples
    assert model.head is not None and model.head.vectorizer is not None
    assert model.head.examples == {"file": len(BATTERY) + len(SCREEN) + 1 + len(NONE)}
    assert all(0.05 <= t <= 0.95 for t in model.thresholds[:2])


def test_supervised_mapper_maps_new_sentences_and_leaves_off_topic_ones(model):
    texts = [
        "My battery died after an hour of use.",
        "The display is crisp and vivid.",
        "Typing on this keyboard is a pleasure, the keys are great.",
        "I gave it to my brother for his birthday.",
    ]
    labels, _ = model.decide(model.scores(embeddings.encode(texts), texts=texts))
    assert labels.tolist() == [[True, False, False], [False, True, False], [False, False, True], [False, False, False]]


def test_fitted_model_pickles_and_needs_the_texts(model):
    texts = ["The battery is weak."]
    vectors = embeddings.encode(texts)
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(copy.scores(vectors, texts=texts), model.scores(vectors, texts=texts))
    with pytest.raises(ValueError, match="texts"):
        model.scores(vectors)
    assert len(pickle.dumps(model)) < 2_000_000


def test_stored_llm_examples_turn_a_zero_shot_viewpoint_supervised():
    keyboard = [
        "The keys are too shallow.",
        "Typing is comfortable.",
        "The keyboard backlight is uneven.",
        "Some keys stick.",
        "I love the keyboard layout.",
    ]
    extra = [Example(t, frozenset({3}), source="llm") for t in keyboard] + [
        Example("I use it every day at work.", frozenset(), source="llm")
    ]
    fitted = offline.fit(category(), embeddings.encode, OfflineSettings(cv_folds=3), extra=extra)
    assert fitted.supervised.tolist() == [True, True, True]
    assert fitted.head.examples["llm"] == len(extra)


def test_top1_guarantee_labels_an_unclaimed_sentence_above_the_floor():
    model = offline.OfflineModel(
        ordinals=np.array([1, 2]),
        prototypes=np.eye(2, dtype=np.float32),
        owner=np.array([0, 1]),
        kind=np.array([0, 0]),
        thresholds=np.array([0.6, 0.6], dtype=np.float32),
        settings=OfflineSettings(logit_band=0.2),
        head=offline.SupervisedHead(np.array([0, 1]), np.zeros((2, 2), np.float32), np.zeros(2, np.float32), floor=0.3),
    )
    scores = np.array([[0.9, 0.1], [0.4, 0.5], [0.2, 0.1], [0.32, 0.1]], dtype=np.float32)
    labels, uncertain = model.decide(scores)
    assert labels.tolist() == [[True, False], [False, True], [False, False], [True, False]]
    assert uncertain.tolist() == [False, False, False, True]  # logit(0.32) is within 0.2 of logit(0.3)


def test_build_category_keeps_the_train_sentences_without_a_chosen_category_as_negatives(tmp_path):
    xml = tmp_path / "train.xml"
    xml.write_text(
        "<Reviews><Review><sentences>"
        '<sentence id="1"><text>Battery is great.</text>'
        '<Opinions><Opinion category="BATTERY#GENERAL"/></Opinions></sentence>'
        '<sentence id="2"><text>Bought it Monday.</text></sentence>'
        '<sentence id="3"><text>Support was rude.</text>'
        '<Opinions><Opinion category="SUPPORT#QUALITY"/></Opinions></sentence>'
        "</sentences></Review></Reviews>"
    )
    train = semeval.parse(xml)
    built = semeval.build_category(train, top_n=1, train=train)
    assert [v.name for v in built.viewpoints] == ["BATTERY#GENERAL"]
    assert built.negative_examples == ("Bought it Monday.", "Support was rude.")
    assert semeval.build_category(train, top_n=1, train=train, negatives=False).negative_examples == ()


def test_examples_are_stored_once_and_load_merged(db):
    conn = db["ds_analyzer"]
    category_id = save_category(conn, category())
    assert examples.counts(conn, category_id) == {"file": len(NONE)}
    save_category(conn, category())  # idempotent
    decided = [
        examples.Decided("Keys stick.", frozenset({3}), 11),
        examples.Decided("Screen and battery both fine.", frozenset({1, 2}), 12),
        examples.Decided("We ordered it on Monday.", frozenset(), 13),  # also a file negative
    ]
    assert examples.store(conn, category_id, decided, "llm", {3: 99}) == 3  # one file negative already there
    assert examples.store(conn, category_id, decided, "llm", {3: 99}) == 0
    rows = fetch_all(conn, "SELECT COUNT(*) AS n FROM spvp_examples WHERE viewpoint_category_id = %s", (category_id,))
    assert rows[0]["n"] == len(NONE) + 3
    loaded = {e.text: e for e in examples.load(conn, category_id)}
    assert loaded["Screen and battery both fine."].ordinals == {1, 2}
    assert loaded["Keys stick."].source == "llm" and loaded["We ordered it on Monday."].ordinals == frozenset()
    assert len(loaded) == len(NONE) + 2


def test_offline_settings_are_validated_as_config_errors():
    with pytest.raises(ConfigError, match="classifier"):
        SpvpConfig.from_dict({"offline": {"classifier": "svm"}})
    assert SpvpConfig.from_dict({"offline": {"classifier": "prototype"}}).offline.classifier == "prototype"
