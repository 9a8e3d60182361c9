"""The plugin as Airflow sees it (`airflow plugins`, /api/v2/plugins), its import cost for task
processes, and links from datasets to the real DAG runs that produced them."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from urllib.parse import quote

import pytest
import requests

from tests.ui.conftest import truncate_all
from trend.config import REPO_ROOT
from trend.db import connect, fetch_all, table
from trend.status import CrawlStatus, Mall
from trend.ui import PLUGIN_NAME, URL_PREFIX, runs
from trend_dev.local_airflow import VENV_BIN, dags_test

pytestmark = pytest.mark.airflow


def test_airflow_plugins_lists_the_app_and_the_views(airflow_ui):
    out = subprocess.run(
        [str(VENV_BIN / "airflow"), "plugins", "--output", "json"],
        env=airflow_ui.env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    ours = [p for p in json.loads(out.stdout) if p["name"] == PLUGIN_NAME]
    assert len(ours) == 1 and ours[0]["source"].endswith("trend_ui.py")
    assert [a["url_prefix"] for a in ours[0]["fastapi_apps"]] == [URL_PREFIX]
    assert {v["name"]: v["url_route"] for v in ours[0]["external_views"]} == {
        "Datasets": "trend-datasets",
        "Catalog tree": "trend-catalog",
    }


def test_the_api_server_serves_the_views_to_its_ui(airflow_ui, admin):
    response = requests.get(
        f"{airflow_ui.url}/api/v2/plugins", headers={"Authorization": f"Bearer {admin.token}"}, timeout=30
    )
    ours = next(p for p in response.json()["plugins"] if p["name"] == PLUGIN_NAME)
    views = {v["url_route"]: v for v in ours["external_views"]}
    assert views["trend-datasets"]["href"] == "trend/datasets" and views["trend-datasets"]["destination"] == "nav"
    icon = requests.get(f"{airflow_ui.url}/{views['trend-datasets']['icon']}", timeout=10)
    assert icon.status_code == 200 and icon.text.lstrip().startswith("<svg")


def test_importing_the_plugin_stays_light():
    """Task processes import plugins too: the web app and Airflow's API security must not come along."""
    heavy = ("trend.ui.app", "trend.ui.deps", "airflow.api_fastapi.core_api.security", "MySQLdb")
    code = f"import sys, trend_ui; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT / "plugins", capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("dag_id", "task_id", "value", "expected"),
    [
        ("dataset_create", "create", [{"dataset_id": 7, "created": True}, {"dataset_id": 9}], [7, 9]),
        ("analyzer_batch", "plan", [["--dataset-id", "3"], ["--dataset-id", "4", "--set", "k_max=8"]], [3, 4]),
        ("spvp_batch", "pick", [["--dataset-id", "5", "--rerun"], ["--mysql-host", "h"]], [5]),
        ("spvp_batch", "pick", "not a list of lists", []),
        ("dataset_create", "create", None, []),
        ("crawl_sync", "sync", [1, 2], []),
    ],
)
def test_dataset_ids_from_task_return_values(dag_id, task_id, value, expected):
    assert runs.dataset_ids(dag_id, task_id, value) == expected


def test_every_producer_task_exists_in_the_dags():
    """Run links read these tasks' return values: a renamed task must fail here, not hide links."""
    from airflow.dag_processing.dagbag import DagBag

    dagbag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    assert not dagbag.import_errors
    for dag_id, task_id in runs.PRODUCERS:
        assert dagbag.dags[dag_id].has_task(task_id), (dag_id, task_id)


@pytest.fixture(scope="module")
def ready_wishlist(databases):
    """Wishlist 31: one product, crawled successfully, so dataset_create makes a dataset of it."""
    truncate_all(databases)
    conn = connect("gb_console")
    try:
        cur = conn.cursor()
        cur.execute(
            "INSERT INTO wishlist_to_groups (wishlist_id, group_id, wishlist_name) VALUES (31, 31, 'Run links')"
        )
        cur.execute(
            "INSERT INTO summary_wishlist_products (wishlist_id, mall_id, mall_product_id, crawl_status) "
            "VALUES (31, %s, 'UI-RUN-1', %s)",
            (int(Mall.SYNTHETIC), int(CrawlStatus.SUCCESS)),
        )
        cur.execute(
            f"INSERT INTO {table('analyzer_v2', 'products')} (mall_id, mall_product_id, name) "
            "VALUES (%s, 'UI-RUN-1', 'p')",
            (int(Mall.SYNTHETIC),),
        )
        conn.commit()
    finally:
        conn.close()
    return 31


def test_datasets_link_to_the_dag_run_that_created_them(airflow_ui, admin, ready_wishlist):
    result = dags_test(airflow_ui.env, "dataset_create", conf={"wishlist_id": ready_wishlist}, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with sqlite3.connect(airflow_ui.home / "airflow.db") as metadata:  # Airflow's own record of the run
        run_ids = [r[0] for r in metadata.execute("SELECT run_id FROM dag_run WHERE dag_id = 'dataset_create'")]
    assert len(run_ids) == 1
    conn = connect("ds_analyzer")
    try:
        dataset_id = fetch_all(conn, "SELECT id FROM datasets")[0]["id"]
    finally:
        conn.close()

    item = next(d for d in admin.json("datasets")["items"] if d["id"] == dataset_id)
    assert [(r["dag_id"], r["run_id"], r["state"]) for r in item["runs"]] == [("dataset_create", run_ids[0], "success")]
    assert item["runs"][0]["url"] == f"/dags/dataset_create/runs/{quote(run_ids[0], safe='')}"  # Airflow's UI route
    assert admin.json(f"datasets/{dataset_id}")["runs"] == item["runs"]
