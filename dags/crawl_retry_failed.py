"""crawl_retry_failed: "retry this wishlist's failed items" (the UI links here with ``wishlist_id``).

Puts the wishlist's crawl items in Error or Canceled back to New with a fresh attempt count
(every reset is logged with the error it had), then crawls that wishlist's items at once.
Transient errors are also retried automatically by ``crawl_sync`` with backoff, up to a limit;
this is for everything else (permanent errors, cancellations, exhausted retries).
"""

from datetime import datetime

from airflow.sdk import Param, dag, task

from trend.assets import CRAWL_RESULTS
from trend.dag_defaults import default_args


@dag(
    dag_id="crawl_retry_failed",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(retries=1),
    tags=["dataset-workflow", "crawl", "manual"],
    params={
        "wishlist_id": Param(
            type="integer", minimum=1, description="The wishlist (gb_console.wishlist_to_groups.id) to retry"
        ),
    },
    doc_md=__doc__,
)
def crawl_retry_failed():
    @task
    def reset(params=None) -> dict:
        from trend.airflow_tasks import retry_failed_items

        return retry_failed_items(params["wishlist_id"])

    @task(outlets=[CRAWL_RESULTS])
    def crawl(reset_counts: dict, params=None) -> dict:
        from trend.airflow_tasks import crawl_sync

        return crawl_sync(10000, params["wishlist_id"])

    crawl(reset())


crawl_retry_failed()
