"""Every status and error code of the dataset workflow, defined once.

DAGs, Spark jobs, SQL comments and the README table all refer to these.
"""

from __future__ import annotations

from enum import IntEnum
from typing import SupportsInt


class CrawlStatus(IntEnum):
    """summary_wishlist_*.crawl_status"""

    NEW = 0
    IN_PROGRESS = 1
    SUCCESS = 2
    ERROR = 3
    CANCELED = 4

    @property
    def is_final(self) -> bool:
        return self in (CrawlStatus.SUCCESS, CrawlStatus.ERROR, CrawlStatus.CANCELED)


class DatasetStatus(IntEnum):
    """ds_analyzer.datasets.status"""

    PENDING = 1
    PROCESSING = 2
    COMPLETED = 3
    FAILED = 9


class HistoryStatus(IntEnum):
    """gb_console.wishlist_dataset_histories.status (follows the dataset)."""

    PENDING = 1
    PROCESSING = 2
    COMPLETED = 3
    FAILED = 9


class SpvpStatus(IntEnum):
    """gb_console.wishlist_dataset_histories.spvp_status"""

    WAITING = 1  # dataset not analysed yet
    PROCESSING = 2  # analysis done: SPVP may run / is running
    COMPLETED = 3  # every specific viewpoint has processed every sentence
    FAILED = 9


class Mall(IntEnum):
    """Marketplaces the crawler knows. Anything else is rejected as bad input."""

    AMAZON_JP = 1
    RAKUTEN = 2
    YAHOO_SHOPPING = 3
    SYNTHETIC = 99  # the seeded demo/test marketplace

    @classmethod
    def parse(cls, value: object) -> Mall:
        try:
            if not isinstance(value, (str, bytes, SupportsInt)):
                raise TypeError(value)
            return cls(int(value))
        except (TypeError, ValueError):
            raise ValueError(f"unknown mall_id {value!r}; known: {[m.value for m in cls]}") from None


class ErrorCode(IntEnum):
    """datasets.error_code: 1xxx input/data, 2xxx model/LLM, 3xxx storage/infra."""

    # 1xxx input / data
    MALFORMED_SETTINGS = 1001
    EMPTY_DATASET = 1002
    PRODUCTS_WITHOUT_REVIEWS = 1003
    MISSING_EMBEDDINGS = 1004
    EMBEDDING_DIMENSION_MISMATCH = 1005
    DATASET_NOT_FOUND = 1006
    INVALID_STATE = 1007
    # 2xxx model / LLM
    CLUSTERING_FAILED = 2001
    LLM_REQUEST_FAILED = 2002
    LLM_INVALID_OUTPUT = 2003
    LLM_BUDGET_EXHAUSTED = 2004
    SENTIMENT_MODEL_FAILED = 2005
    SPVP_MAPPING_FAILED = 2006
    # 3xxx storage / infra
    DATABASE_READ_FAILED = 3001
    DATABASE_WRITE_FAILED = 3002
    UNEXPECTED = 3003

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    ErrorCode.MALFORMED_SETTINGS: "datasets.settings is not valid JSON or lacks product_ids",
    ErrorCode.EMPTY_DATASET: "the dataset's products have no review sentences at all",
    ErrorCode.PRODUCTS_WITHOUT_REVIEWS: "some product_ids are unknown or have no reviews",
    ErrorCode.MISSING_EMBEDDINGS: "review sentences lack embeddings",
    ErrorCode.EMBEDDING_DIMENSION_MISMATCH: "embeddings have the wrong dimension or model",
    ErrorCode.DATASET_NOT_FOUND: "no dataset with that id",
    ErrorCode.INVALID_STATE: "the dataset is not in a state this job may process",
    ErrorCode.CLUSTERING_FAILED: "K-means could not cluster the sentences",
    ErrorCode.LLM_REQUEST_FAILED: "the LLM endpoint kept failing after retries",
    ErrorCode.LLM_INVALID_OUTPUT: "the LLM answered with output that does not validate",
    ErrorCode.LLM_BUDGET_EXHAUSTED: "the per-dataset token budget ran out",
    ErrorCode.SENTIMENT_MODEL_FAILED: "the sentiment model failed to load or run",
    ErrorCode.SPVP_MAPPING_FAILED: "specific-viewpoint mapping failed",
    ErrorCode.DATABASE_READ_FAILED: "reading from MySQL failed",
    ErrorCode.DATABASE_WRITE_FAILED: "writing to MySQL failed (rolled back)",
    ErrorCode.UNEXPECTED: "an unexpected error; see the task log",
}

FAILED_PROGRESS = -1
