"""Reads for the Datasets page: one page of datasets with their history, filters and counts.

Every function takes an open ds_analyzer connection (gb_console tables are qualified with
trend.db.table, same server as the DAGs assume) and only SELECTs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trend.db import fetch_all, table
from trend.status import DatasetStatus, ErrorCode, HistoryStatus, SpvpStatus

MAX_PAGE_SIZE = 200


class DatasetNotFound(LookupError):
    def __init__(self, dataset_id: int):
        self.dataset_id = dataset_id
        super().__init__(f"no dataset with id {dataset_id}")


@dataclass(frozen=True)
class DatasetFilter:
    status: int | None = None
    wishlist_id: int | None = None
    dataset_id: int | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = ["1 = 1"], []
        if self.status is not None:
            clauses.append("d.status = %s")
            params.append(self.status)
        if self.wishlist_id is not None:
            clauses.append("h.wishlist_id = %s")
            params.append(self.wishlist_id)
        if self.dataset_id is not None:
            clauses.append("d.id = %s")
            params.append(self.dataset_id)
        return " AND ".join(clauses), params


def _name(enum: type, value: int | None) -> str | None:
    if value is None:
        return None
    try:
        return enum(value).name.replace("_", " ").title()
    except ValueError:
        return f"Unknown ({value})"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(sep=" ", timespec="seconds") if value else None


def _shape(row: dict) -> dict:
    code = row["error_code"]
    error = None
    if code is not None:
        known = code in ErrorCode._value2member_map_
        error = {
            "code": code,
            "name": ErrorCode(code).name if known else "UNKNOWN",
            "description": ErrorCode(code).description if known else "an error code this UI does not know",
            "message": row["error_message"],
        }
    return {
        "id": row["id"],
        "name": row["name"],
        "group_id": row["group_id"],
        "wishlist_id": row["wishlist_id"],
        "wishlist_name": row["wishlist_name"],
        "viewpoint_category_id": row["viewpoint_category_id"],
        "status": row["status"],
        "status_name": _name(DatasetStatus, row["status"]),
        "progress": row["progress"],
        "error": error,
        "history_status": row["history_status"],
        "history_status_name": _name(HistoryStatus, row["history_status"]),
        "spvp_status": row["spvp_status"],
        "spvp_status_name": _name(SpvpStatus, row["spvp_status"]),
        "spvp_error": row["spvp_error"],
        "created_at": _iso(row["created_at"]),
        "started_at": _iso(row["started_at"]),
        "finished_at": _iso(row["finished_at"]),
        "updated_at": _iso(row["updated_at"]),
        "runs": [],
    }


def _select(where: str) -> str:
    return f"""
        SELECT d.id, d.name, d.group_id, d.viewpoint_category_id, d.status, d.progress, d.error_code,
               d.error_message, d.created_at, d.started_at, d.finished_at, d.updated_at,
               h.wishlist_id, h.status AS history_status, h.spvp_status, h.spvp_error, w.wishlist_name
        FROM datasets d
        LEFT JOIN {table("gb_console", "wishlist_dataset_histories")} h ON h.dataset_id = d.id
        LEFT JOIN {table("gb_console", "wishlist_to_groups")} w
               ON w.wishlist_id = h.wishlist_id AND w.group_id = h.group_id
        WHERE {where}"""


def list_datasets(conn, flt: DatasetFilter, page: int = 1, page_size: int = 50) -> dict:
    """One page (newest first) plus the total and per-status counts under the wishlist filter."""
    page, page_size = max(1, page), min(max(1, page_size), MAX_PAGE_SIZE)
    where, params = flt.where()
    rows = fetch_all(
        conn, _select(where) + " ORDER BY d.id DESC LIMIT %s OFFSET %s", [*params, page_size, (page - 1) * page_size]
    )
    total = fetch_all(
        conn,
        f"""SELECT COUNT(*) AS n FROM datasets d
            LEFT JOIN {table("gb_console", "wishlist_dataset_histories")} h ON h.dataset_id = d.id WHERE {where}""",
        params,
    )[0]["n"]
    by_status = DatasetFilter(wishlist_id=flt.wishlist_id).where()
    counts = fetch_all(
        conn,
        f"""SELECT d.status, COUNT(*) AS n FROM datasets d
            LEFT JOIN {table("gb_console", "wishlist_dataset_histories")} h ON h.dataset_id = d.id
            WHERE {by_status[0]} GROUP BY d.status""",
        by_status[1],
    )
    return {
        "items": [_shape(r) for r in rows],
        "total": int(total),
        "page": page,
        "page_size": page_size,
        "status_counts": {str(r["status"]): int(r["n"]) for r in counts},
        "statuses": [{"value": int(s), "name": _name(DatasetStatus, int(s))} for s in DatasetStatus],
    }


def get_dataset(conn, dataset_id: int) -> dict:
    rows = fetch_all(conn, _select("d.id = %s"), [dataset_id])
    if not rows:
        raise DatasetNotFound(dataset_id)
    return _shape(rows[0])


def wishlists(conn, limit: int = 500) -> list[dict]:
    """Wishlists that have datasets, for the filter."""
    rows = fetch_all(
        conn,
        f"""SELECT h.wishlist_id, MAX(w.wishlist_name) AS name, COUNT(*) AS datasets
            FROM {table("gb_console", "wishlist_dataset_histories")} h
            LEFT JOIN {table("gb_console", "wishlist_to_groups")} w
                   ON w.wishlist_id = h.wishlist_id AND w.group_id = h.group_id
            GROUP BY h.wishlist_id ORDER BY h.wishlist_id LIMIT %s""",
        [limit],
    )
    return [{"wishlist_id": r["wishlist_id"], "name": r["name"], "datasets": int(r["datasets"])} for r in rows]
