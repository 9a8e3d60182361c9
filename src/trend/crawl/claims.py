"""Claiming New crawl items atomically and recording what the crawler said.

Claims use ``SELECT … FOR UPDATE SKIP LOCKED``: two concurrent runs lock
disjoint rows, and a row only leaves New inside the claiming transaction.
Every status write is conditional on the status it expects, so replaying a
step changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from trend.crawl.items import CrawlItem, CrawlKind, CrawlOutcome, InvalidCrawlItem
from trend.db import table, transaction
from trend.status import CrawlStatus

log = logging.getLogger(__name__)


@dataclass
class ClaimResult:
    claimed: list[CrawlItem]
    rejected: list[CrawlOutcome]  # invalid items, already set to Error


def _item(kind: CrawlKind, row: dict) -> CrawlItem:
    limit_col = kind.limit_column
    return CrawlItem(
        kind=kind,
        item_id=int(row["id"]),
        wishlist_id=int(row["wishlist_id"]),
        mall_id=int(row["mall_id"]),
        target=row[kind.target_column] or "",
        limit=int(row[limit_col]) if limit_col and row[limit_col] is not None else None,
    )


def claim_new_items(conn, limit_per_kind: int = 100, wishlist_id: int | None = None) -> ClaimResult:
    """Move up to ``limit_per_kind`` New items of each table to InProgress and return them.

    Items that fail validation go straight to Error with the reason; they are
    never handed to a crawler.
    """
    claimed: list[CrawlItem] = []
    rejected: list[CrawlOutcome] = []
    with transaction(conn) as cur:
        for kind in CrawlKind:
            columns = ["id", "wishlist_id", "mall_id", kind.target_column]
            if kind.limit_column:
                columns.append(kind.limit_column)
            where = "crawl_status = %s"
            params: list = [int(CrawlStatus.NEW)]
            if wishlist_id is not None:
                where += " AND wishlist_id = %s"
                params.append(wishlist_id)
            cur.execute(
                f"SELECT {', '.join(columns)} FROM {table('gb_console', kind.table)} "
                f"WHERE {where} ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                (*params, limit_per_kind),
            )
            for row in cur.fetchall():
                item = _item(kind, row)
                try:
                    item.validate()
                except InvalidCrawlItem as exc:
                    rejected.append(CrawlOutcome.failed(item, str(exc)))
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
            if outcome.status is CrawlStatus.SUCCESS and item.kind in (CrawlKind.CATEGORY, CrawlKind.SEARCH_QUERY):
                cur.executemany(
                    f"INSERT IGNORE INTO {table('gb_console', 'summary_wishlist_found_products')} "
                    "(wishlist_id, source_table, source_id, mall_id, mall_product_id) VALUES (%s, %s, %s, %s, %s)",
                    [
                        (item.wishlist_id, item.kind.table, item.item_id, item.mall_id, pid)
                        for pid in outcome.found_products
                    ],
                )
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
