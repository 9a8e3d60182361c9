"""Batch commits, resets and status transitions against MariaDB (no Spark needed)."""

import pytest

from tests.spvp import seed
from trend.db import fetch_all, transaction
from trend.spvp import progress
from trend.spvp.progress import Mapping, ProgressConflict, SpvpFailure
from trend.spvp.runner import run
from trend.status import ErrorCode, SpvpStatus


class Boom(RuntimeError):
    pass


def _boom():
    raise Boom("crash inside the commit transaction")


def _m(sentence_id, ordinal):
    return Mapping(sentence_id, ordinal, "P1", 0.5, "offline")


@pytest.fixture
def category(db):
    return seed.load_viewpoints(db)


def test_batch_commit_is_atomic_and_skips_what_a_viewpoint_already_processed(db, category):
    conn = db["ds_analyzer"]
    last = {o: 0 for o in range(1, 9)}
    last[2] = 15  # viewpoint 2 already processed up to 15
    with transaction(conn) as cur:
        cur.execute(
            "UPDATE specific_viewpoints SET last_object_id = 15 WHERE viewpoint_category_id = %s "
            "AND ordinal_number = 2",
            (category,),
        )
    with pytest.raises(Boom):
        progress.commit_batch(conn, category, last, 10, [_m(3, 1), _m(4, 2)], before_commit=_boom)
    assert seed.mappings(db, category) == [] and seed.last_ids(db, category)[1] == 0  # rolled back

    new = progress.commit_batch(conn, category, last, 10, [_m(3, 1), _m(4, 2), _m(9, 2)])
    assert seed.mappings(db, category) == [(3, 1, "P1")]  # sentence 4 and 9 were done by viewpoint 2
    assert new == seed.last_ids(db, category) == {**{o: 10 for o in range(1, 9)}, 2: 15}
    with pytest.raises(ProgressConflict, match="moved away"):
        progress.commit_batch(conn, category, last, 10, [_m(3, 1)])  # stale view of last_object_id
    assert seed.mappings(db, category) == [(3, 1, "P1")]


def test_reset_moves_back_and_drops_mappings_above(db, category):
    conn = db["ds_analyzer"]
    last = progress.commit_batch(conn, category, {o: 0 for o in range(1, 9)}, 20, [_m(5, 1), _m(12, 1), _m(18, 3)])
    assert progress.reset_progress(conn, category, to_id=10, ordinals=[1]) == 1
    assert seed.mappings(db, category) == [(5, 1, "P1"), (18, 3, "P1")]
    assert seed.last_ids(db, category)[1] == 10 and seed.last_ids(db, category)[3] == 20
    assert progress.reset_progress(conn, category, to_id=10, ordinals=[1]) == 0  # idempotent
    assert progress.reset_progress(conn, category) == 8
    assert seed.mappings(db, category) == [] and set(seed.last_ids(db, category).values()) == {0}
    with pytest.raises(SpvpFailure, match="not found"):
        progress.reset_progress(conn, 999)
    assert last[2] == 20


def test_status_transitions_are_idempotent(db, category):
    ds = seed.make_dataset(db, category, [1])
    gb = db["gb_console"]
    assert progress.start(gb, ds) is True
    progress.fail(gb, ds, ErrorCode.LLM_INVALID_OUTPUT, "bad answer")
    progress.fail(gb, ds, ErrorCode.LLM_INVALID_OUTPUT, "bad answer")
    assert seed.history(db, ds) == {"spvp_status": 9, "spvp_error": "E2003 LLM_INVALID_OUTPUT: bad answer"}
    assert progress.start(gb, ds) is False  # a failed dataset waits for a manual re-run ...
    progress.complete(gb, ds)  # (not from FAILED)
    assert seed.history(db, ds)["spvp_status"] == 9
    assert progress.start(gb, ds, resume_failed=True) is True  # ... or an Airflow retry
    assert seed.history(db, ds) == {"spvp_status": 2, "spvp_error": None}
    progress.complete(gb, ds)
    assert progress.start(gb, ds, resume_failed=True) is False  # a retry does not redo completed work
    assert progress.start(gb, ds, rerun=True) is True
    assert seed.history(db, ds) == {"spvp_status": 2, "spvp_error": None}
    progress.complete(gb, ds)
    progress.complete(gb, ds)
    assert seed.history(db, ds)["spvp_status"] == 3
    progress.fail(gb, ds, ErrorCode.UNEXPECTED, "late")  # a completed dataset is not failed afterwards
    assert seed.history(db, ds)["spvp_status"] == 3
    assert progress.requeue_completed(gb, [ds]) == 1 and progress.pending_datasets(gb) == [ds]


def test_waiting_dataset_is_refused_and_left_waiting(db, category):
    ds = seed.make_dataset(db, category, [1], spvp_status=SpvpStatus.WAITING)
    with pytest.raises(SpvpFailure, match="not analysed yet") as err:
        run(None, ds)
    assert err.value.code is ErrorCode.INVALID_STATE
    assert seed.history(db, ds)["spvp_status"] == 1


@pytest.mark.parametrize(
    "problem, code",
    [
        ("unknown_category", "E1001 MALFORMED_SETTINGS"),
        ("no_dataset_row", "E1006 DATASET_NOT_FOUND"),
        ("bad_settings", "E1001 MALFORMED_SETTINGS"),
        ("missing_embedding", "E1004 MISSING_EMBEDDINGS"),
    ],
)
def test_bad_input_fails_the_dataset_with_the_reason(db, tmp_path, category, problem, code):
    seed.load_market(tmp_path, products_per_category=1, reviews_per_product=1, categories=["speakers"])
    ds = seed.make_dataset(db, 999 if problem == "unknown_category" else category, seed.product_ids(db))
    with transaction(db["ds_analyzer" if problem != "missing_embedding" else "analyzer_v2"]) as cur:
        if problem == "no_dataset_row":
            cur.execute("DELETE FROM datasets WHERE id = %s", (ds,))
        elif problem == "bad_settings":
            cur.execute("UPDATE datasets SET settings = '{\"products\": []}' WHERE id = %s", (ds,))
        elif problem == "missing_embedding":
            cur.execute("UPDATE review_sentences SET embedding = NULL ORDER BY id DESC LIMIT 1")
    with pytest.raises(SpvpFailure):
        run(None, ds)
    history = seed.history(db, ds)
    assert history["spvp_status"] == 9 and history["spvp_error"].startswith(code), history
    assert fetch_all(db["ds_analyzer"], "SELECT * FROM review_sentence_spvp") == []


def test_manual_status_update_is_recorded_with_reason_and_idempotent(db, category, tmp_path):
    seed.load_market(tmp_path, products_per_category=1, reviews_per_product=1, categories=["speakers"])
    ds = seed.make_dataset(db, category, seed.product_ids(db))  # spvp_status 2 Processing
    gb = db["gb_console"]

    change = progress.set_spvp_status(gb, ds, 3, "completion check missed it; verified by hand", "tester")
    assert (change.old, change.new) == (2, 3)
    assert seed.history(db, ds) == {"spvp_status": 3, "spvp_error": None}
    assert progress.set_spvp_status(gb, ds, 3, "again", "tester") is None  # same value: nothing written
    progress.set_spvp_status(gb, ds, 9, "bad viewpoints", "tester")
    assert seed.history(db, ds) == {"spvp_status": 9, "spvp_error": "manual: bad viewpoints"}
    gb.commit()
    trail = fetch_all(
        gb,
        "SELECT old_value, new_value, reason, changed_by FROM wishlist_dataset_status_changes "
        "WHERE dataset_id = %s ORDER BY id",
        (ds,),
    )
    assert [(t["old_value"], t["new_value"], t["reason"], t["changed_by"]) for t in trail] == [
        (2, 3, "completion check missed it; verified by hand", "tester"),
        (3, 9, "bad viewpoints", "tester"),
    ]
    with pytest.raises(SpvpFailure, match="no dataset history for dataset 424242"):
        progress.set_spvp_status(gb, 424242, 3, "x", "tester")
    with pytest.raises(ValueError):
        progress.set_spvp_status(gb, ds, 7, "no such status", "tester")
