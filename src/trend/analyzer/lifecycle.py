"""Dataset status transitions, as guarded single-row UPDATEs (idempotent, rerunnable).

1 Pending / 9 Failed / 2 Processing (a crashed run) → 2 Processing at progress 0;
progress rises as stages finish; → 3 Completed at 100, or → 9 Failed with an
error code and progress -1. A Completed dataset is only reprocessed with ``force``.
"""

from __future__ import annotations

import logging

from trend.analyzer.errors import AnalysisError
from trend.db import fetch_all
from trend.status import FAILED_PROGRESS, DatasetStatus, ErrorCode

log = logging.getLogger(__name__)

CLAIMABLE = (DatasetStatus.PENDING, DatasetStatus.PROCESSING, DatasetStatus.FAILED)


def claim(conn, dataset_id: int, force: bool = False) -> dict:
    """Move the dataset to Processing and return its row; raises AnalysisError if it may not run."""
    states = [int(s) for s in CLAIMABLE] + ([int(DatasetStatus.COMPLETED)] if force else [])
    marks = ", ".join(["%s"] * len(states))
    cur = conn.cursor()
    cur.execute(
        f"""UPDATE datasets SET status = %s, progress = 0, error_code = NULL, error_message = NULL,
                   started_at = CURRENT_TIMESTAMP(3), finished_at = NULL
            WHERE id = %s AND status IN ({marks})""",
        [int(DatasetStatus.PROCESSING), dataset_id, *states],
    )
    conn.commit()
    rows = fetch_all(conn, "SELECT id, status, settings FROM datasets WHERE id = %s", (dataset_id,))
    if not rows:
        raise AnalysisError(ErrorCode.DATASET_NOT_FOUND, "no such dataset", dataset_id)
    if cur.rowcount == 0 and int(rows[0]["status"]) != DatasetStatus.PROCESSING:
        raise AnalysisError(
            ErrorCode.INVALID_STATE, f"status {rows[0]['status']} is not claimable (force={force})", dataset_id
        )
    return rows[0]


def set_progress(conn, dataset_id: int, progress: int) -> None:
    cur = conn.cursor()
    cur.execute(
        "UPDATE datasets SET progress = %s WHERE id = %s AND status = %s AND progress < %s",
        (progress, dataset_id, int(DatasetStatus.PROCESSING), progress),
    )
    conn.commit()


def complete(cur, dataset_id: int) -> None:
    """Inside the publish transaction: the results and status 3 commit together."""
    cur.execute(
        """UPDATE datasets SET status = %s, progress = 100, finished_at = CURRENT_TIMESTAMP(3)
           WHERE id = %s AND status = %s""",
        (int(DatasetStatus.COMPLETED), dataset_id, int(DatasetStatus.PROCESSING)),
    )
    if cur.rowcount != 1:
        raise AnalysisError(ErrorCode.INVALID_STATE, "dataset left Processing during the run", dataset_id)


def fail(conn, dataset_id: int, code: ErrorCode, message: str) -> None:
    cur = conn.cursor()
    cur.execute(
        """UPDATE datasets SET status = %s, progress = %s, error_code = %s, error_message = %s,
                  finished_at = CURRENT_TIMESTAMP(3)
           WHERE id = %s AND status = %s""",
        (
            int(DatasetStatus.FAILED),
            FAILED_PROGRESS,
            int(code),
            message[:1000],
            dataset_id,
            int(DatasetStatus.PROCESSING),
        ),
    )
    conn.commit()


def parse_product_ids(settings: str | bytes | dict | None, dataset_id: int) -> list[int]:
    """settings JSON → its distinct product ids (trend.datasets.DatasetSettings), else MALFORMED_SETTINGS."""
    from trend.datasets import DatasetSettings, MalformedSettings

    try:
        return list(DatasetSettings.parse(settings, dataset_id).product_ids)
    except MalformedSettings as exc:
        raise AnalysisError(ErrorCode.MALFORMED_SETTINGS, str(exc), dataset_id) from None


def pending_dataset_ids(conn, limit: int = 50) -> list[int]:
    """Datasets waiting for analysis, oldest first."""
    rows = fetch_all(
        conn, "SELECT id FROM datasets WHERE status = %s ORDER BY id LIMIT %s", (int(DatasetStatus.PENDING), limit)
    )
    return [int(r["id"]) for r in rows]
