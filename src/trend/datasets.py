"""Dataset creation: turn a fully crawled wishlist into a dataset, and keep histories in step.

Dataset creation is one transaction over gb_console and ds_analyzer (same
server): the datasets row and the wishlist_dataset_histories row appear
together or not at all. A snapshot key (hash of the crawl results used) makes
reruns create nothing twice, while a re-crawl of the wishlist yields a new one.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass

from trend.crawl.items import CrawlKind
from trend.db import table, transaction
from trend.status import CrawlStatus, DatasetStatus, HistoryStatus, SpvpStatus

log = logging.getLogger(__name__)


class MalformedSettings(ValueError):
    """datasets.settings is not the JSON object the jobs expect."""


@dataclass(frozen=True)
class DatasetSettings:
    """The parsed ``datasets.settings`` column; the one place its shape is checked."""

    product_ids: tuple[int, ...]
    wishlist_id: int | None = None
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
        return cls(tuple(dict.fromkeys(ids)), data.get("wishlist_id"), data.get("snapshot_key"))

    def to_json(self) -> str:
        return json.dumps(
            {"product_ids": list(self.product_ids), "wishlist_id": self.wishlist_id, "snapshot_key": self.snapshot_key}
        )


class WishlistNotReady(RuntimeError):
    """The wishlist has crawl items that are not (all) successful yet."""


class UnknownWishlist(LookupError):
    pass


@dataclass(frozen=True)
class CreatedDataset:
    wishlist_id: int
    group_id: int
    dataset_id: int
    history_id: int
    product_count: int
    created: bool  # False when an identical dataset already existed (rerun)
    viewpoint_category_id: int | None = None  # from wishlist_to_groups; SPVP needs one


def _item_summary(cur, wishlist_id: int) -> dict[str, dict[int, int]]:
    """crawl_status counts per summary table for one wishlist."""
    summary = {}
    for kind in CrawlKind:
        cur.execute(
            f"SELECT crawl_status, COUNT(*) AS n FROM {table('gb_console', kind.table)} "
            "WHERE wishlist_id = %s GROUP BY crawl_status",
            (wishlist_id,),
        )
        summary[kind.table] = {int(r["crawl_status"]): int(r["n"]) for r in cur.fetchall()}
    return summary


def ready_wishlists(conn) -> list[int]:
    """Wishlists whose every crawl item (in all four tables) succeeded, and that have items."""
    unions = " UNION ALL ".join(
        f"SELECT wishlist_id, crawl_status FROM {table('gb_console', kind.table)}" for kind in CrawlKind
    )
    with transaction(conn) as cur:
        cur.execute(
            f"SELECT wishlist_id FROM ({unions}) items GROUP BY wishlist_id "
            "HAVING SUM(crawl_status <> %s) = 0 ORDER BY wishlist_id",
            (int(CrawlStatus.SUCCESS),),
        )
        return [int(r["wishlist_id"]) for r in cur.fetchall()]


def _wishlist_products(cur, wishlist_id: int) -> tuple[list[int], str]:
    """analyzer_v2 product ids the wishlist covers, and the snapshot key of its crawl."""
    cur.execute(
        f"""SELECT DISTINCT p.id, p.crawled_at FROM {table("analyzer_v2", "products")} p JOIN (
              SELECT mall_id, mall_product_id FROM {table("gb_console", "summary_wishlist_products")}
                WHERE wishlist_id = %s
              UNION SELECT mall_id, mall_product_id FROM {table("gb_console", "summary_wishlist_product_reviews")}
                WHERE wishlist_id = %s
              UNION SELECT mall_id, mall_product_id FROM {table("gb_console", "summary_wishlist_found_products")}
                WHERE wishlist_id = %s
            ) w ON w.mall_id = p.mall_id AND w.mall_product_id = p.mall_product_id
            ORDER BY p.id""",
        (wishlist_id, wishlist_id, wishlist_id),
    )
    rows = cur.fetchall()
    cur.execute(
        " UNION ALL ".join(
            f"SELECT %s AS t, id, crawled_at FROM {table('gb_console', kind.table)} WHERE wishlist_id = %s"
            for kind in CrawlKind
        )
        + " ORDER BY t, id",
        tuple(x for kind in CrawlKind for x in (kind.table, wishlist_id)),
    )
    digest = hashlib.sha256()
    for item in cur.fetchall():
        digest.update(f"{item['t']}:{item['id']}:{item['crawled_at']}\n".encode())
    return [int(r["id"]) for r in rows], digest.hexdigest()


def create_datasets_for_wishlist(conn, wishlist_id: int) -> list[CreatedDataset]:
    """Create one dataset + history per group of the wishlist, in one transaction.

    ``conn`` must reach all three databases (they live on one server).
    Raises WishlistNotReady if any crawl item is not Success, UnknownWishlist if
    the wishlist belongs to no group.
    """
    results: list[CreatedDataset] = []
    with transaction(conn) as cur:
        cur.execute(
            f"SELECT wishlist_id, group_id, wishlist_name, viewpoint_category_id "
            f"FROM {table('gb_console', 'wishlist_to_groups')} WHERE wishlist_id = %s "
            "ORDER BY group_id FOR UPDATE",
            (wishlist_id,),
        )
        groups = cur.fetchall()
        if not groups:
            raise UnknownWishlist(f"wishlist {wishlist_id} belongs to no group (wishlist_to_groups)")
        summary = _item_summary(cur, wishlist_id)
        pending = {t: c for t, c in summary.items() if any(s != CrawlStatus.SUCCESS for s in c)}
        if not any(summary.values()):
            raise WishlistNotReady(f"wishlist {wishlist_id} has no crawl items")
        if pending:
            raise WishlistNotReady(f"wishlist {wishlist_id} is not fully crawled: {pending}")
        product_ids, snapshot = _wishlist_products(cur, wishlist_id)
        if not product_ids:
            raise WishlistNotReady(f"wishlist {wishlist_id} crawled no products")
        for group in groups:
            cur.execute(
                f"SELECT id, dataset_id FROM {table('gb_console', 'wishlist_dataset_histories')} "
                "WHERE wishlist_id = %s AND group_id = %s AND snapshot_key = %s",
                (wishlist_id, group["group_id"], snapshot),
            )
            existing = cur.fetchone()
            if existing:
                results.append(
                    CreatedDataset(
                        wishlist_id,
                        int(group["group_id"]),
                        int(existing["dataset_id"]),
                        int(existing["id"]),
                        len(product_ids),
                        created=False,
                        viewpoint_category_id=group["viewpoint_category_id"],
                    )
                )
                continue
            settings = DatasetSettings(tuple(product_ids), wishlist_id, snapshot)
            cur.execute(
                f"INSERT INTO {table('ds_analyzer', 'datasets')} "
                "(name, group_id, viewpoint_category_id, settings, status, progress) "
                "VALUES (%s, %s, %s, %s, %s, 0)",
                (
                    group["wishlist_name"],
                    group["group_id"],
                    group["viewpoint_category_id"],
                    settings.to_json(),
                    int(DatasetStatus.PENDING),
                ),
            )
            dataset_id = int(cur.lastrowid)
            cur.execute(
                f"INSERT INTO {table('gb_console', 'wishlist_dataset_histories')} "
                "(wishlist_id, group_id, dataset_id, snapshot_key, status, spvp_status) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (
                    wishlist_id,
                    group["group_id"],
                    dataset_id,
                    snapshot,
                    int(HistoryStatus.PENDING),
                    int(SpvpStatus.WAITING),
                ),
            )
            results.append(
                CreatedDataset(
                    wishlist_id,
                    int(group["group_id"]),
                    dataset_id,
                    int(cur.lastrowid),
                    len(product_ids),
                    created=True,
                    viewpoint_category_id=group["viewpoint_category_id"],
                )
            )
            log.info(
                "created dataset %s for wishlist %s group %s (%d products)",
                dataset_id,
                wishlist_id,
                group["group_id"],
                len(product_ids),
            )
    return results


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
