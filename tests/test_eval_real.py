"""make eval-real: its metrics on hand-made labels, and the harness end to end on the hand-written sample XML."""

from __future__ import annotations

import os
import re
import sys

import numpy as np
import pytest
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score, normalized_mutual_info_score

from trend.config import REPO_ROOT
from trend.db import fetch_all
from trend.status import Mall
from trend_dev import eval_real, real_baselines
from trend_dev.real_metrics import NOISE, cluster_scores, sentiment_scores, single_polarity

SAMPLE_TEST = REPO_ROOT / "include" / "eval" / "laptops_sample_test.xml"
SAMPLE_TRAIN = REPO_ROOT / "include" / "eval" / "laptops_sample_train.xml"
F = frozenset
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # Spark's Python workers need the venv (pandas)


def test_cluster_scores_match_sklearn_over_single_category_sentences():
    categories = [F({"A"}), F({"A"}), F({"B"}), F({"B"}), F({"C"}), F(), F({"A", "B"}), F({"C"})]
    clusters = [0, 0, 1, 1, 1, 0, 2, 2]
    got = cluster_scores(categories, clusters)
    gold, found = ["A", "A", "B", "B", "C", "C"], [0, 0, 1, 1, 1, 2]  # no-category and two-category rows out
    assert got.scored == 6 and got.k == 3 and got.outliers == 0
    assert got.ami == pytest.approx(adjusted_mutual_info_score(gold, found))
    assert got.nmi == pytest.approx(normalized_mutual_info_score(gold, found))
    assert got.ari == pytest.approx(adjusted_rand_score(gold, found))


def test_noise_is_one_cluster_of_its_own_and_outliers_count_every_sentence():
    categories = [F({"A"}), F({"A"}), F({"B"}), F({"B"}), F()]
    clusters = [0, 7, 1, 7, 7]
    noise = [False, True, False, True, True]
    got = cluster_scores(categories, clusters, noise)
    gold, found = ["A", "A", "B", "B"], [0, NOISE, 1, NOISE]  # cluster 7 of noise rows is not a cluster
    assert got.nmi == pytest.approx(normalized_mutual_info_score(gold, found))
    assert got.k == 2 and got.outliers == pytest.approx(3 / 5)
    perfect = cluster_scores(categories[:4], [0, 0, 1, 1])
    assert (perfect.ami, perfect.nmi, perfect.ari) == (pytest.approx(1.0), pytest.approx(1.0), pytest.approx(1.0))


def test_sentiment_scores_keep_sentences_of_one_polarity():
    gold = [F({"positive"}), F({"negative"}), F({"neutral"}), F({"positive", "negative"}), F(), F({"negative"})]
    labels = ["positive", "neutral", "neutral", "positive", "positive", "positive"]
    scores = [0.8, -0.01, 0.0, 0.9, 0.1, 0.2]
    got = sentiment_scores(gold, labels, scores)
    assert (got.scored, got.polar) == (4, 3)  # mixed and opinion-less sentences out
    assert got.three_class == pytest.approx(2 / 4)  # positive and neutral right
    assert got.pos_neg == pytest.approx(2 / 3)  # sign of the score: the neutral -0.01 counts as negative
    assert sentiment_scores(gold, labels).pos_neg == pytest.approx(1 / 3)  # without scores: the label's sign
    assert [single_polarity(g) for g in gold] == ["positive", "negative", "neutral", None, None, "negative"]
    assert "pos/neg accuracy=0.667 3-class accuracy=0.500" in got.line("default")


def test_spvp_baseline_threshold_by_cv_learns_separable_labels():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4))
    y = np.stack([x[:, 0] > 0, x[:, 1] > 0.5], axis=1)
    predicted = real_baselines.logistic_multilabel(x, y, x)
    assert (predicted == y).mean() > 0.9


@pytest.mark.spark
def test_eval_real_runs_the_pipeline_on_the_sample(db, spark, tmp_path, capsys):
    options = eval_real.Options(xml=[SAMPLE_TEST, SAMPLE_TRAIN], train=SAMPLE_TRAIN, mall=Mall.RAKUTEN)
    out = eval_real.run(spark, options, tmp_path)
    printed = capsys.readouterr().out
    assert all(line in printed for line in out.lines)
    assert "71 sentences, 18 reviews" in out.lines[0] and "mall 2 (RAKUTEN)" in out.lines[0]

    def numbers(prefix: str) -> dict[str, float]:
        [line] = [x for x in out.lines if x.startswith(prefix)]
        return {k: float(v) for k, v in re.findall(r"([\w/-]+(?: (?:accuracy|share))?)=([0-9.]+)", line)}

    clusters = numbers("clusters: ")
    assert clusters["k"] >= 2 and all(0 <= clusters[m] <= 1 for m in ("NMI", "outliers"))
    assert -1 <= clusters["AMI"] <= 1 and -1 <= clusters["ARI"] <= 1
    assert numbers("baseline clusters (sklearn KMeans k=")["k"] == clusters["k"]
    for prefix in ("sentiment (default)", "baseline sentiment (VADER)", "baseline sentiment (logistic"):
        found = numbers(prefix)
        assert 0 <= found["pos/neg accuracy"] <= 1 and 0 <= found["3-class accuracy"] <= 1
    assert 0 <= numbers("spvp: ")["micro-F1"] <= 1 and 0 <= numbers("baseline spvp")["micro-F1"] <= 1
    assert 0 <= numbers("spvp router")["uncertain share"] <= 1
    trained = next(x for x in out.lines if x.startswith("sentiment (trained)"))
    assert trained.endswith("n/a (sentiment_method not available)") or "3-class accuracy=" in trained
    assert out.lines[-1].startswith("timings (s): ") and "analyzer_batch" in out.lines[-1]
    # The marketplace went through the store as the stated mall, and SPVP wrote its mappings.
    assert {r["mall_id"] for r in fetch_all(db["analyzer_v2"], "SELECT DISTINCT mall_id FROM reviews")} == {2}
    assert fetch_all(db["ds_analyzer"], "SELECT COUNT(*) AS n FROM review_sentence_spvp")[0]["n"] > 0
