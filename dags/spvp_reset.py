"""Manual SPVP action: reset ``last_object_id`` of a viewpoint category (trigger form).

Moves the category's viewpoints (all, or the listed ordinals) back to
``last_object_id`` and deletes their mappings above it, in one transaction;
datasets of the category that were Completed go back to Processing, so the
next ``spvp_batch`` run maps them again. Running it twice changes nothing more.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag, task

from trend.dag_defaults import default_args


@dag(
    dag_id="spvp_reset",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(retries=1),
    tags=["dataset-workflow", "spvp", "manual"],
    params={
        "category": Param("", type="string", minLength=1, description="Viewpoint category id or name"),
        "last_object_id": Param(
            0, type="integer", minimum=0, description="Sentence id to go back to (0 = map everything again)"
        ),
        "ordinals": Param(
            [],
            type="array",
            items={"type": "integer"},
            description="Only these viewpoint ordinal numbers (empty = all)",
        ),
    },
    doc_md=__doc__,
)
def spvp_reset():
    @task
    def reset(params=None) -> dict:
        from trend.spvp.airflow_tasks import run_reset

        return run_reset(params["category"], params["last_object_id"], params["ordinals"])

    reset()


spvp_reset()
