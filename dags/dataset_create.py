"""dataset_create: create a dataset (+ history) for every wishlist whose crawl items all succeeded.

Each dataset takes its wishlist's viewpoint category (``wishlist_to_groups.viewpoint_category_id``,
set with ``make load-viewpoints VIEWPOINTS=file.yaml ASSIGN_WISHLIST=id``). ``announce`` carries
the ``pending_datasets`` outlet: it is skipped when nothing new was created (reruns, idle runs).
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
    @task
    def create(params=None) -> list[dict]:
        from trend.airflow_tasks import create_datasets

        return create_datasets(params["wishlist_id"])

    @task(outlets=[PENDING_DATASETS])
    def announce(created: list[dict]) -> str:
        from trend.airflow_tasks import announce_pending_datasets

        return announce_pending_datasets(created)

    announce(create())


dataset_create()
