"""Task defaults every DAG shares: an owner, retries with exponential backoff. Light to import."""

from __future__ import annotations

from datetime import timedelta

DATASET_TEAM = "data-platform"
CATALOG_TEAM = "catalog-platform"


def default_args(
    owner: str = DATASET_TEAM, retries: int = 2, retry_delay_seconds: int = 30, max_retry_delay_minutes: int = 10
) -> dict:
    return {
        "owner": owner,
        "retries": retries,
        "retry_delay": timedelta(seconds=retry_delay_seconds),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=max_retry_delay_minutes),
    }
