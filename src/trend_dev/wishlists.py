"""What trend-viewer-api writes when a user creates a wishlist (the document's Phase 1), for the
demo, tests and benchmarks. Each function runs the document's INSERT with our optional extras
(limits) and returns the new row's id; the caller commits.
"""

from __future__ import annotations

from trend.db import table
from trend.status import CrawlStatus, InputType, Mall, WishlistStatus


def _insert(cur, name: str, values: dict) -> int:
    columns = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    cur.execute(f"INSERT INTO {table('gb_console', name)} ({columns}) VALUES ({marks})", tuple(values.values()))
    return int(cur.lastrowid)


def wishlist(
    cur,
    name: str,
    group_id: int = 1,
    status: WishlistStatus = WishlistStatus.ACTIVE,
    viewpoint_category_id: int | None = None,
    subscription_id: int | None = None,
    wishlist_id: int | None = None,
) -> int:
    """A wishlist (``wishlist_id``: a given id, else the next one)."""
    return _insert(
        cur,
        "wishlist_to_groups",
        {
            **({"id": wishlist_id} if wishlist_id is not None else {}),
            "name": name,
            "group_id": group_id,
            "subscription_id": subscription_id,
            "status": int(status),
            "viewpoint_category_id": viewpoint_category_id,
        },
    )


def product(
    cur, wishlist_id: int, input_: str, mall_id: int = Mall.SYNTHETIC, input_type: int = InputType.MALL_PRODUCT_ID
) -> int:
    return _insert(
        cur,
        "summary_wishlist_products",
        {
            "wishlist_to_group_id": wishlist_id,
            "input": input_,
            "input_type": int(input_type),
            "mall_id": int(mall_id),
            "crawl_status": int(CrawlStatus.NEW),
        },
    )


def product_reviews(cur, product_item_id: int, schedule_id: int | None = None, max_reviews: int = 1000) -> int:
    return _insert(
        cur,
        "summary_wishlist_product_reviews",
        {
            "summary_wishlist_product_id": product_item_id,
            "schedule_id": schedule_id,
            "max_reviews": max_reviews,
            "crawl_status": int(CrawlStatus.NEW),
        },
    )


def product_with_reviews(cur, wishlist_id: int, input_: str, mall_id: int = Mall.SYNTHETIC, **kwargs) -> int:
    """A product item and its reviews item; returns the reviews item's id."""
    return product_reviews(cur, product(cur, wishlist_id, input_, mall_id), **kwargs)


def category(cur, wishlist_id: int, category_id: str, mall_id: int = Mall.SYNTHETIC, max_products: int = 20) -> int:
    return _insert(
        cur,
        "summary_wishlist_categories",
        {
            "category_id": category_id,
            "mall_id": int(mall_id),
            "wishlist_to_group_id": wishlist_id,
            "max_products": max_products,
            "crawl_status": int(CrawlStatus.NEW),
        },
    )


def search_query(cur, wishlist_id: int, keyword: str, mall_id: int = Mall.SYNTHETIC, max_products: int = 20) -> int:
    return _insert(
        cur,
        "summary_wishlist_search_queries",
        {
            "keyword": keyword,
            "mall_id": int(mall_id),
            "wishlist_to_group_id": wishlist_id,
            "max_products": max_products,
            "crawl_status": int(CrawlStatus.NEW),
        },
    )
