"""Airflow side of spvp_batch / spvp_reset: the task bodies the DAGs call (imported inside tasks).

The Spark submission itself is ``trend.spark_submit.TrendSparkSubmitOperator`` (job
``spvp_batch``): it ships the code and hands credentials to the job at execute time.
The mapping config is the Airflow Variable ``spvp_config`` (JSON, see docs/spvp.md).
"""

from __future__ import annotations

import json

from trend.spvp import progress

JOB = "spvp_batch"
CONFIG_VARIABLE = "spvp_config"


def spark_job_args(dataset_ids: list[int], rerun: bool, config_json: str = "") -> list[list[str]]:
    """One spark-submit argument list per dataset. No credentials: the job reads them from its environment."""
    base: list[str] = []
    if config_json.strip() not in ("", "{}"):
        base += ["--config", json.dumps(json.loads(config_json))]  # fails early on invalid JSON
    return [["--dataset-id", str(d), *(["--rerun"] if rerun else []), *base] for d in dataset_ids]


def plan_runs(dataset_id: int | None) -> list[list[str]]:
    """The datasets to map now (or the one from the trigger form) as spark-submit argument lists."""
    from airflow.sdk import Variable

    from trend.airflow_support import mysql_connection

    conn = mysql_connection("gb_console")
    try:
        dataset_ids, rerun = pick_datasets(conn, dataset_id)
    finally:
        conn.close()
    return spark_job_args(dataset_ids, rerun, Variable.get(CONFIG_VARIABLE, default="{}"))


def pick_datasets(gb_conn, dataset_id: int | None) -> tuple[list[int], bool]:
    """Datasets to map: the one asked for (a manual re-run), else every history in PROCESSING."""
    if dataset_id is not None:
        progress._history(gb_conn, dataset_id)  # raises a clear error for an unknown dataset
        return [int(dataset_id)], True
    return progress.pending_datasets(gb_conn), False


def reset_category(ds_conn, gb_conn, category: str | int, to_id: int = 0, ordinals: list[int] | None = None) -> dict:
    """Manual action: move a category's viewpoints back to ``to_id`` and requeue its completed datasets."""
    from trend.spvp.viewpoints import load_category

    found = (
        load_category(ds_conn, category_id=int(category))
        if str(category).isdigit()
        else load_category(ds_conn, name=str(category))
    )
    unknown = sorted(set(ordinals or []) - set(found.ordinals))
    if unknown:
        raise progress.SpvpFailure(progress.ErrorCode.INVALID_STATE, f"category {found.id} has no viewpoints {unknown}")
    moved = progress.reset_progress(ds_conn, found.stored_id, int(to_id), ordinals)
    requeued = progress.requeue_completed(gb_conn, progress.datasets_of_category(ds_conn, found.stored_id))
    return {
        "category_id": found.stored_id,
        "viewpoints_moved": moved,
        "datasets_requeued": requeued,
        "last_object_id": int(to_id),
    }


def run_reset(category: str | int, to_id: int = 0, ordinals: list[int] | None = None) -> dict:
    """``reset_category`` on connections from Airflow (the spvp_reset task)."""
    from trend.airflow_support import mysql_connection

    ds, gb = mysql_connection("ds_analyzer"), mysql_connection("gb_console")
    try:
        return reset_category(ds, gb, category, to_id, ordinals)
    finally:
        ds.close()
        gb.close()
