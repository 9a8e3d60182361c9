"""spvp_batch and spvp_reset run by Airflow itself (`airflow dags test`, SparkSubmitOperator)."""

import pytest

from tests.spvp import seed
from trend.db import fetch_all
from trend_dev.local_airflow import dags_test

pytestmark = [pytest.mark.airflow, pytest.mark.slow]


def _ok(result):
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result


def test_spvp_dag_maps_pending_datasets_and_reset_requeues_them(db, airflow_home, tmp_path):
    seed.load_market(tmp_path, seed=9, products_per_category=1, reviews_per_product=2, categories=["speakers"])
    category = seed.load_viewpoints(db)
    dataset = seed.make_dataset(db, category, seed.product_ids(db))
    ids = seed.sentence_ids(db)

    _ok(dags_test(dict(airflow_home), "spvp_batch"))
    assert seed.history(db, dataset) == {"spvp_status": 3, "spvp_error": None}
    assert set(seed.last_ids(db, category).values()) == {max(ids)}
    assert seed.mappings(db, category)

    _ok(
        dags_test(
            dict(airflow_home),
            "spvp_reset",
            conf={"category": "synthetic-electronics", "last_object_id": 0, "ordinals": [1, 2]},
        )
    )
    last = seed.last_ids(db, category)
    assert (last[1], last[2], last[3]) == (0, 0, max(ids))
    assert not [m for m in seed.mappings(db, category) if m[1] in (1, 2)]
    assert seed.history(db, dataset)["spvp_status"] == 2

    # A manual re-run of one dataset through the trigger form.
    _ok(dags_test(dict(airflow_home), "spvp_batch", conf={"dataset_id": dataset}))
    assert seed.history(db, dataset)["spvp_status"] == 3
    assert set(seed.last_ids(db, category).values()) == {max(ids)}


def test_manual_status_update_dag_sets_and_records(db, airflow_home, tmp_path):
    seed.load_market(tmp_path, seed=9, products_per_category=1, reviews_per_product=1, categories=["speakers"])
    dataset = seed.make_dataset(db, seed.load_viewpoints(db), seed.product_ids(db))
    conf = {"dataset_id": dataset, "spvp_status": 3, "reason": "verified by hand"}
    _ok(dags_test(dict(airflow_home), "spvp_status_update", conf=conf))
    assert seed.history(db, dataset) == {"spvp_status": 3, "spvp_error": None}
    trail = fetch_all(db["gb_console"], "SELECT new_value, reason, changed_by FROM wishlist_dataset_status_changes")
    assert [(t["new_value"], t["reason"]) for t in trail] == [(3, "verified by hand")]
    assert trail[0]["changed_by"].startswith("airflow spvp_status_update/")
    bad = dags_test(dict(airflow_home), "spvp_status_update", conf={**conf, "spvp_status": 5})
    assert bad.returncode != 0 and "spvp_status: 5 is not one of [1, 2, 3, 9]" in bad.stdout + bad.stderr
    assert seed.history(db, dataset)["spvp_status"] == 3
