"""analyzer_batch: analyse pending datasets with Spark, then let histories follow.

plan: pending datasets (or the dataset_id from the trigger form) → one spark-submit of
``spark_jobs/analyzer_batch.py`` per dataset (``TrendSparkSubmitOperator``: code,
sizing and credentials added at execute time) → history sync (runs even when an
analysis failed, so histories also learn about status 9) → announce: emits
``analysed_datasets`` (spvp_batch's schedule) only when histories moved to spvp_status 2.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag, task

from trend.analyzer.airflow_tasks import JOB
from trend.assets import ANALYSED_DATASETS, PENDING_DATASETS
from trend.dag_defaults import default_args
from trend.spark_submit import TrendSparkSubmitOperator


@dag(
    dag_id="analyzer_batch",
    schedule=[PENDING_DATASETS],  # dataset_create emits it when it creates datasets
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["dataset-workflow", "analyzer", "spark"],
    default_args=default_args(),
    params={
        "dataset_id": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            description="Analyse only this dataset; empty = every Pending dataset",
        ),
        "config": Param({}, type="object", description='AnalyzerConfig overrides, e.g. {"k_max": 8, "force": true}'),
    },
    doc_md=__doc__,
)
def analyzer_batch():
    @task
    def plan(params=None) -> list[list[str]]:
        from trend.analyzer.airflow_tasks import plan_runs

        return plan_runs(params["dataset_id"], params["config"])

    @task(trigger_rule="all_done")
    def sync_histories() -> dict:
        from trend.analyzer import airflow_tasks

        return airflow_tasks.sync_histories()

    @task(outlets=[ANALYSED_DATASETS])
    def announce(synced: dict) -> str:
        from trend.airflow_tasks import announce_analysed_datasets

        return announce_analysed_datasets(synced["ready_for_spvp"])

    analyse = TrendSparkSubmitOperator.partial(task_id="analyse_dataset", job=JOB, max_active_tis_per_dag=1).expand(
        application_args=plan()
    )
    synced = sync_histories()
    analyse >> synced
    announce(synced)


analyzer_batch()
