"""Airflow side of analyzer_batch: the submit operator and the task bodies the DAG calls.

Imported by dags/analyzer_batch.py only. Secrets travel to spark-submit as
environment variables resolved at execute time (never templated, never on the
command line): MYSQL_URL from ``mysql_ds_analyzer``, OPENAI_API_KEY from
``openai_default`` when that connection exists.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from urllib.parse import quote

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

from trend.config import REPO_ROOT

APPLICATION = str(REPO_ROOT / "spark_jobs" / "analyzer_batch.py")


def _mysql_url() -> str:
    from trend.airflow_support import mysql_settings

    settings = mysql_settings("ds_analyzer")
    auth = quote(settings.user, safe="") + (f":{quote(settings.password, safe='')}" if settings.password else "")
    return f"mysql://{auth}@{settings.host}:{settings.port}"


def _openai_key() -> str | None:
    from airflow.sdk import BaseHook

    try:
        return BaseHook.get_connection("openai_default").password or None
    except Exception:
        return None


class AnalyzerSubmitOperator(SparkSubmitOperator):
    """SparkSubmitOperator that adds DB/LLM credentials and the venv's Python to the job's env."""

    def execute(self, context):
        self.env_vars = {**(self.env_vars or {}), **submit_env()}
        self._hook = None
        return super().execute(context)


def submit_env() -> dict[str, str]:
    """Environment for spark-submit: credentials, the venv's Python, spark-submit on PATH."""
    python_bin = str(Path(sys.executable).parent)
    env = {
        "MYSQL_URL": _mysql_url(),
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        # spark-submit ships with pyspark in the same venv as Airflow
        "PATH": f"{python_bin}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    if key := _openai_key():
        env["OPENAI_API_KEY"] = key
    return env


def package_code() -> str:
    """The ``trend`` package zipped for --py-files (content-hashed, built once)."""
    from trend.pyfiles import build_zip

    return str(build_zip())


def submissions(dataset_ids: list[int], py_files: str, overrides: dict | None) -> list[dict]:
    """One spark-submit kwargs dict per dataset (for expand_kwargs)."""
    extra: list[str] = []
    for key, value in sorted((overrides or {}).items()):
        extra += ["--set", f"{key}={json.dumps(value)}"]
    return [{"application_args": ["--dataset-id", str(d), *extra], "py_files": py_files} for d in dataset_ids]


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
