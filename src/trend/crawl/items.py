"""What a wishlist asks us to crawl: one dataclass for the four summary tables.

A wishlist is one ``gb_console.wishlist_to_groups`` row; in Python its id is called
``wishlist_id`` (DAG params, function arguments), in SQL ``wishlist_to_group_id``.
Product, category and search-query items point at their wishlist; a product-reviews item
points at its product item (``summary_wishlist_product_id``) and takes the mall, input and
wishlist from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from trend.db import table
from trend.status import CrawlStatus, InputType, Mall


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
        """The column naming what to crawl (on the product item for PRODUCT_REVIEWS)."""
        return _TARGETS[self]

    @property
    def limit_column(self) -> str | None:
        return _LIMITS[self]

    @property
    def names_products(self) -> bool:
        """Product and product-reviews items name one product (by input/input_type)."""
        return self in (CrawlKind.PRODUCT, CrawlKind.PRODUCT_REVIEWS)


_TABLES = {
    CrawlKind.PRODUCT: "summary_wishlist_products",
    CrawlKind.PRODUCT_REVIEWS: "summary_wishlist_product_reviews",
    CrawlKind.CATEGORY: "summary_wishlist_categories",
    CrawlKind.SEARCH_QUERY: "summary_wishlist_search_queries",
}
_TARGETS = {
    CrawlKind.PRODUCT: "input",
    CrawlKind.PRODUCT_REVIEWS: "input",
    CrawlKind.CATEGORY: "category_id",
    CrawlKind.SEARCH_QUERY: "keyword",
}
_LIMITS = {
    CrawlKind.PRODUCT: None,
    CrawlKind.PRODUCT_REVIEWS: "max_reviews",
    CrawlKind.CATEGORY: "max_products",
    CrawlKind.SEARCH_QUERY: "max_products",
}


_STATE = "i.crawl_status, i.crawled_at, i.claimed_at, i.next_attempt_at"


def claimable_sql(alias: str) -> str:
    """Items a crawl run may claim: New, or Error with an automatic retry that is due."""
    return (
        f"({alias}.crawl_status = {int(CrawlStatus.NEW)} OR ({alias}.crawl_status = {int(CrawlStatus.ERROR)} "
        f"AND {alias}.next_attempt_at <= CURRENT_TIMESTAMP(3)))"
    )


def items_sql(kind: CrawlKind) -> str:
    """A derived table of one kind's items with uniform columns.

    (id, wishlist_to_group_id, mall_id, target, input_type, item_limit, crawl_status, crawled_at,
    claimed_at, next_attempt_at)
    """
    own = table("gb_console", kind.table)
    limit = f"i.{kind.limit_column}" if kind.limit_column else "NULL"
    if kind is CrawlKind.PRODUCT_REVIEWS:
        products = table("gb_console", CrawlKind.PRODUCT.table)
        return (
            f"SELECT i.id, p.wishlist_to_group_id, p.mall_id, p.input AS target, p.input_type, {limit} AS item_limit, "
            f"{_STATE} FROM {own} i JOIN {products} p ON p.id = i.summary_wishlist_product_id"
        )
    input_type = "i.input_type" if kind is CrawlKind.PRODUCT else "NULL"
    return (
        f"SELECT i.id, i.wishlist_to_group_id, i.mall_id, i.{kind.target_column} AS target, "
        f"{input_type} AS input_type, {limit} AS item_limit, {_STATE} FROM {own} i"
    )


class InvalidCrawlItem(ValueError):
    """The item can never be crawled as written (bad mall, empty keyword, ...)."""


@dataclass(frozen=True)
class CrawlItem:
    kind: CrawlKind
    item_id: int
    wishlist_id: int  # gb_console.wishlist_to_groups.id
    mall_id: int
    target: str
    limit: int | None = None
    input_type: int | None = None  # trend.status.InputType for product kinds

    @property
    def key(self) -> tuple[str, int]:
        return (self.kind.value, self.item_id)

    def validate(self) -> None:
        """Raise InvalidCrawlItem with a clear reason; run before handing to any crawler."""
        where = f"{self.kind.table} id={self.item_id}"
        try:
            Mall.parse(self.mall_id)
        except ValueError as exc:
            raise InvalidCrawlItem(f"{where}: {exc}") from None
        if not (self.target or "").strip():
            raise InvalidCrawlItem(f"{where}: empty {self.kind.target_column}")
        if self.limit is not None and self.limit <= 0:
            raise InvalidCrawlItem(f"{where}: {self.kind.limit_column} must be positive")
        if self.kind.names_products and self.input_type not in {int(t) for t in InputType}:
            raise InvalidCrawlItem(
                f"{where}: unknown input_type {self.input_type!r}; known: {[int(t) for t in InputType]}"
            )

    def named_product(self) -> str | None:
        """The mall product id the item names itself (mall-product-id inputs), else None."""
        if self.kind.names_products and self.input_type == InputType.MALL_PRODUCT_ID:
            return self.target
        return None


@dataclass
class CrawlOutcome:
    item: CrawlItem
    status: CrawlStatus
    error: str | None = None
    job_id: str | None = None
    found_products: list[str] = field(default_factory=list)  # mall_product_ids crawled
    transient: bool = True  # an Error worth retrying automatically (see crawl.retry)

    @classmethod
    def success(cls, item: CrawlItem, found: list[str], job_id: str | None = None) -> CrawlOutcome:
        return cls(item, CrawlStatus.SUCCESS, None, job_id, found)

    @classmethod
    def failed(cls, item: CrawlItem, reason: str, job_id: str | None = None, transient: bool = True) -> CrawlOutcome:
        return cls(item, CrawlStatus.ERROR, reason[:1000], job_id, transient=transient)

    @classmethod
    def canceled(cls, item: CrawlItem, reason: str, job_id: str | None = None) -> CrawlOutcome:
        return cls(item, CrawlStatus.CANCELED, reason[:1000], job_id, transient=False)
