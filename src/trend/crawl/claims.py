"""Claiming crawl items atomically and recording what the crawler said.

A run claims New items and Error items whose automatic retry is due (trend.crawl.retry).
Claims use ``SELECT … FOR UPDATE SKIP LOCKED`` on the item table alone: two concurrent
runs lock disjoint rows, and a row only leaves New/Error inside the claiming transaction. Only
items of Active wishlists are claimed (wishlist_to_groups.status = 1); the wishlists (and,
for review items, the product items) are looked up first with a plain read, so the claim
never locks rows of other tables. Every status write is conditional on the status it
expects, so replaying a step changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from trend.crawl.items import CrawlItem, CrawlKind, CrawlOutcome, InvalidCrawlItem, claimable_sql, items_sql
from trend.crawl.retry import DEFAULT_POLICY, RetryPolicy
from trend.db import table, transaction
from trend.status import CrawlStatus, WishlistStatus

log = logging.getLogger(__name__)


@dataclass
class ClaimResult:
    claimed: list[CrawlItem]
    rejected: list[CrawlOutcome]  # invalid items, already set to Error


def item_from_row(kind: CrawlKind, row: dict) -> CrawlItem:
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
    """Plain read: the column the item table links by, and its values for Active wishlists with claimable items."""
    wishlists = table("gb_console", "wishlist_to_groups")
    where, params = f"{claimable_sql('v')} AND w.status = %s", [int(WishlistStatus.ACTIVE)]
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


def _lock_claimable(cur, kind: CrawlKind, limit: int, wishlist_id: int | None) -> list[CrawlItem]:
    """Lock up to ``limit`` claimable items of Active wishlists (SKIP LOCKED) and return them."""
    column, owners = _owners(cur, kind, wishlist_id)
    if not owners:
        return []
    cur.execute(
        f"SELECT id FROM {table('gb_console', kind.table)} i WHERE {claimable_sql('i')} "
        f"AND {column} IN ({_marks(owners)}) ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
        (*owners, limit),
    )
    ids = [int(r["id"]) for r in cur.fetchall()]
    if not ids:
        return []
    cur.execute(f"SELECT * FROM ({items_sql(kind)}) v WHERE v.id IN ({_marks(ids)}) ORDER BY v.id", ids)
    return [item_from_row(kind, row) for row in cur.fetchall()]


def claim_items(conn, limit_per_kind: int = 100, wishlist_id: int | None = None) -> ClaimResult:
    """Move up to ``limit_per_kind`` claimable items of each table to InProgress and return them.

    Claimable: New, or Error with a due automatic retry. ``wishlist_id`` (a wishlist_to_groups.id)
    restricts the claim to one wishlist. Items that fail validation go straight to Error with the
    reason and no retry; they are never handed to a crawler.
    """
    claimed: list[CrawlItem] = []
    rejected: list[CrawlOutcome] = []
    claimable = (int(CrawlStatus.NEW), int(CrawlStatus.ERROR))
    with transaction(conn) as cur:
        for kind in CrawlKind:
            for item in _lock_claimable(cur, kind, limit_per_kind, wishlist_id):
                try:
                    item.validate()
                except InvalidCrawlItem as exc:
                    rejected.append(CrawlOutcome.failed(item, str(exc), transient=False))
                    cur.execute(
                        f"UPDATE {table('gb_console', kind.table)} SET crawl_status = %s, crawl_error = %s, "
                        "next_attempt_at = NULL, crawled_at = CURRENT_TIMESTAMP(3) "
                        "WHERE id = %s AND crawl_status IN (%s, %s)",
                        (int(CrawlStatus.ERROR), str(exc)[:1000], item.item_id, *claimable),
                    )
                    log.warning("rejected %s", exc)
                    continue
                cur.execute(
                    f"UPDATE {table('gb_console', kind.table)} SET crawl_status = %s, "
                    "claimed_at = CURRENT_TIMESTAMP(3), crawl_error = NULL, next_attempt_at = NULL "
                    "WHERE id = %s AND crawl_status IN (%s, %s)",
                    (int(CrawlStatus.IN_PROGRESS), item.item_id, *claimable),
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


def _outcome_assignments(outcome: CrawlOutcome, policy: RetryPolicy) -> tuple[str, tuple]:
    """SET clause (after crawl_status) for one final outcome: retry bookkeeping and the error text."""
    if outcome.status is CrawlStatus.SUCCESS:
        return "crawl_error = NULL, attempt_count = 0, next_attempt_at = NULL", ()
    if outcome.status is CrawlStatus.CANCELED:
        return "crawl_error = %s, next_attempt_at = NULL", (outcome.error,)
    if not outcome.transient:
        return "crawl_error = %s, next_attempt_at = NULL, attempt_count = attempt_count + 1", (outcome.error,)
    retry_sql, retry_params = policy.error_assignments()
    gave_up = (
        "crawl_error = LEFT(IF(attempt_count + 1 >= %s, CONCAT(%s, ' [no automatic retry left after ', "
        "attempt_count + 1, ' attempts]'), %s), 1000)"
    )
    return f"{gave_up}, {retry_sql}", (policy.max_attempts, outcome.error, outcome.error, *retry_params)


def record_outcomes(conn, outcomes: list[CrawlOutcome], policy: RetryPolicy = DEFAULT_POLICY) -> dict[str, int]:
    """Write final statuses for InProgress items; items no longer InProgress are left alone.

    A transient Error schedules the item's automatic retry (``policy``); Success clears the count.
    """
    with transaction(conn) as cur:
        counts = record_in_transaction(cur, outcomes, policy)
    log.info("recorded outcomes: %s", counts)
    return counts


def record_in_transaction(cur, outcomes: list[CrawlOutcome], policy: RetryPolicy = DEFAULT_POLICY) -> dict[str, int]:
    """record_outcomes' writes on the caller's cursor (the caller commits)."""
    counts = {s.name: 0 for s in CrawlStatus if s.is_final}
    counts["skipped"] = 0
    for outcome in outcomes:
        item = outcome.item
        if not outcome.status.is_final:
            raise ValueError(f"{item.kind.table} id={item.item_id}: outcome {outcome.status!r} is not final")
        assignments, params = _outcome_assignments(outcome, policy)
        cur.execute(
            f"UPDATE {table('gb_console', item.kind.table)} SET crawl_status = %s, {assignments}, "
            "crawl_job_id = %s, crawled_at = CURRENT_TIMESTAMP(3) WHERE id = %s AND crawl_status = %s",
            (int(outcome.status), *params, outcome.job_id, item.item_id, int(CrawlStatus.IN_PROGRESS)),
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
    return counts
