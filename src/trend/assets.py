"""Assets that chain the DAGs (data-aware scheduling). Light: imported by DAG files.

Each is emitted only when its producer changed something (the emitting task is
skipped otherwise), so an idle system runs no downstream DAG.
"""

from airflow.sdk import Asset

# crawl_sync changed the crawl status of at least one wishlist item.
CRAWL_RESULTS = Asset(name="crawl_results", uri="trend://gb_console/summary_wishlist_items")
# dataset_create created at least one dataset (status 1 Pending).
PENDING_DATASETS = Asset(name="pending_datasets", uri="trend://ds_analyzer/datasets")
# A history sync moved at least one history to spvp_status 2 (analysed, waiting for SPVP).
ANALYSED_DATASETS = Asset(name="analysed_datasets", uri="trend://gb_console/wishlist_dataset_histories")
