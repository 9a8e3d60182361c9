"""spvp_batch (SPVP): map review sentences to specific viewpoints, incrementally.

Runs when a history sync emits ``analysed_datasets`` (histories moved to spvp_status 2 by
analyzer_batch or dataset_status_sync; never on an idle system), or from the trigger form.
Picks every dataset whose history has spvp_status 2 (analysed), or just the
``dataset_id`` given in the trigger form (a manual re-run, also of completed or
failed datasets), and submits ``spark_jobs/spvp_batch.py`` once per dataset.
The job sets spvp_status 3 when every viewpoint processed every sentence, 9 with
the reason on failure. Mapping config: Airflow Variable ``spvp_config`` (JSON,
see docs/spvp.md); the LLM key comes from connection ``openai_default``.
"""

import sys
from datetime import datetime

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import Param, dag, task

from trend.assets import ANALYSED_DATASETS
from trend.config import REPO_ROOT
from trend.dag_defaults import default_args
from trend.spark import MARIADB_JAR

JOB_FILE = REPO_ROOT / "spark_jobs" / "spvp_batch.py"


@dag(
    dag_id="spvp_batch",
    schedule=[ANALYSED_DATASETS],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["dataset-workflow", "spvp", "spark"],
    params={
        "dataset_id": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            description="Re-run SPVP for this dataset only (any spvp_status but Waiting)",
        )
    },
    doc_md=__doc__,
)
def spvp_batch():
    @task
    def pick(params=None) -> list[list[str]]:
        from airflow.sdk import Variable

        from trend.airflow_support import mysql_connection, mysql_settings
        from trend.spvp.airflow_tasks import pick_datasets, spark_job_args

        conn = mysql_connection("gb_console")
        try:
            dataset_ids, rerun = pick_datasets(conn, params["dataset_id"])
        finally:
            conn.close()
        return spark_job_args(
            dataset_ids, rerun, mysql_settings("ds_analyzer"), Variable.get("spvp_config", default="{}")
        )

    @task
    def package() -> str:
        from trend.pyfiles import build_zip

        return str(build_zip())

    args = pick()
    zipped = package()
    submit = SparkSubmitOperator.partial(
        task_id="map_dataset",
        conn_id="spark_default",
        application=str(JOB_FILE),
        py_files="{{ ti.xcom_pull(task_ids='package') }}",
        jars=MARIADB_JAR,
        name="spvp_batch",
        conf={"spark.pyspark.python": sys.executable, "spark.ui.enabled": "false"},
        env_vars={
            "TP_MYSQL_PASSWORD": "{{ conn.mysql_ds_analyzer.password or '' }}",
            "OPENAI_API_KEY": "{% set c = conn.get('openai_default') %}{{ (c.password or '') if c else '' }}",
            "PYSPARK_PYTHON": sys.executable,
            "TP_SPVP_TRY_NUMBER": "{{ ti.try_number }}",  # a retry resumes what this attempt failed
        },
        max_active_tis_per_dag=1,
    ).expand(application_args=args)
    zipped >> submit


spvp_batch()
