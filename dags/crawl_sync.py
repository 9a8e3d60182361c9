"""crawl_sync: hand New wishlist items to the crawler and record what came back.

``announce`` carries the ``crawl_results`` outlet: it is skipped when the run claimed
nothing, so an idle crawl_sync triggers no dataset_create.
"""

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, task

from trend.assets import CRAWL_RESULTS
from trend.dag_defaults import default_args


@dag(
    dag_id="crawl_sync",
    schedule=timedelta(minutes=5),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(retries=3),
    tags=["dataset-workflow", "crawl"],
    params={
        "limit_per_kind": Param(
            100, type="integer", minimum=1, maximum=10000, description="Items claimed from each summary table per run"
        ),
        "wishlist_id": Param(None, type=["null", "integer"], description="Only this wishlist's items (empty: all)"),
    },
    doc_md=__doc__,
)
def crawl_sync():
    @task
    def sync(params=None) -> dict:
        from trend.airflow_tasks import crawl_sync as run

        return run(params["limit_per_kind"], params["wishlist_id"])

    @task(outlets=[CRAWL_RESULTS])
    def announce(report: dict) -> str:
        from trend.airflow_tasks import announce_crawl_results

        return announce_crawl_results(report)

    announce(sync())


crawl_sync()
