"""Bringing crawl items back: items stuck InProgress, and a wishlist's failed items on request.

- ``reconcile_stuck_items`` (dataset_status_sync): an item InProgress longer than the timeout
  whose data did arrive in analyzer_v2 after it was claimed (its product, or its category's
  products, with ``crawled_at`` at or after ``claimed_at``) becomes Success with those products;
  otherwise Error, transient: the automatic retry (trend.crawl.retry) picks it up again.
- ``retry_failed_items`` (DAG ``crawl_retry_failed``, the UI's "retry this wishlist's failed
  items"): the wishlist's Error and Canceled items go back to New with a fresh attempt count.
"""

from __future__ import annotations

import logging
from datetime import datetime

from trend.crawl.claims import item_from_row, record_in_transaction
from trend.crawl.items import CrawlItem, CrawlKind, CrawlOutcome, items_sql
from trend.crawl.retry import DEFAULT_POLICY, RetryPolicy
from trend.db import table, transaction
from trend.status import CrawlStatus, InputType, WishlistStatus

log = logging.getLogger(__name__)


def _arrived(cur, item: CrawlItem, claimed_at: datetime) -> list[str]:
    """mall_product_ids the item's crawl stored after it was claimed ([] when we cannot tell)."""
    products = table("analyzer_v2", "products")
    since = "mall_id = %s AND crawled_at >= %s"
    if item.kind.names_products and item.input_type == InputType.MALL_PRODUCT_ID:
        sql, params = f"{since} AND mall_product_id = %s", (item.mall_id, claimed_at, item.target)
    elif item.kind.names_products and item.input_type == InputType.URL:
        sql, params = f"{since} AND url = %s", (item.mall_id, claimed_at, item.target)
    elif item.kind is CrawlKind.CATEGORY:
        sql, params = f"{since} AND category_code = %s", (item.mall_id, claimed_at, item.target)
    else:  # a search's results cannot be told apart from other crawls
        return []
    limit = int(item.limit) if item.limit and not item.kind.names_products else 1
    cur.execute(
        f"SELECT mall_product_id FROM {products} WHERE {sql} AND mall_product_id IS NOT NULL "
        "ORDER BY mall_product_id LIMIT %s",
        (*params, limit),
    )
    return [r["mall_product_id"] for r in cur.fetchall()]


def reconcile_stuck_items(
    conn, timeout_minutes: int, policy: RetryPolicy = DEFAULT_POLICY
) -> dict[str, list[tuple[str, int]]]:
    """InProgress items claimed more than ``timeout_minutes`` ago: Success if their data arrived, else Error.

    Returns ``{"success": [(table, id)], "error": [(table, id)]}``. ``conn`` must reach gb_console
    and analyzer_v2 (one server).
    """
    done: dict[str, list[tuple[str, int]]] = {"success": [], "error": []}
    with transaction(conn) as cur:
        for kind in CrawlKind:
            cur.execute(
                f"SELECT id FROM {table('gb_console', kind.table)} WHERE crawl_status = %s "
                "AND claimed_at < CURRENT_TIMESTAMP(3) - INTERVAL %s MINUTE ORDER BY id FOR UPDATE SKIP LOCKED",
                (int(CrawlStatus.IN_PROGRESS), timeout_minutes),
            )
            ids = [int(r["id"]) for r in cur.fetchall()]
            if not ids:
                continue
            cur.execute(f"SELECT * FROM ({items_sql(kind)}) v WHERE v.id IN ({', '.join(['%s'] * len(ids))})", ids)
            outcomes = []
            for row in cur.fetchall():
                item = item_from_row(kind, row)
                found = _arrived(cur, item, row["claimed_at"])
                if found:
                    outcomes.append(CrawlOutcome.success(item, found))
                    done["success"].append((kind.table, item.item_id))
                    log.warning("%s id=%s stuck InProgress but its data arrived: Success", kind.table, item.item_id)
                else:
                    reason = f"stuck InProgress for more than {timeout_minutes} minutes and no data arrived"
                    outcomes.append(CrawlOutcome.failed(item, reason))
                    done["error"].append((kind.table, item.item_id))
                    log.warning("%s id=%s %s: Error (retried automatically)", kind.table, item.item_id, reason)
            record_in_transaction(cur, outcomes, policy)
    return done


class UnknownWishlistItems(LookupError):
    """No such wishlist, or it is not active (its items are not crawled)."""


def retry_failed_items(conn, wishlist_id: int) -> dict[str, int]:
    """The wishlist's Error and Canceled items back to New (attempt count 0), in one transaction.

    Returns the number of items reset per summary table. Idempotent: a second call resets nothing.
    """
    reset: dict[str, int] = {}
    with transaction(conn) as cur:
        cur.execute(f"SELECT status FROM {table('gb_console', 'wishlist_to_groups')} WHERE id = %s", (wishlist_id,))
        row = cur.fetchone()
        if row is None:
            raise UnknownWishlistItems(f"wishlist {wishlist_id} does not exist (wishlist_to_groups)")
        if int(row["status"]) != WishlistStatus.ACTIVE:
            raise UnknownWishlistItems(f"wishlist {wishlist_id} is not active (status {row['status']}): not crawled")
        for kind in CrawlKind:
            cur.execute(
                f"SELECT v.id, v.crawl_status, i.crawl_error FROM ({items_sql(kind)}) v "
                f"JOIN {table('gb_console', kind.table)} i ON i.id = v.id "
                "WHERE v.wishlist_to_group_id = %s AND v.crawl_status IN (%s, %s) FOR UPDATE",
                (wishlist_id, int(CrawlStatus.ERROR), int(CrawlStatus.CANCELED)),
            )
            rows = cur.fetchall()
            for r in rows:
                log.info(
                    "%s id=%s: %s (%s) -> New (manual retry of wishlist %s)",
                    kind.table,
                    r["id"],
                    CrawlStatus(r["crawl_status"]).name,
                    r["crawl_error"],
                    wishlist_id,
                )
                cur.execute(
                    f"UPDATE {table('gb_console', kind.table)} SET crawl_status = %s, crawl_error = NULL, "
                    "attempt_count = 0, next_attempt_at = NULL, claimed_at = NULL WHERE id = %s AND crawl_status = %s",
                    (int(CrawlStatus.NEW), r["id"], r["crawl_status"]),
                )
            reset[kind.table] = len(rows)
    return reset
