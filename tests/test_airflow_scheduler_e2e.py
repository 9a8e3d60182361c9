"""The dataset workflow through Airflow's real scheduler, started by one REST trigger.

A private stack (api-server, scheduler, dag-processor, triggerer; LocalExecutor; a private
PostgreSQL database when the local server answers, else SQLite; free ports) runs
crawl_sync → dataset_create → analyzer_batch → spvp_batch, chained only by assets, until the
dataset is Completed and its history's spvp_status is 3 — no SQL by hand in between. The
wishlist's viewpoint category is given the product way (load_viewpoints --assign-wishlist).
Idle crawl_sync runs (the first scheduled one, and one triggered at the end) must start no
downstream DAG. The stack is stopped, and its metadata database dropped, even on failure.
"""

from __future__ import annotations

import os
import secrets
import time
import urllib.request
from pathlib import Path

import pytest

from trend.config import REPO_ROOT
from trend.db import fetch_all
from trend.spvp import load_viewpoints
from trend.status import DatasetStatus, HistoryStatus, SpvpStatus
from trend_dev import synthetic, wishlists
from trend_dev.airflow_metadata import PostgresAdmin, choose
from trend_dev.airflow_stack import StackDirs, free_port, stack_env, stack_pids, start, stop

# The whole test (stack start to stop) must finish within this budget; two spark-submits on 2 cores
# take ~30-60 s each when the machine is otherwise idle. TP_E2E_BUDGET_S raises it on a busy machine.
BUDGET_S = float(os.environ.get("TP_E2E_BUDGET_S", "480"))
pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(BUDGET_S + 60)]  # + stop()

WISHLIST, GROUP = 3, 8
CHAIN = ("crawl_sync", "dataset_create", "analyzer_batch", "spvp_batch")


@pytest.fixture
def stack(db, tmp_path):
    """A running private stack whose tasks see this run's TP_DB_PREFIX and a small marketplace dump."""
    market = synthetic.generate(seed=31, products_per_category=2, reviews_per_product=3, categories=["headphones"])
    dirs = StackDirs(tmp_path / "airflow")
    dirs.create()
    name = f"taf_{os.getpid()}_{secrets.token_hex(3)}"
    metadata = choose(dirs.home, name, tmp_path / "pg_password")
    port = free_port()
    env = stack_env(dirs, port, metadata)
    env["TP_LOCAL_MARKETPLACE_DUMP"] = str(market.write_dump(tmp_path / "marketplace"))
    env["TP_PY_FILES_DIR"] = str(tmp_path / "pyfiles")  # a private Spark payload: no other run deletes it
    env["AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL"] = "600"  # parse once; spare the 2 cores
    assert env["TP_DB_PREFIX"] == os.environ["TP_DB_PREFIX"]  # the scheduler's task processes use our databases
    print(f"\nstack: metadata {metadata}, port {port}")
    begun = time.monotonic()
    try:
        running = start(dirs, port, metadata, env)
        print(f"stack: healthy after {time.monotonic() - begun:.1f} s")
        yield running, market, begun + BUDGET_S
    finally:
        ended = stop(dirs)
        print(f"stack: stopped, {len(ended)} processes ended")
        if metadata.kind == "postgresql":
            PostgresAdmin().drop(name)
    assert stack_pids(dirs) == [], "processes of the stack survived stop()"


def _seed_wishlist(db, market) -> None:
    cur = db["gb_console"].cursor()
    wishlists.wishlist(cur, "Headphones", GROUP, wishlist_id=WISHLIST)
    for p in market.products:
        wishlists.product_with_reviews(cur, WISHLIST, p.mall_product_id)
    db["gb_console"].commit()
    viewpoints = REPO_ROOT / "include" / "viewpoints" / "synthetic.yaml"
    assert load_viewpoints.main([str(viewpoints), "--assign-wishlist", str(WISHLIST)]) == 0


def _progress(db) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """(dataset status, progress) and (history status, spvp_status) of the wishlist's dataset."""
    for conn in db.values():
        conn.commit()  # fresh snapshots
    ds = fetch_all(db["ds_analyzer"], "SELECT status, progress FROM datasets")
    hist = fetch_all(
        db["gb_console"],
        "SELECT status, spvp_status FROM wishlist_dataset_histories WHERE wishlist_to_group_id = %s",
        (WISHLIST,),
    )
    return (
        (ds[0]["status"], ds[0]["progress"]) if ds else None,
        (hist[0]["status"], hist[0]["spvp_status"]) if hist else None,
    )


def _task_log_tail(home: Path, dag_id: str, task_id: str) -> str:
    logs = sorted((home / "logs").glob(f"dag_id={dag_id}/**/task_id={task_id}/**/*.log"))
    return "\n".join(logs[-1].read_text(errors="replace").splitlines()[-40:]) if logs else "(no log)"


def _fail_fast(api, home: Path) -> None:
    """A chain task that failed or waits for a retry fails the test now, with its log."""
    for dag_id in CHAIN:
        for run in api.runs(dag_id):
            for task, state in api.task_states(dag_id, run["dag_run_id"]).items():
                if state in ("failed", "up_for_retry", "upstream_failed"):
                    task_id = task.split("[")[0]
                    pytest.fail(f"{dag_id}.{task} {state}:\n{_task_log_tail(home, dag_id, task_id)}")


def _wait_for_dags(api, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not set(CHAIN) <= api.dag_ids():
        assert time.monotonic() < deadline, f"dag-processor registered only {sorted(api.dag_ids())}"
        time.sleep(2)


def _first_scheduled_crawl(api, timeout: float = 60) -> dict | None:
    """crawl_sync's first scheduled run (created on unpause), once finished; None if none came."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [r for r in api.runs("crawl_sync") if r["run_type"] == "scheduled"]
        if runs:
            return api.wait_for_run("crawl_sync", runs[0]["dag_run_id"], timeout=deadline - time.monotonic())
        time.sleep(1)
    return None


def _run_counts(api) -> dict[str, int]:
    return {dag_id: len(api.runs(dag_id)) for dag_id in CHAIN}


def _unpause_and_check_first_crawl_is_idle(api) -> None:
    _wait_for_dags(api)
    for dag_id in CHAIN:
        api.unpause(dag_id)
    first = _first_scheduled_crawl(api)  # nothing to crawl yet: must announce nothing
    if first is not None:
        assert first["state"] == "success"
        assert api.task_states("crawl_sync", first["dag_run_id"]) == {"sync": "success", "announce": "skipped"}
    assert _run_counts(api)["dataset_create"] == 0, "an idle crawl_sync started dataset_create"


def _wait_until_done(db, api, home: Path, deadline: float) -> float | None:
    """Until the dataset is Completed and spvp_status 3; returns when the analysis had finished."""
    began, analysed, checked = time.monotonic(), None, 0.0
    done = ((DatasetStatus.COMPLETED, 100), (HistoryStatus.COMPLETED, SpvpStatus.COMPLETED))
    while (progress := _progress(db)) != done:
        if analysed is None and progress[0] == done[0]:
            analysed = time.monotonic() - began
        if time.monotonic() - checked > 10:  # the REST checks cost the api-server CPU: not every poll
            _fail_fast(api, home)
            checked = time.monotonic()
        assert time.monotonic() < deadline, f"over budget, workflow at {progress}; runs {_run_counts(api)}"
        time.sleep(2)
    return analysed


def _assert_idle_crawl_starts_nothing(api, deadline: float) -> None:
    settled = _run_counts(api)
    idle = api.wait_for_run("crawl_sync", api.trigger("crawl_sync"), timeout=deadline - time.monotonic())
    assert idle["state"] == "success"
    assert api.task_states("crawl_sync", idle["dag_run_id"]) == {"sync": "success", "announce": "skipped"}
    time.sleep(6)  # several scheduler loops: time to (wrongly) queue asset-triggered runs
    after = _run_counts(api)
    assert {k: after[k] - settled[k] for k in CHAIN} == {
        "crawl_sync": 1,
        "dataset_create": 0,
        "analyzer_batch": 0,
        "spvp_batch": 0,
    }


def test_rest_trigger_runs_the_whole_chain_and_idle_runs_trigger_nothing(db, stack):
    stack, market, deadline = stack
    marks = {"stack up": time.monotonic()}
    with urllib.request.urlopen(stack.url + "/", timeout=10) as page:  # the UI a person opens
        assert page.status == 200 and b"<title>Airflow</title>" in page.read()
    api = stack.api()  # JWT from /auth/token with the generated admin password
    _unpause_and_check_first_crawl_is_idle(api)
    marks["first (idle) crawl done"] = time.monotonic()

    _seed_wishlist(db, market)
    run_id = api.trigger("crawl_sync")
    marks["REST trigger"] = time.monotonic()
    analysed = _wait_until_done(db, api, stack.dirs.home, deadline)
    marks["spvp_status 3"] = time.monotonic()
    assert api.task_states("crawl_sync", run_id) == {"sync": "success", "announce": "success"}
    for dag_id in CHAIN[1:]:
        runs = api.runs(dag_id)
        assert [r["run_type"] for r in runs] == ["asset_triggered"], (dag_id, runs)
        api.wait_for_run(dag_id, runs[0]["dag_run_id"], timeout=deadline - time.monotonic())

    _assert_idle_crawl_starts_nothing(api, deadline)  # an idle system stays idle
    marks["idle crawl checked"] = time.monotonic()
    steps = list(marks.items())
    print("e2e: " + ", ".join(f"{name} +{t - steps[i][1]:.1f} s" for i, (name, t) in enumerate(steps[1:])))
    print(
        f"e2e: REST trigger -> dataset Completed in {analysed or 0:.1f} s, spvp_status 3 in "
        f"{marks['spvp_status 3'] - marks['REST trigger']:.1f} s; budget left {deadline - time.monotonic():.0f} s"
    )
