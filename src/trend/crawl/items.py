"""What a wishlist asks us to crawl: one dataclass for the four summary tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from trend.status import CrawlStatus, Mall


class CrawlKind(str, Enum):
    PRODUCT = "product"
    PRODUCT_REVIEWS = "product_reviews"
    CATEGORY = "category"
    SEARCH_QUERY = "search_query"

    @property
    def table(self) -> str:
        return _TABLES[self]

    @property
    def target_column(self) -> str:
        return _TARGETS[self]

    @property
    def limit_column(self) -> str | None:
        return _LIMITS[self]


_TABLES = {
    CrawlKind.PRODUCT: "summary_wishlist_products",
    CrawlKind.PRODUCT_REVIEWS: "summary_wishlist_product_reviews",
    CrawlKind.CATEGORY: "summary_wishlist_categories",
    CrawlKind.SEARCH_QUERY: "summary_wishlist_search_queries",
}
_TARGETS = {
    CrawlKind.PRODUCT: "mall_product_id",
    CrawlKind.PRODUCT_REVIEWS: "mall_product_id",
    CrawlKind.CATEGORY: "category_code",
    CrawlKind.SEARCH_QUERY: "keyword",
}
_LIMITS = {
    CrawlKind.PRODUCT: None,
    CrawlKind.PRODUCT_REVIEWS: "max_reviews",
    CrawlKind.CATEGORY: "max_products",
    CrawlKind.SEARCH_QUERY: "max_products",
}


class InvalidCrawlItem(ValueError):
    """The item can never be crawled as written (bad mall, empty keyword, ...)."""


@dataclass(frozen=True)
class CrawlItem:
    kind: CrawlKind
    item_id: int
    wishlist_id: int
    mall_id: int
    target: str
    limit: int | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.kind.value, self.item_id)

    def validate(self) -> None:
        """Raise InvalidCrawlItem with a clear reason; run before handing to any crawler."""
        try:
            Mall.parse(self.mall_id)
        except ValueError as exc:
            raise InvalidCrawlItem(f"{self.kind.table} id={self.item_id}: {exc}") from None
        if not (self.target or "").strip():
            raise InvalidCrawlItem(f"{self.kind.table} id={self.item_id}: empty {self.kind.target_column}")
        if self.limit is not None and self.limit <= 0:
            raise InvalidCrawlItem(f"{self.kind.table} id={self.item_id}: {self.kind.limit_column} must be positive")


@dataclass
class CrawlOutcome:
    item: CrawlItem
    status: CrawlStatus
    error: str | None = None
    job_id: str | None = None
    found_products: list[str] = field(default_factory=list)  # mall_product_ids crawled

    @classmethod
    def success(cls, item: CrawlItem, found: list[str], job_id: str | None = None) -> CrawlOutcome:
        return cls(item, CrawlStatus.SUCCESS, None, job_id, found)

    @classmethod
    def failed(cls, item: CrawlItem, reason: str, job_id: str | None = None) -> CrawlOutcome:
        return cls(item, CrawlStatus.ERROR, reason[:1000], job_id)

    @classmethod
    def canceled(cls, item: CrawlItem, reason: str, job_id: str | None = None) -> CrawlOutcome:
        return cls(item, CrawlStatus.CANCELED, reason[:1000], job_id)
