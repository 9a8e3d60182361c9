"""Reconciliation: histories follow datasets; crawl items stuck InProgress go to Error.

``announce`` emits ``analysed_datasets`` (spvp_batch's schedule) only when a history moved to
spvp_status 2 here, e.g. when analyzer_batch's own history sync did not get to run.
"""

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, task

from trend.assets import ANALYSED_DATASETS
from trend.dag_defaults import default_args


@dag(
    dag_id="dataset_status_sync",
    schedule=timedelta(minutes=10),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["dataset-workflow", "reconciliation"],
    params={
        "stuck_timeout_minutes": Param(
            120, type="integer", minimum=1, description="InProgress longer than this becomes Error"
        )
    },
    doc_md=__doc__,
)
def dataset_status_sync():
    @task
    def reconcile(params=None) -> dict:
        from trend.airflow_tasks import reconcile as run

        return run(params["stuck_timeout_minutes"])

    @task(outlets=[ANALYSED_DATASETS])
    def announce(result: dict) -> str:
        from trend.airflow_tasks import announce_analysed_datasets

        return announce_analysed_datasets(result["ready_for_spvp"])

    announce(reconcile())


dataset_status_sync()
