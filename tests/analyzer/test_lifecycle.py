"""Dataset claims against MariaDB: one owning run, heartbeats, abandoned runs reconciled, history 1 → 2."""

from __future__ import annotations

import time

import pytest

from tests.analyzer.conftest import create_dataset, dataset_row
from trend.analyzer import lifecycle
from trend.analyzer.errors import AnalysisError
from trend.config import db_name
from trend.datasets import sync_dataset_histories
from trend.db import connect, fetch_all, transaction
from trend.status import FAILED_PROGRESS, DatasetStatus, ErrorCode, HistoryStatus

GB = db_name("gb_console")


def _dataset_with_history(db) -> int:
    dataset_id = create_dataset(db["ds_analyzer"], {"product_ids": [1]})
    cur = db["gb_console"].cursor()
    cur.execute(
        "INSERT INTO wishlist_dataset_histories (wishlist_to_group_id, dataset_id) VALUES (1, %s)", (dataset_id,)
    )
    db["gb_console"].commit()
    return dataset_id


def _history_status(db, dataset_id: int) -> int:
    db["gb_console"].commit()
    rows = fetch_all(
        db["gb_console"], "SELECT status FROM wishlist_dataset_histories WHERE dataset_id = %s", (dataset_id,)
    )
    return int(rows[0]["status"])


def _age_heartbeat(conn, dataset_id: int, minutes: int) -> None:
    conn.cursor().execute(
        "UPDATE datasets SET heartbeat_at = NOW(3) - INTERVAL %s MINUTE WHERE id = %s", (minutes, dataset_id)
    )
    conn.commit()


def test_a_claim_records_its_run_and_only_that_run_may_write(db):
    ds = db["ds_analyzer"]
    dataset_id = _dataset_with_history(db)

    lifecycle.claim(ds, dataset_id, "run-a", gb_db=GB)
    row = dataset_row(ds, dataset_id)
    assert (row["status"], row["claim_token"]) == (DatasetStatus.PROCESSING, "run-a") and row["heartbeat_at"]
    assert _history_status(db, dataset_id) == HistoryStatus.PROCESSING  # 1 → 2 when analysis starts

    with pytest.raises(AnalysisError, match="by run run-a"):  # A is alive: B may not take it
        lifecycle.claim(ds, dataset_id, "run-b", gb_db=GB)
    with pytest.raises(AnalysisError, match="run run-b no longer owns"):
        lifecycle.set_progress(ds, dataset_id, "run-b", 50)
    assert lifecycle.fail(ds, dataset_id, "run-b", ErrorCode.UNEXPECTED, "not mine") is False
    with pytest.raises(AnalysisError, match="lost the dataset"), transaction(ds) as cur:
        lifecycle.complete(cur, dataset_id, "run-b")
    lifecycle.set_progress(ds, dataset_id, "run-a", 30)
    assert dataset_row(ds, dataset_id)["progress"] == 30

    _age_heartbeat(ds, dataset_id, lifecycle.STALE_MINUTES + 1)  # A died
    lifecycle.claim(ds, dataset_id, "run-b", gb_db=GB)
    with pytest.raises(AnalysisError, match="run run-a no longer owns"):
        with transaction(ds) as cur:  # what publish does first: A's late results are refused
            lifecycle.ensure_owner(cur, dataset_id, "run-a")
    assert lifecycle.fail(ds, dataset_id, "run-a", ErrorCode.UNEXPECTED, "late") is False
    row = dataset_row(ds, dataset_id)
    assert (row["status"], row["claim_token"], row["progress"]) == (DatasetStatus.PROCESSING, "run-b", 0)


def test_abandoned_processing_datasets_are_failed_by_reconciliation(db):
    ds = db["ds_analyzer"]
    abandoned, alive = _dataset_with_history(db), _dataset_with_history(db)
    for dataset_id, run in ((abandoned, "dead-run"), (alive, "live-run")):
        lifecycle.claim(ds, dataset_id, run, gb_db=GB)
    _age_heartbeat(ds, abandoned, 45)

    failed = lifecycle.fail_abandoned(ds, stale_minutes=30)

    assert [int(d["id"]) for d in failed] == [abandoned]
    row = dataset_row(ds, abandoned)
    assert (row["status"], row["progress"], row["error_code"]) == (
        DatasetStatus.FAILED,
        FAILED_PROGRESS,
        ErrorCode.RUN_ABANDONED,
    )
    assert "run dead-run sent no heartbeat" in row["error_message"]
    assert dataset_row(ds, alive)["status"] == DatasetStatus.PROCESSING
    assert lifecycle.fail_abandoned(ds, stale_minutes=30) == []  # idempotent
    sync_dataset_histories(connect())
    assert _history_status(db, abandoned) == HistoryStatus.FAILED
    lifecycle.claim(ds, abandoned, "rerun", gb_db=GB)  # a failed dataset can be analysed again
    assert _history_status(db, abandoned) == HistoryStatus.PROCESSING


def test_heartbeat_keeps_the_claim_alive_and_stops_when_it_is_lost(db):
    ds = db["ds_analyzer"]
    dataset_id = _dataset_with_history(db)
    lifecycle.claim(ds, dataset_id, "run-a")
    _age_heartbeat(ds, dataset_id, 5)
    with lifecycle.Heartbeat(lambda: connect("ds_analyzer"), dataset_id, "run-a", interval=0.1) as beat:
        time.sleep(0.5)
        assert fetch_all(
            ds, "SELECT heartbeat_at > NOW(3) - INTERVAL 5 SECOND AS fresh FROM datasets WHERE id = %s", (dataset_id,)
        )[0]["fresh"]
        _age_heartbeat(ds, dataset_id, lifecycle.STALE_MINUTES + 1)
        lifecycle.claim(ds, dataset_id, "run-b")
        time.sleep(0.5)
        assert not beat._thread.is_alive()  # noticed it lost the claim
    assert dataset_row(ds, dataset_id)["claim_token"] == "run-b"


def test_heartbeat_waits_out_the_publish_transaction_without_a_deadlock(db, caplog):
    """The publish locks the row, works for a while, then sets status 3: beats meanwhile skip, none fails."""
    ds = db["ds_analyzer"]
    dataset_id = _dataset_with_history(db)
    lifecycle.claim(ds, dataset_id, "run-a")
    caplog.set_level("DEBUG", logger="trend.analyzer.lifecycle")
    with lifecycle.Heartbeat(lambda: connect("ds_analyzer"), dataset_id, "run-a", interval=0.2):
        time.sleep(0.5)
        with transaction(ds) as cur:  # what publish does: lock, work, complete
            lifecycle.ensure_owner(cur, dataset_id, "run-a")
            time.sleep(lifecycle.HEARTBEAT_LOCK_WAIT_SECONDS + 1.5)  # a beat waits for the lock and gives up
            lifecycle.complete(cur, dataset_id, "run-a")
        time.sleep(0.6)  # a beat after the publish: the run finished, it did not lose its claim
    assert "heartbeat skipped, the row is locked" in caplog.text
    assert "heartbeat failed" not in caplog.text and "lost its claim" not in caplog.text
    assert "finished; stopping heartbeats" in caplog.text
    assert dataset_row(ds, dataset_id)["status"] == DatasetStatus.COMPLETED
