"""crawl_sync and dataset_create run by Airflow itself (`airflow dags test`) against MariaDB.

The real scheduler, with assets chaining the DAGs, runs in test_airflow_scheduler_e2e.py.
"""

import json

import pytest

from trend.db import fetch_all
from trend.status import CrawlStatus, DatasetStatus, HistoryStatus, SpvpStatus
from trend_dev import synthetic
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
    cur.execute("INSERT INTO wishlist_to_groups (wishlist_id, group_id, wishlist_name) VALUES (3, 8, 'Audio')")
    cur.executemany(
        "INSERT INTO summary_wishlist_product_reviews (wishlist_id, mall_id, mall_product_id) VALUES (3, 99, %s)",
        [(p.mall_product_id,) for p in market.products],
    )
    gb.commit()
    events = asset_event_counts(env)

    _ok(dags_test(env, "crawl_sync"))
    assert _new_events(env, events) == {"crawl_results": 1}  # it claimed items: dataset_create may run
    gb.commit()
    statuses = fetch_all(gb, "SELECT crawl_status FROM summary_wishlist_product_reviews")
    assert {r["crawl_status"] for r in statuses} == {CrawlStatus.SUCCESS}

    events = asset_event_counts(env)
    _ok(dags_test(env, "dataset_create", conf={"wishlist_id": 3}))
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
    cur.execute("INSERT INTO wishlist_to_groups (wishlist_id, group_id, wishlist_name) VALUES (4, 1, 'x')")
    cur.execute("INSERT INTO summary_wishlist_products (wishlist_id, mall_id, mall_product_id) VALUES (4, 99, 'A')")
    gb.commit()
    result = dags_test(dict(airflow_home), "dataset_create", conf={"wishlist_id": 4})
    assert "WishlistNotReady" in result.stdout + result.stderr
    assert "wishlist 4 is not fully crawled" in result.stdout + result.stderr
    db["ds_analyzer"].commit()
    assert fetch_all(db["ds_analyzer"], "SELECT COUNT(*) AS n FROM datasets")[0]["n"] == 0
