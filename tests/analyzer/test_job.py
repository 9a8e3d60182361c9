"""The whole job against MariaDB and the local SparkSession: results, lifecycle, failures."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from tests.analyzer.conftest import cached_encode, create_dataset, dataset_row, result_rows, small_market
from tests.analyzer.test_labelling_openai import FakeOpenAI, _completion
from trend.analyzer.job import run
from trend.analyzer.labelling import TfidfLabeller
from trend.analyzer.publish import STAGED
from trend.analyzer.settings import AnalyzerConfig
from trend.crawl.local_source import MarketplaceDump, crawl_all_reviews
from trend.datasets import sync_dataset_histories
from trend.db import connect, fetch_all
from trend.status import FAILED_PROGRESS, DatasetStatus, ErrorCode, HistoryStatus, SpvpStatus

pytestmark = [pytest.mark.spark, pytest.mark.slow]

FAST = AnalyzerConfig(k_max=5, k_sample_size=400, kmeans_max_iter=10, kmeans_restarts=1)


class ProgressWatchingLabeller(TfidfLabeller):
    """The built-in labeller, noting the dataset's status while labelling runs."""

    def __init__(self, conn, dataset_id):
        super().__init__()
        self.conn, self.dataset_id, self.seen = conn, dataset_id, []

    def label(self, cluster):
        row = dataset_row(self.conn, self.dataset_id)
        self.seen.append((row["status"], row["progress"]))
        return super().label(cluster)


def _add_history(gb, dataset_id: int) -> None:
    cur = gb.cursor()
    cur.execute(
        "INSERT INTO wishlist_dataset_histories (wishlist_to_group_id, dataset_id) VALUES (1, %s)",
        (dataset_id,),
    )
    gb.commit()


def _history_after_sync(gb, dataset_id: int) -> tuple[int, int]:
    sync_dataset_histories(gb)
    gb.commit()
    row = fetch_all(
        gb, "SELECT status, spvp_status FROM wishlist_dataset_histories WHERE dataset_id = %s", (dataset_id,)
    )[0]
    return row["status"], row["spvp_status"]


def _staging_rows(conn) -> int:
    conn.commit()
    return sum(fetch_all(conn, f"SELECT COUNT(*) AS n FROM stg_{name}")[0]["n"] for name in STAGED)


def test_analysis_writes_every_result_table(db, market_ids, spark):
    ds = db["ds_analyzer"]
    dataset_id = create_dataset(ds, {"product_ids": market_ids})
    _add_history(db["gb_console"], dataset_id)
    watcher = ProgressWatchingLabeller(ds, dataset_id)

    result = run(spark, dataset_id, FAST, labeller=watcher)

    assert result.ok, result.error_message
    row = dataset_row(ds, dataset_id)
    assert (row["status"], row["progress"], row["error_code"]) == (DatasetStatus.COMPLETED, 100, None)
    assert row["claim_token"] == result.run_id and row["heartbeat_at"]  # the run that published it
    assert watcher.seen and set(watcher.seen) == {(DatasetStatus.PROCESSING, 50)}
    rows = result_rows(ds, dataset_id)
    # the document's names: processed_name on products, details hang off ds_analyzer.products.id,
    # similarities and AI-viewpoint mappings carry mall product ids
    products = {
        p["id"]: p
        for p in fetch_all(
            ds,
            "SELECT id, crawler_product_id, mall_product_id, processed_name FROM products WHERE dataset_id = %s",
            (dataset_id,),
        )
    }
    details = fetch_all(ds, "SELECT product_id FROM product_details WHERE dataset_id = %s", (dataset_id,))
    assert {d["product_id"] for d in details} == set(products)
    assert all(p["processed_name"] for p in products.values())
    mall_ids = {p["mall_product_id"] for p in products.values()}
    sims = fetch_all(
        ds,
        "SELECT mall_product_id_a, mall_product_id_b, similarity_score FROM product_similarities WHERE dataset_id = %s",
        (dataset_id,),
    )
    assert all(s["mall_product_id_a"] in mall_ids and s["mall_product_id_b"] in mall_ids for s in sims)
    aivp = fetch_all(
        ds, "SELECT DISTINCT mall_product_id FROM review_sentence_aivp WHERE dataset_id = %s", (dataset_id,)
    )
    assert {a["mall_product_id"] for a in aivp} <= mall_ids and aivp
    sentence_count = fetch_all(db["analyzer_v2"], "SELECT COUNT(*) AS n FROM review_sentences")[0]["n"]
    review_count = fetch_all(db["analyzer_v2"], "SELECT COUNT(*) AS n FROM reviews")[0]["n"]
    assert len(rows["products"]) == len(rows["product_details"]) == len(market_ids)
    assert len(rows["reviews"]) == review_count
    assert len(rows["review_sentences"]) == sentence_count == result.sentences
    assert 2 <= len(rows["ai_viewpoints"]) == result.k <= 5
    # every product keeps its top-k (k=5, 6 products → 5 partners each), best first
    assert len(rows["product_similarities"]) == len(market_ids) * 5
    # sentences: non-noise ones point at their cluster's viewpoint, noise ones at none
    viewpoint_of_cluster = {
        r["cluster_id"]: r["id"]
        for r in fetch_all(ds, "SELECT id, cluster_id FROM ai_viewpoints WHERE dataset_id = %s", (dataset_id,))
    }
    sentences = fetch_all(
        ds,
        "SELECT sentence_id, cluster_id, is_noise, ai_viewpoint_id, sentiment "
        "FROM review_sentences WHERE dataset_id = %s",
        (dataset_id,),
    )
    for s in sentences:
        expected = None if s["is_noise"] else viewpoint_of_cluster[s["cluster_id"]]
        assert s["ai_viewpoint_id"] == expected
        assert s["sentiment"] in ("positive", "negative", "neutral")
    assert len(rows["review_sentence_aivp"]) == sum(1 for s in sentences if not s["is_noise"])
    sizes = fetch_all(ds, "SELECT SUM(sentence_count) AS n FROM ai_viewpoints WHERE dataset_id = %s", (dataset_id,))[0][
        "n"
    ]
    assert sizes == len(rows["review_sentence_aivp"])
    assert _staging_rows(ds) == 0
    assert _history_after_sync(db["gb_console"], dataset_id) == (HistoryStatus.COMPLETED, SpvpStatus.PROCESSING)

    # a finished dataset is not claimed again unless forced; nothing changes
    again = run(spark, dataset_id, FAST)
    assert again.error_code == ErrorCode.INVALID_STATE and again.status is None
    assert dataset_row(ds, dataset_id)["status"] == DatasetStatus.COMPLETED
    assert result_rows(ds, dataset_id) == rows


def _more_reviews(tmp_path, copies: int) -> None:
    """Crawls ``copies`` more reviews per product: earlier reviews' texts under new review ids."""
    market = small_market()
    by_product: dict[str, list] = {}
    for review in market.reviews:
        by_product.setdefault(review.mall_product_id, []).append(review)
    market.reviews = [
        dataclasses.replace(review, mall_review_id=f"{review.mall_review_id}-again")
        for reviews in by_product.values()
        for review in reviews[:copies]
    ]
    crawl_all_reviews(
        MarketplaceDump.load(market.write_dump(tmp_path / "more")), lambda: connect("analyzer_v2"), encode=cached_encode
    )


def _viewpoints(ds, dataset_id: int) -> dict[int, list[float]]:
    ds.commit()  # a fresh snapshot
    rows = fetch_all(ds, "SELECT cluster_id, centroid FROM ai_viewpoints WHERE dataset_id = %s", (dataset_id,))
    return {r["cluster_id"]: json.loads(r["centroid"]) for r in rows}


def test_a_rerun_after_new_reviews_keeps_the_ids_of_matching_clusters(db, market_ids, spark, tmp_path):
    ds = db["ds_analyzer"]
    config = FAST.replace(k_max=12, labeller="tfidf")
    dataset_id = create_dataset(ds, {"product_ids": market_ids})
    first = run(spark, dataset_id, config)
    before = _viewpoints(ds, dataset_id)
    assert first.ok and first.kept_cluster_ids == [] and sorted(before) == list(range(first.k))
    assert all(abs(np.linalg.norm(c) - 1) < 1e-4 for c in before.values())
    old = {
        r["sentence_id"]: r["cluster_id"] for r in fetch_all(ds, "SELECT sentence_id, cluster_id FROM review_sentences")
    }

    _more_reviews(tmp_path, copies=1)
    second = run(spark, dataset_id, config.replace(force=True))
    after = _viewpoints(ds, dataset_id)
    assert second.ok and second.sentences > first.sentences
    kept = set(second.kept_cluster_ids)
    assert len(kept) >= first.k - 1 and kept <= set(before) & set(after)
    for cluster_id in kept:  # a kept id names the same place in embedding space
        assert float(np.dot(before[cluster_id], after[cluster_id])) >= config.match_threshold
    assert all(c > max(before) for c in set(after) - kept)  # new clusters never reuse an old id
    ds.commit()
    new = {
        r["sentence_id"]: r["cluster_id"] for r in fetch_all(ds, "SELECT sentence_id, cluster_id FROM review_sentences")
    }
    same = sum(new[s] == c for s, c in old.items() if c in kept)
    assert same >= 0.75 * sum(1 for c in old.values() if c in kept)  # most old sentences stay put (80% here)


def test_failure_mid_publish_keeps_the_previous_results(db, market_ids, spark):
    ds = db["ds_analyzer"]
    dataset_id = create_dataset(ds, {"product_ids": market_ids})
    assert run(spark, dataset_id, FAST).ok
    before = result_rows(ds, dataset_id)

    broken = run(spark, dataset_id, FAST.replace(force=True, fail_point="publish:ai_viewpoints"))

    assert broken.status == DatasetStatus.FAILED
    row = dataset_row(ds, dataset_id)
    assert (row["status"], row["progress"], row["error_code"]) == (
        DatasetStatus.FAILED,
        FAILED_PROGRESS,
        ErrorCode.DATABASE_WRITE_FAILED,
    )
    assert "publish:ai_viewpoints" in row["error_message"]
    assert result_rows(ds, dataset_id) == before  # old rows intact, nothing half-replaced
    assert _staging_rows(ds) == 0

    # bad input on another dataset over the same products leaves this one alone
    other = create_dataset(ds, {"product_ids": [999999]})
    assert run(spark, other, FAST).error_code == ErrorCode.EMPTY_DATASET
    assert result_rows(ds, dataset_id) == before


def test_failure_between_staged_writes_leaves_no_rows(db, market_ids, spark):
    ds = db["ds_analyzer"]
    dataset_id = create_dataset(ds, {"product_ids": market_ids})
    _add_history(db["gb_console"], dataset_id)

    result = run(spark, dataset_id, FAST.replace(fail_point="staging:reviews"))

    assert result.error_code == ErrorCode.DATABASE_WRITE_FAILED
    row = dataset_row(ds, dataset_id)
    assert (row["status"], row["progress"]) == (DatasetStatus.FAILED, FAILED_PROGRESS)
    assert all(rows == [] for rows in result_rows(ds, dataset_id).values())
    assert _staging_rows(ds) == 0
    assert _history_after_sync(db["gb_console"], dataset_id)[0] == HistoryStatus.FAILED


def test_llm_labels_are_paid_once_and_budget_failures_are_recorded(db, market_ids, spark, monkeypatch):
    ds = db["ds_analyzer"]
    monkeypatch.setenv("TP_TEST_LLM_KEY", "sk-test")
    reply = (200, _completion(json.dumps({"name": "Aspect", "description": "What reviews discuss."})))
    with FakeOpenAI([], default=reply) as server:
        config = FAST.replace(
            llm_base_url=server.base_url,
            llm_api_key_env="TP_TEST_LLM_KEY",
            llm_model="test-model",
            llm_backoff_seconds=0.01,
        )
        dataset_id = create_dataset(ds, {"product_ids": market_ids})
        first = run(spark, dataset_id, config)
        paid = len(server.requests)
        rerun = run(spark, dataset_id, config.replace(force=True))
        starved = create_dataset(ds, {"product_ids": market_ids})
        run(spark, starved, config.replace(labeller="openai", llm_token_budget=100, llm_model="other-model"))
        fallback = create_dataset(ds, {"product_ids": market_ids})
        degraded = run(spark, fallback, config.replace(llm_token_budget=100, llm_model="other-model"))

    assert first.ok and paid == first.k
    assert {c.source for c in first.clusters} == {"openai"}
    assert rerun.ok and len(server.requests) == paid  # the rerun found every label in the cache
    assert {c.source for c in rerun.clusters} == {"cache"}
    names = fetch_all(ds, "SELECT name, label_source FROM ai_viewpoints WHERE dataset_id = %s", (dataset_id,))
    assert {n["label_source"] for n in names} == {"cache"}
    assert sorted(n["name"] for n in names) == ["Aspect"] + [f"Aspect ({i})" for i in range(2, len(names) + 1)]
    row = dataset_row(ds, starved)
    assert (row["status"], row["error_code"], row["progress"]) == (
        DatasetStatus.FAILED,
        ErrorCode.LLM_BUDGET_EXHAUSTED,
        FAILED_PROGRESS,
    )
    assert all(rows == [] for rows in result_rows(ds, starved).values())
    # labeller auto: the same budget failure falls back to offline labels, recorded per viewpoint
    assert degraded.ok and degraded.label_fallback.startswith(f"[{int(ErrorCode.LLM_BUDGET_EXHAUSTED)}]")
    sources = fetch_all(ds, "SELECT DISTINCT label_source FROM ai_viewpoints WHERE dataset_id = %s", (fallback,))
    assert sources == [{"label_source": "tfidf_fallback"}]


def _break_one_embedding(av, value):
    cur = av.cursor()
    cur.execute("UPDATE review_sentences SET embedding = %s ORDER BY id LIMIT 1", (value,))
    av.commit()


def _product_without_reviews(av):
    cur = av.cursor()
    cur.execute("INSERT INTO products (mall_id, mall_product_id, name) VALUES (99, 'NO-REVIEWS', 'Lonely')")
    av.commit()
    return int(cur.lastrowid)


@pytest.mark.parametrize(
    "case, expected",
    [
        ("settings not an object", ErrorCode.MALFORMED_SETTINGS),
        ("product ids not integers", ErrorCode.MALFORMED_SETTINGS),
        ("no products", ErrorCode.MALFORMED_SETTINGS),
        ("only unknown products", ErrorCode.EMPTY_DATASET),
        ("a missing embedding", ErrorCode.MISSING_EMBEDDINGS),
        ("a short embedding", ErrorCode.EMBEDDING_DIMENSION_MISMATCH),
    ],
)
def test_bad_input_fails_with_a_clear_code_and_loses_nothing(db, market_ids, spark, case, expected):
    ds, av = db["ds_analyzer"], db["analyzer_v2"]
    settings = {"product_ids": market_ids}
    if case == "settings not an object":  # (the JSON column itself rejects non-JSON text)
        settings = '["product_ids", 1]'
    elif case == "product ids not integers":
        settings = {"product_ids": [str(p) for p in market_ids]}
    elif case == "no products":
        settings = {"product_ids": []}
    elif case == "only unknown products":
        settings = {"product_ids": [_product_without_reviews(av)]}
    elif case == "a missing embedding":
        _break_one_embedding(av, None)
    elif case == "a short embedding":
        _break_one_embedding(av, b"\x00" * 40)
    sentences_before = fetch_all(av, "SELECT COUNT(*) AS n FROM review_sentences")[0]["n"]
    dataset_id = create_dataset(ds, settings)

    result = run(spark, dataset_id, FAST)

    row = dataset_row(ds, dataset_id)
    assert (row["status"], row["progress"], row["error_code"]) == (DatasetStatus.FAILED, FAILED_PROGRESS, expected)
    assert result.error_code == expected and row["error_message"]
    assert all(rows == [] for rows in result_rows(ds, dataset_id).values())
    av.commit()
    assert fetch_all(av, "SELECT COUNT(*) AS n FROM review_sentences")[0]["n"] == sentences_before


def test_unknown_dataset_is_reported_without_writing(db, spark):
    result = run(spark, 424242, FAST)
    assert result.error_code == ErrorCode.DATASET_NOT_FOUND and result.status is None
    assert fetch_all(db["ds_analyzer"], "SELECT COUNT(*) AS n FROM datasets")[0]["n"] == 0


def test_products_without_reviews_are_left_out_and_recorded_not_fatal(db, market_ids, spark):
    ds, av = db["ds_analyzer"], db["analyzer_v2"]
    lonely = _product_without_reviews(av)
    dataset_id = create_dataset(ds, {"product_ids": [*market_ids, lonely, 999999]})

    result = run(spark, dataset_id, FAST)

    assert result.ok and sorted(result.excluded) == [lonely, 999999]
    row = dataset_row(ds, dataset_id)
    assert (row["status"], row["progress"], row["error_code"]) == (DatasetStatus.COMPLETED, 100, None)
    products = fetch_all(ds, "SELECT crawler_product_id FROM products WHERE dataset_id = %s", (dataset_id,))
    assert sorted(p["crawler_product_id"] for p in products) == market_ids
    excluded = fetch_all(
        ds,
        "SELECT product_id, mall_product_id, reason FROM dataset_excluded_products WHERE dataset_id = %s "
        "ORDER BY product_id",
        (dataset_id,),
    )
    assert [(e["product_id"], e["mall_product_id"], e["reason"]) for e in excluded] == [
        (lonely, "NO-REVIEWS", "no reviews"),
        (999999, None, "unknown product id (not in analyzer_v2.products)"),
    ]


def test_dataset_fails_only_when_no_product_remains_and_says_which(db, spark):
    ds, av = db["ds_analyzer"], db["analyzer_v2"]
    lonely = _product_without_reviews(av)
    dataset_id = create_dataset(ds, {"product_ids": [lonely]})

    result = run(spark, dataset_id, FAST)

    assert result.error_code == ErrorCode.EMPTY_DATASET and f"{lonely}: no reviews" in result.error_message
    excluded = fetch_all(ds, "SELECT product_id FROM dataset_excluded_products WHERE dataset_id = %s", (dataset_id,))
    assert [e["product_id"] for e in excluded] == [lonely]


def test_spark_job_exits_non_zero_when_it_recorded_an_input_error(db):
    """spark-submit's exit status is what SparkSubmitOperator sees: status 9 must not look like success."""
    import os
    import subprocess
    import sys

    from trend.config import REPO_ROOT

    ds = db["ds_analyzer"]
    dataset_id = create_dataset(ds, {"product_ids": [999999]})
    job = subprocess.run(
        [sys.executable, "spark_jobs/analyzer_batch.py", "--dataset-id", str(dataset_id), "--master", "local[1]"],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert job.returncode == 3, job.stdout[-2000:] + job.stderr[-2000:]
    row = dataset_row(ds, dataset_id)
    assert (row["status"], row["error_code"]) == (DatasetStatus.FAILED, ErrorCode.EMPTY_DATASET)
