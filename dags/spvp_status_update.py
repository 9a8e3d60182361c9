"""spvp_status_update: the document's "manual status update" for SPVP (completion detection failures).

Sets ``wishlist_dataset_histories.spvp_status`` of one dataset to the value given, with a
reason: logged, and recorded in ``gb_console.wishlist_dataset_status_changes`` (old and new
value, reason, the Airflow run and user). 2 queues the dataset for ``spvp_batch`` again, 3 marks
it done, 9 marks it failed (the reason goes to ``spvp_error``). Setting the current value
changes nothing. To map sentences again from an earlier id, use ``spvp_reset``.
"""

from datetime import datetime

from airflow.sdk import Param, dag, task

from trend.dag_defaults import default_args


@dag(
    dag_id="spvp_status_update",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(retries=1),
    tags=["dataset-workflow", "spvp", "manual"],
    params={
        "dataset_id": Param(type="integer", minimum=1, description="The dataset whose SPVP status to set"),
        "spvp_status": Param(
            type="integer",
            enum=[1, 2, 3, 9],
            description="1 Waiting, 2 Processing (map again), 3 Completed, 9 Failed",
        ),
        "reason": Param(type="string", minLength=3, maxLength=1000, description="Why (recorded with the change)"),
    },
    doc_md=__doc__,
)
def spvp_status_update():
    @task
    def update(params=None, dag_run=None) -> dict:
        from trend.spvp.airflow_tasks import run_status_update

        user = getattr(dag_run, "triggering_user_name", None) or "unknown user"
        changed_by = f"airflow {dag_run.dag_id}/{dag_run.run_id} ({user})"
        return run_status_update(params["dataset_id"], params["spvp_status"], params["reason"], changed_by)

    update()


spvp_status_update()
