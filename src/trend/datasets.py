"""Dataset creation: turn a fully crawled wishlist into a dataset, and keep histories in step.

A wishlist is one gb_console.wishlist_to_groups row (name, group_id, status). Dataset
creation is one transaction over gb_console and ds_analyzer (same server): the datasets
row and the wishlist_dataset_histories row appear together or not at all. A snapshot key
(hash of the crawl results used, kept in the history's ``config``) makes reruns create
nothing twice, while a re-crawl of the wishlist yields a new one.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass

import MySQLdb

from trend.crawl.items import CrawlKind, items_sql
from trend.db import table, transaction
from trend.status import CrawlStatus, DatasetStatus, HistoryStatus, SpvpStatus, WishlistStatus

log = logging.getLogger(__name__)


class MalformedSettings(ValueError):
    """datasets.settings is not the JSON object the jobs expect."""


@dataclass(frozen=True)
class DatasetSettings:
    """The parsed ``datasets.settings`` column; the one place its shape is checked."""

    product_ids: tuple[int, ...]
    wishlist_id: int | None = None  # gb_console.wishlist_to_groups.id
    snapshot_key: str | None = None

    @classmethod
    def parse(cls, raw: str | bytes | dict | None, dataset_id: int | None = None) -> DatasetSettings:
        where = f"dataset {dataset_id}: " if dataset_id is not None else ""
        try:
            data = json.loads(raw) if isinstance(raw, (str, bytes)) else raw
        except json.JSONDecodeError as exc:
            raise MalformedSettings(f"{where}settings is not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise MalformedSettings(f"{where}settings must be a JSON object")
        ids = data.get("product_ids")
        if not isinstance(ids, list) or not ids:
            raise MalformedSettings(f"{where}settings.product_ids must be a non-empty list")
        if not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ids):
            raise MalformedSettings(f"{where}settings.product_ids must hold positive integers")
        return cls(tuple(dict.fromkeys(ids)), data.get("wishlist_to_group_id"), data.get("snapshot_key"))

    def to_json(self) -> str:
        return json.dumps(
            {
                "product_ids": list(self.product_ids),
                "wishlist_to_group_id": self.wishlist_id,
                "snapshot_key": self.snapshot_key,
            }
        )


class WishlistNotReady(RuntimeError):
    """The wishlist has crawl items that are not (all) successful yet."""


class UnknownWishlist(LookupError):
    pass


@dataclass(frozen=True)
class CreatedDataset:
    wishlist_id: int  # gb_console.wishlist_to_groups.id
    group_id: int
    dataset_id: int
    history_id: int
    product_count: int
    created: bool  # False when an identical dataset already existed (rerun)
    viewpoint_category_id: int | None = None  # from wishlist_to_groups; SPVP needs one


def _all_items_sql() -> str:
    """Every crawl item of every kind: (kind table, id, wishlist_to_group_id, crawl_status, crawled_at)."""
    return " UNION ALL ".join(
        f"SELECT '{kind.table}' AS t, v.id, v.wishlist_to_group_id, v.crawl_status, v.crawled_at "
        f"FROM ({items_sql(kind)}) v"
        for kind in CrawlKind
    )


def _item_summary(cur, wishlist_id: int) -> dict[str, dict[int, int]]:
    """crawl_status counts per summary table for one wishlist."""
    cur.execute(
        f"SELECT t, crawl_status, COUNT(*) AS n FROM ({_all_items_sql()}) items "
        "WHERE wishlist_to_group_id = %s GROUP BY t, crawl_status",
        (wishlist_id,),
    )
    summary: dict[str, dict[int, int]] = {kind.table: {} for kind in CrawlKind}
    for r in cur.fetchall():
        summary[r["t"]][int(r["crawl_status"])] = int(r["n"])
    return summary


def ready_wishlists(conn) -> list[int]:
    """Active wishlists whose every crawl item (in all four tables) succeeded, and that have items."""
    with transaction(conn) as cur:
        cur.execute(
            f"SELECT items.wishlist_to_group_id AS w FROM ({_all_items_sql()}) items "
            f"JOIN {table('gb_console', 'wishlist_to_groups')} g ON g.id = items.wishlist_to_group_id "
            "WHERE g.status = %s GROUP BY items.wishlist_to_group_id "
            "HAVING SUM(items.crawl_status <> %s) = 0 ORDER BY items.wishlist_to_group_id",
            (int(WishlistStatus.ACTIVE), int(CrawlStatus.SUCCESS)),
        )
        return [int(r["w"]) for r in cur.fetchall()]


def _wishlist_products(cur, wishlist_id: int) -> tuple[list[int], str]:
    """analyzer_v2 product ids the wishlist's items found, and the snapshot key of its crawl."""
    cur.execute(
        f"""SELECT DISTINCT p.id FROM {table("analyzer_v2", "products")} p
            JOIN {table("gb_console", "summary_wishlist_found_products")} f
              ON f.mall_id = p.mall_id AND f.mall_product_id = p.mall_product_id
            WHERE f.wishlist_to_group_id = %s ORDER BY p.id""",
        (wishlist_id,),
    )
    rows = cur.fetchall()
    cur.execute(
        f"SELECT t, id, crawled_at FROM ({_all_items_sql()}) items WHERE wishlist_to_group_id = %s ORDER BY t, id",
        (wishlist_id,),
    )
    digest = hashlib.sha256()
    for item in cur.fetchall():
        digest.update(f"{item['t']}:{item['id']}:{item['crawled_at']}\n".encode())
    return [int(r["id"]) for r in rows], digest.hexdigest()


def _check_ready(cur, wishlist_id: int) -> dict:
    """The wishlist row, locked; raises UnknownWishlist / WishlistNotReady with the reason."""
    cur.execute(
        f"SELECT id, group_id, name, status, viewpoint_category_id FROM {table('gb_console', 'wishlist_to_groups')} "
        "WHERE id = %s FOR UPDATE",
        (wishlist_id,),
    )
    wishlist = cur.fetchone()
    if not wishlist:
        raise UnknownWishlist(f"wishlist {wishlist_id} does not exist (wishlist_to_groups)")
    if int(wishlist["status"]) != WishlistStatus.ACTIVE:
        raise WishlistNotReady(f"wishlist {wishlist_id} is not active (status {wishlist['status']})")
    summary = _item_summary(cur, wishlist_id)
    if not any(summary.values()):
        raise WishlistNotReady(f"wishlist {wishlist_id} has no crawl items")
    pending = {t: c for t, c in summary.items() if any(s != CrawlStatus.SUCCESS for s in c)}
    if pending:
        raise WishlistNotReady(f"wishlist {wishlist_id} is not fully crawled: {pending}")
    return wishlist


def create_dataset_for_wishlist(conn, wishlist_id: int) -> CreatedDataset:
    """Create the wishlist's dataset + history for its current crawl, in one transaction.

    ``conn`` must reach all three databases (they live on one server). Raises
    UnknownWishlist for an unknown wishlist id, WishlistNotReady if the wishlist is inactive,
    has items that did not succeed, or found no products.
    """
    with transaction(conn) as cur:
        wishlist = _check_ready(cur, wishlist_id)
        product_ids, snapshot = _wishlist_products(cur, wishlist_id)
        if not product_ids:
            raise WishlistNotReady(f"wishlist {wishlist_id} crawled no products")
        group_id = int(wishlist["group_id"])
        cur.execute(
            f"SELECT id, dataset_id FROM {table('gb_console', 'wishlist_dataset_histories')} "
            "WHERE wishlist_to_group_id = %s AND snapshot_key = %s",
            (wishlist_id, snapshot),
        )
        existing = cur.fetchone()
        if existing:
            return CreatedDataset(
                wishlist_id,
                group_id,
                int(existing["dataset_id"]),
                int(existing["id"]),
                len(product_ids),
                created=False,
                viewpoint_category_id=wishlist["viewpoint_category_id"],
            )
        settings = DatasetSettings(tuple(product_ids), wishlist_id, snapshot)
        cur.execute(
            f"INSERT INTO {table('ds_analyzer', 'datasets')} "
            "(name, group_id, viewpoint_category_id, settings, status, progress) VALUES (%s, %s, %s, %s, %s, 0)",
            (
                wishlist["name"],
                group_id,
                wishlist["viewpoint_category_id"],
                settings.to_json(),
                int(DatasetStatus.PENDING),
            ),
        )
        dataset_id = int(cur.lastrowid)
        cur.execute(
            f"INSERT INTO {table('gb_console', 'wishlist_dataset_histories')} "
            "(wishlist_to_group_id, dataset_id, config, status, spvp_status) VALUES (%s, %s, %s, %s, %s)",
            (
                wishlist_id,
                dataset_id,
                json.dumps({"snapshot_key": snapshot, "product_count": len(product_ids)}),
                int(HistoryStatus.PENDING),
                int(SpvpStatus.WAITING),
            ),
        )
        created = CreatedDataset(
            wishlist_id,
            group_id,
            dataset_id,
            int(cur.lastrowid),
            len(product_ids),
            created=True,
            viewpoint_category_id=wishlist["viewpoint_category_id"],
        )
    log.info("created dataset %s for wishlist %s (%d products)", dataset_id, wishlist_id, len(product_ids))
    return created


@dataclass(frozen=True)
class CreationFailure:
    wishlist_id: int
    error: str  # exception class and message


@dataclass
class CreationReport:
    created: list[CreatedDataset]
    failed: list[CreationFailure]


# What one wishlist can fail with on its own; anything else (the server went away) fails the run.
PER_WISHLIST_ERRORS = (WishlistNotReady, UnknownWishlist, MySQLdb.IntegrityError, MySQLdb.DataError)


def create_ready_datasets(conn) -> CreationReport:
    """A dataset for every ready wishlist, each in its own transaction: one that fails is reported
    (and logged with its reason) while the others are still created."""
    report = CreationReport([], [])
    for wishlist_id in ready_wishlists(conn):
        try:
            report.created.append(create_dataset_for_wishlist(conn, wishlist_id))
        except PER_WISHLIST_ERRORS as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.error("wishlist %s: no dataset created: %s", wishlist_id, error)
            report.failed.append(CreationFailure(wishlist_id, error))
    return report


@dataclass(frozen=True)
class HistoryChange:
    history_id: int
    dataset_id: int
    status: tuple[int, int]  # (before, after)
    spvp_status: tuple[int, int]


def sync_dataset_histories(conn) -> list[HistoryChange]:
    """Make histories follow their datasets. Idempotent; returns what changed.

    dataset 2 → history 2; dataset 3 → history 3 and spvp 1 → 2;
    dataset 9 → history 9 (spvp_status untouched: SPVP never ran).
    """
    changes: list[HistoryChange] = []
    with transaction(conn) as cur:
        cur.execute(
            f"""SELECT h.id, h.dataset_id, h.status, h.spvp_status, d.status AS dataset_status
                FROM {table("gb_console", "wishlist_dataset_histories")} h
                JOIN {table("ds_analyzer", "datasets")} d ON d.id = h.dataset_id
                WHERE h.status <> d.status FOR UPDATE"""
        )
        for row in cur.fetchall():
            new_status = int(row["dataset_status"])
            spvp = int(row["spvp_status"])
            new_spvp = spvp
            if new_status == DatasetStatus.COMPLETED and spvp == SpvpStatus.WAITING:
                new_spvp = int(SpvpStatus.PROCESSING)
            cur.execute(
                f"UPDATE {table('gb_console', 'wishlist_dataset_histories')} "
                "SET status = %s, spvp_status = %s WHERE id = %s AND status = %s",
                (new_status, new_spvp, row["id"], row["status"]),
            )
            change = HistoryChange(
                int(row["id"]), int(row["dataset_id"]), (int(row["status"]), new_status), (spvp, new_spvp)
            )
            log.info(
                "history %s (dataset %s): status %s -> %s, spvp_status %s -> %s",
                change.history_id,
                change.dataset_id,
                *change.status,
                *change.spvp_status,
            )
            changes.append(change)
    return changes


def ready_for_spvp(changes: list[HistoryChange]) -> int:
    """How many of these history changes made a dataset ready for SPVP (spvp_status → 2)."""
    return sum(1 for c in changes if c.spvp_status[0] != c.spvp_status[1] == SpvpStatus.PROCESSING)
