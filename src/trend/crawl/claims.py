"""Claiming New crawl items atomically and recording what the crawler said.

Claims use ``SELECT … FOR UPDATE SKIP LOCKED`` on the item table alone: two concurrent
runs lock disjoint rows, and a row only leaves New inside the claiming transaction. Only
items of Active wishlists are claimed (wishlist_to_groups.status = 1); the wishlists (and,
for review items, the product items) are looked up first with a plain read, so the claim
never locks rows of other tables. Every status write is conditional on the status it
expects, so replaying a step changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from trend.crawl.items import CrawlItem, CrawlKind, CrawlOutcome, InvalidCrawlItem, items_sql
from trend.db import table, transaction
from trend.status import CrawlStatus, WishlistStatus

log = logging.getLogger(__name__)


@dataclass
class ClaimResult:
    claimed: list[CrawlItem]
    rejected: list[CrawlOutcome]  # invalid items, already set to Error


def _item(kind: CrawlKind, row: dict) -> CrawlItem:
    return CrawlItem(
        kind=kind,
        item_id=int(row["id"]),
        wishlist_id=int(row["wishlist_to_group_id"]),
        mall_id=int(row["mall_id"]),
        target=row["target"] or "",
        limit=int(row["item_limit"]) if row["item_limit"] is not None else None,
        input_type=int(row["input_type"]) if row["input_type"] is not None else None,
    )


def _marks(values: list) -> str:
    return ", ".join(["%s"] * len(values))


def _owners(cur, kind: CrawlKind, wishlist_id: int | None) -> tuple[str, list[int]]:
    """Plain read: the column the item table links by, and its values for Active wishlists with New items."""
    wishlists = table("gb_console", "wishlist_to_groups")
    where, params = "v.crawl_status = %s AND w.status = %s", [int(CrawlStatus.NEW), int(WishlistStatus.ACTIVE)]
    if wishlist_id is not None:
        where += " AND w.id = %s"
        params.append(wishlist_id)
    if kind is CrawlKind.PRODUCT_REVIEWS:
        cur.execute(
            f"SELECT DISTINCT i.summary_wishlist_product_id AS owner FROM {table('gb_console', kind.table)} i "
            f"JOIN ({items_sql(kind)}) v ON v.id = i.id JOIN {wishlists} w ON w.id = v.wishlist_to_group_id "
            f"WHERE {where}",
            params,
        )
        return "summary_wishlist_product_id", [int(r["owner"]) for r in cur.fetchall()]
    cur.execute(
        f"SELECT DISTINCT v.wishlist_to_group_id AS owner FROM ({items_sql(kind)}) v "
        f"JOIN {wishlists} w ON w.id = v.wishlist_to_group_id WHERE {where}",
        params,
    )
    return "wishlist_to_group_id", [int(r["owner"]) for r in cur.fetchall()]


def _lock_new(cur, kind: CrawlKind, limit: int, wishlist_id: int | None) -> list[CrawlItem]:
    """Lock up to ``limit`` New items of Active wishlists (SKIP LOCKED) and return them."""
    column, owners = _owners(cur, kind, wishlist_id)
    if not owners:
        return []
    cur.execute(
        f"SELECT id FROM {table('gb_console', kind.table)} WHERE crawl_status = %s AND {column} IN ({_marks(owners)}) "
        "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
        (int(CrawlStatus.NEW), *owners, limit),
    )
    ids = [int(r["id"]) for r in cur.fetchall()]
    if not ids:
        return []
    cur.execute(f"SELECT * FROM ({items_sql(kind)}) v WHERE v.id IN ({_marks(ids)}) ORDER BY v.id", ids)
    return [_item(kind, row) for row in cur.fetchall()]


def claim_new_items(conn, limit_per_kind: int = 100, wishlist_id: int | None = None) -> ClaimResult:
    """Move up to ``limit_per_kind`` New items of each table to InProgress and return them.

    ``wishlist_id`` (a wishlist_to_groups.id) restricts the claim to one wishlist. Items that
    fail validation go straight to Error with the reason; they are never handed to a crawler.
    """
    claimed: list[CrawlItem] = []
    rejected: list[CrawlOutcome] = []
    with transaction(conn) as cur:
        for kind in CrawlKind:
            for item in _lock_new(cur, kind, limit_per_kind, wishlist_id):
                try:
                    item.validate()
                except InvalidCrawlItem as exc:
                    rejected.append(CrawlOutcome.failed(item, str(exc), transient=False))
                    cur.execute(
                        f"UPDATE {table('gb_console', kind.table)} SET crawl_status = %s, "
                        "crawl_error = %s, crawled_at = CURRENT_TIMESTAMP(3) WHERE id = %s AND crawl_status = %s",
                        (int(CrawlStatus.ERROR), str(exc)[:1000], item.item_id, int(CrawlStatus.NEW)),
                    )
                    log.warning("rejected %s", exc)
                    continue
                cur.execute(
                    f"UPDATE {table('gb_console', kind.table)} SET crawl_status = %s, "
                    "claimed_at = CURRENT_TIMESTAMP(3), crawl_error = NULL WHERE id = %s AND crawl_status = %s",
                    (int(CrawlStatus.IN_PROGRESS), item.item_id, int(CrawlStatus.NEW)),
                )
                claimed.append(item)
    log.info("claimed %d items, rejected %d", len(claimed), len(rejected))
    return ClaimResult(claimed, rejected)


def _record_found(cur, item: CrawlItem, found: list[str]) -> None:
    """The products a successful item covers; the dataset of its wishlist is built from these."""
    named = item.named_product()
    products = list(dict.fromkeys([*found, *([named] if named else [])]))
    cur.executemany(
        f"INSERT IGNORE INTO {table('gb_console', 'summary_wishlist_found_products')} "
        "(wishlist_to_group_id, source_table, source_id, mall_id, mall_product_id) VALUES (%s, %s, %s, %s, %s)",
        [(item.wishlist_id, item.kind.table, item.item_id, item.mall_id, pid) for pid in products],
    )


def record_outcomes(conn, outcomes: list[CrawlOutcome]) -> dict[str, int]:
    """Write final statuses for InProgress items; items no longer InProgress are left alone."""
    counts = {s.name: 0 for s in CrawlStatus if s.is_final}
    counts["skipped"] = 0
    with transaction(conn) as cur:
        for outcome in outcomes:
            item = outcome.item
            if not outcome.status.is_final:
                raise ValueError(f"{item.kind.table} id={item.item_id}: outcome {outcome.status!r} is not final")
            cur.execute(
                f"UPDATE {table('gb_console', item.kind.table)} SET crawl_status = %s, crawl_error = %s, "
                "crawl_job_id = %s, crawled_at = CURRENT_TIMESTAMP(3) WHERE id = %s AND crawl_status = %s",
                (int(outcome.status), outcome.error, outcome.job_id, item.item_id, int(CrawlStatus.IN_PROGRESS)),
            )
            if cur.rowcount == 0:
                counts["skipped"] += 1
                log.warning(
                    "%s id=%s was no longer InProgress; outcome %s not recorded",
                    item.kind.table,
                    item.item_id,
                    outcome.status.name,
                )
                continue
            counts[outcome.status.name] += 1
            if outcome.status is CrawlStatus.SUCCESS:
                _record_found(cur, item, outcome.found_products)
    log.info("recorded outcomes: %s", counts)
    return counts


def fail_stuck_items(conn, timeout_minutes: int) -> list[tuple[str, int]]:
    """InProgress items claimed longer than ``timeout_minutes`` ago go to Error."""
    failed: list[tuple[str, int]] = []
    with transaction(conn) as cur:
        for kind in CrawlKind:
            cur.execute(
                f"SELECT id FROM {table('gb_console', kind.table)} WHERE crawl_status = %s "
                "AND claimed_at < CURRENT_TIMESTAMP(3) - INTERVAL %s MINUTE FOR UPDATE SKIP LOCKED",
                (int(CrawlStatus.IN_PROGRESS), timeout_minutes),
            )
            ids = [int(r["id"]) for r in cur.fetchall()]
            for item_id in ids:
                cur.execute(
                    f"UPDATE {table('gb_console', kind.table)} SET crawl_status = %s, crawl_error = %s, "
                    "crawled_at = CURRENT_TIMESTAMP(3) WHERE id = %s AND crawl_status = %s",
                    (
                        int(CrawlStatus.ERROR),
                        f"stuck InProgress for more than {timeout_minutes} minutes",
                        item_id,
                        int(CrawlStatus.IN_PROGRESS),
                    ),
                )
                log.warning("%s id=%s stuck InProgress > %s min: set to Error", kind.table, item_id, timeout_minutes)
                failed.append((kind.table, item_id))
    return failed
