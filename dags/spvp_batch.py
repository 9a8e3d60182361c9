"""spvp_batch (SPVP): map review sentences to specific viewpoints, incrementally.

Runs when a history sync emits ``analysed_datasets`` (histories moved to spvp_status 2 by
analyzer_batch or dataset_status_sync; never on an idle system), or from the trigger form.
Picks every dataset whose history has spvp_status 2 (analysed), or just the
``dataset_id`` given in the trigger form (a manual re-run, also of completed or
failed datasets), and submits ``spark_jobs/spvp_batch.py`` once per dataset
(``TrendSparkSubmitOperator``: code, sizing and credentials added at execute time).
The job sets spvp_status 3 when every viewpoint processed every sentence, 9 with
the reason on failure. Mapping config: Airflow Variable ``spvp_config`` (JSON,
see docs/spvp.md); the LLM key comes from connection ``openai_default``.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag, task

from trend.assets import ANALYSED_DATASETS
from trend.dag_defaults import default_args
from trend.spark_submit import TrendSparkSubmitOperator
from trend.spvp.airflow_tasks import JOB


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
        from trend.spvp.airflow_tasks import plan_runs

        return plan_runs(params["dataset_id"])

    TrendSparkSubmitOperator.partial(task_id="map_dataset", job=JOB, max_active_tis_per_dag=1).expand(
        application_args=pick()
    )


spvp_batch()
