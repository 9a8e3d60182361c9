"""dataset_create: create a dataset (+ history) for every wishlist whose crawl items all succeeded.

Each wishlist succeeds or fails on its own: ``create`` creates every dataset it can (and emits
``pending_datasets``), ``check_failures`` then fails with each wishlist that could not become a
dataset and why.
"""

from datetime import datetime

from airflow.sdk import Param, dag, task

from trend.assets import CRAWL_RESULTS, PENDING_DATASETS
from trend.dag_defaults import default_args


@dag(
    dag_id="dataset_create",
    schedule=[CRAWL_RESULTS],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["dataset-workflow", "datasets"],
    params={
        "wishlist_id": Param(
            None, type=["null", "integer"], description="Create for this wishlist only (fails if not fully crawled)"
        )
    },
    doc_md=__doc__,
)
def dataset_create():
    @task(outlets=[PENDING_DATASETS])
    def create(params=None) -> list[dict]:
        from trend.airflow_tasks import create_datasets

        return create_datasets(params["wishlist_id"])

    @task
    def check_failures(results: list[dict]) -> str:
        """Red when a wishlist could not become a dataset; the others were created and announced."""
        from trend.airflow_tasks import check_failures as check

        return check(results, "wishlists")

    check_failures(create())


dataset_create()
