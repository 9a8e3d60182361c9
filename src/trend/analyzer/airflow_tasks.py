"""Airflow side of analyzer_batch: the task bodies the DAG calls (imported inside tasks).

The Spark submission itself is ``trend.spark_submit.TrendSparkSubmitOperator`` (job
``analyzer_batch``): it ships the code and hands credentials to the job at execute time.
"""

from __future__ import annotations

import json

JOB = "analyzer_batch"


def submissions(dataset_ids: list[int], overrides: dict | None) -> list[list[str]]:
    """One spark-submit argument list per dataset; AnalyzerConfig overrides as ``--set k=json``."""
    extra: list[str] = []
    for key, value in sorted((overrides or {}).items()):
        extra += ["--set", f"{key}={json.dumps(value)}"]
    return [["--dataset-id", str(d), *extra] for d in dataset_ids]


def plan_runs(dataset_id: int | None, overrides: dict | None) -> list[list[str]]:
    """The datasets to analyse now (or the one from the trigger form) as spark-submit argument lists."""
    return submissions(datasets_to_analyse(dataset_id), overrides)


def datasets_to_analyse(requested: int | None) -> list[int]:
    from trend.airflow_support import mysql_connection
    from trend.analyzer.lifecycle import pending_dataset_ids

    if requested:
        return [int(requested)]
    conn = mysql_connection("ds_analyzer")
    try:
        return pending_dataset_ids(conn)
    finally:
        conn.close()


def sync_histories() -> dict:
    """Histories follow their datasets; says how many became ready for SPVP (spvp_status 2)."""
    from trend.airflow_support import mysql_connection
    from trend.datasets import ready_for_spvp, sync_dataset_histories

    conn = mysql_connection("gb_console")
    try:
        changes = sync_dataset_histories(conn)
    finally:
        conn.close()
    return {"histories_changed": len(changes), "ready_for_spvp": ready_for_spvp(changes)}
