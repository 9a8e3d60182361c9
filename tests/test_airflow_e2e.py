"""crawl_sync and dataset_create run by Airflow itself (`airflow dags test`) against MariaDB.

The real scheduler, with assets chaining the DAGs, runs in test_airflow_scheduler_e2e.py.
"""

import json

import pytest

from trend.db import fetch_all
from trend.status import CrawlStatus, DatasetStatus, HistoryStatus, SpvpStatus
from trend_dev import synthetic, wishlists
from trend_dev.local_airflow import asset_event_counts, dags_test

pytestmark = pytest.mark.airflow


def _ok(result):
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def _new_events(env, before: dict[str, int]) -> dict[str, int]:
    after = asset_event_counts(env)
    return {name: n - before.get(name, 0) for name, n in after.items() if n != before.get(name, 0)}


def test_crawl_then_dataset_creation_through_airflow(db, airflow_home, tmp_path):
    market = synthetic.generate(seed=21, products_per_category=1, reviews_per_product=3)
    env = dict(airflow_home, TP_LOCAL_MARKETPLACE_DUMP=str(market.write_dump(tmp_path)))
    gb = db["gb_console"]
    cur = gb.cursor()
    wishlist = wishlists.wishlist(cur, "Audio", group_id=8)
    for p in market.products:
        wishlists.product_with_reviews(cur, wishlist, p.mall_product_id)
    gb.commit()
    events = asset_event_counts(env)

    _ok(dags_test(env, "crawl_sync"))
    assert _new_events(env, events) == {"crawl_results": 1}  # it claimed items: dataset_create may run
    gb.commit()
    statuses = fetch_all(gb, "SELECT crawl_status FROM summary_wishlist_product_reviews")
    assert {r["crawl_status"] for r in statuses} == {CrawlStatus.SUCCESS}

    events = asset_event_counts(env)
    _ok(dags_test(env, "dataset_create", conf={"wishlist_id": wishlist}))
    assert _new_events(env, events) == {"pending_datasets": 1}
    db["ds_analyzer"].commit()
    datasets = fetch_all(db["ds_analyzer"], "SELECT group_id, settings, status, progress FROM datasets")
    assert len(datasets) == 1 and datasets[0]["group_id"] == 8
    assert len(json.loads(datasets[0]["settings"])["product_ids"]) == len(market.products)
    assert (datasets[0]["status"], datasets[0]["progress"]) == (DatasetStatus.PENDING, 0)
    gb.commit()
    history = fetch_all(gb, "SELECT status, spvp_status FROM wishlist_dataset_histories")
    assert [(h["status"], h["spvp_status"]) for h in history] == [(HistoryStatus.PENDING, SpvpStatus.WAITING)]

    # A rerun through Airflow creates nothing twice, and emits no asset event (analyzer_batch stays idle).
    events = asset_event_counts(env)
    _ok(dags_test(env, "dataset_create"))
    assert _new_events(env, events) == {}
    db["ds_analyzer"].commit()
    assert fetch_all(db["ds_analyzer"], "SELECT COUNT(*) AS n FROM datasets")[0]["n"] == 1


def test_manual_trigger_for_unfinished_wishlist_fails_clearly(db, airflow_home):
    gb = db["gb_console"]
    cur = gb.cursor()
    wishlist = wishlists.wishlist(cur, "x")
    wishlists.product(cur, wishlist, "A")
    gb.commit()
    result = dags_test(dict(airflow_home), "dataset_create", conf={"wishlist_id": wishlist})
    assert "WishlistNotReady" in result.stdout + result.stderr
    assert f"wishlist {wishlist} is not fully crawled" in result.stdout + result.stderr
    db["ds_analyzer"].commit()
    assert fetch_all(db["ds_analyzer"], "SELECT COUNT(*) AS n FROM datasets")[0]["n"] == 0


def test_bad_wishlist_fails_visibly_while_the_others_become_datasets(db, airflow_home, tmp_path):
    market = synthetic.generate(seed=21, products_per_category=1, reviews_per_product=2)
    env = dict(airflow_home, TP_LOCAL_MARKETPLACE_DUMP=str(market.write_dump(tmp_path)))
    gb = db["gb_console"]
    cur = gb.cursor()
    ghost = wishlists.wishlist(cur, "ghost")  # crawled "successfully", but its product never arrived
    item = wishlists.product(cur, ghost, "GONE-1")
    good = wishlists.wishlist(cur, "good")
    wishlists.product_with_reviews(cur, good, market.products[0].mall_product_id)
    gb.commit()
    _ok(dags_test(env, "crawl_sync"))
    cur.execute("UPDATE summary_wishlist_products SET crawl_status = 2 WHERE id = %s", (item,))
    gb.commit()
    events = asset_event_counts(env)

    result = dags_test(env, "dataset_create")
    out = result.stdout + result.stderr
    assert f"{ghost}: WishlistNotReady: wishlist {ghost} crawled no products" in out  # the failing task says why
    db["ds_analyzer"].commit()
    datasets = fetch_all(db["ds_analyzer"], "SELECT name FROM datasets")
    assert [d["name"] for d in datasets] == ["good"]
    assert _new_events(env, events) == {"pending_datasets": 1}  # analysis still starts for the good one


def test_retry_a_wishlists_failed_items_from_the_ui_dag(db, airflow_home, tmp_path):
    market = synthetic.generate(seed=21, products_per_category=1, reviews_per_product=2)
    env = dict(airflow_home, TP_LOCAL_MARKETPLACE_DUMP=str(market.write_dump(tmp_path)))
    gb = db["gb_console"]
    cur = gb.cursor()
    wishlist = wishlists.wishlist(cur, "retry me")
    wishlists.product_with_reviews(cur, wishlist, market.products[0].mall_product_id)
    gb.commit()
    cur.execute("UPDATE summary_wishlist_products SET crawl_status = 4, crawl_error = 'canceled by operator'")
    cur.execute("UPDATE summary_wishlist_product_reviews SET crawl_status = 3, crawl_error = 'gave up'")
    gb.commit()

    _ok(dags_test(env, "crawl_retry_failed", conf={"wishlist_id": wishlist}))
    gb.commit()
    for name in ("summary_wishlist_products", "summary_wishlist_product_reviews"):
        rows = fetch_all(gb, f"SELECT crawl_status, crawl_error, attempt_count FROM {name}")
        assert [(r["crawl_status"], r["crawl_error"], r["attempt_count"]) for r in rows] == [
            (CrawlStatus.SUCCESS, None, 0)
        ]
