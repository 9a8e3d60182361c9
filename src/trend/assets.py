"""Assets that chain the DAGs (data-aware scheduling). Light: imported by DAG files."""

from airflow.sdk import Asset

CRAWL_RESULTS = Asset(name="crawl_results", uri="trend://gb_console/summary_wishlist_items")
PENDING_DATASETS = Asset(name="pending_datasets", uri="trend://ds_analyzer/datasets")
