"""Dataset status transitions, as guarded single-row UPDATEs (idempotent, rerunnable).

1 Pending / 9 Failed → 2 Processing at progress 0, claimed by one run: ``claim_token`` records
the run id and ``heartbeat_at`` its last sign of life. Only the owning run may move progress,
publish (→ 3 Completed at 100) or fail it (→ 9 with an error code and progress -1). A
Processing dataset whose heartbeat is older than ``stale_minutes`` was abandoned (worker died):
another run may take it over, and reconciliation (``fail_abandoned``) fails it with 3004. A
Completed dataset is only reprocessed with ``force``. The claim also moves the dataset's
history to status 2 (the document's 1 → 2 → 3).
"""

from __future__ import annotations

import logging
import threading

from MySQLdb import OperationalError

from trend.analyzer.errors import AnalysisError
from trend.config import quote_identifier
from trend.db import fetch_all, transaction
from trend.status import FAILED_PROGRESS, DatasetStatus, ErrorCode, HistoryStatus

log = logging.getLogger(__name__)

LOCK_WAIT_TIMEOUT = 1205  # MariaDB's "Lock wait timeout exceeded"

CLAIMABLE = (DatasetStatus.PENDING, DatasetStatus.FAILED)
STALE_MINUTES = 10  # a Processing dataset without a heartbeat for this long is abandoned
HEARTBEAT_SECONDS = 30.0
HEARTBEAT_LOCK_WAIT_SECONDS = 2  # a beat that finds the row locked (the run's own publish holds it) skips
# the last sign of life of a Processing dataset (rows set to 2 by others have no heartbeat)
_LAST_SEEN = "COALESCE(heartbeat_at, started_at, updated_at)"


def claim(
    conn, dataset_id: int, run_id: str, force: bool = False, stale_minutes: int = STALE_MINUTES, gb_db: str = ""
) -> dict:
    """Move the dataset to Processing owned by ``run_id`` and return its row.

    Raises AnalysisError if it may not run: unknown, Completed without ``force``, or Processing
    under another run that is still alive. ``gb_db`` (physical name) also moves the history to 2.
    """
    states = [int(s) for s in CLAIMABLE] + ([int(DatasetStatus.COMPLETED)] if force else [])
    marks = ", ".join(["%s"] * len(states))
    with transaction(conn) as cur:
        cur.execute(
            f"""UPDATE datasets SET status = %s, progress = 0, error_code = NULL, error_message = NULL,
                       started_at = CURRENT_TIMESTAMP(3), finished_at = NULL, claim_token = %s,
                       heartbeat_at = CURRENT_TIMESTAMP(3)
                WHERE id = %s AND (status IN ({marks}) OR (status = %s AND
                      {_LAST_SEEN} < CURRENT_TIMESTAMP(3) - INTERVAL %s MINUTE))""",
            [int(DatasetStatus.PROCESSING), run_id, dataset_id, *states, int(DatasetStatus.PROCESSING), stale_minutes],
        )
        claimed = cur.rowcount == 1
        if claimed and gb_db:
            cur.execute(
                f"UPDATE {quote_identifier(gb_db)}.wishlist_dataset_histories SET status = %s "
                "WHERE dataset_id = %s AND status <> %s",
                (int(HistoryStatus.PROCESSING), dataset_id, int(HistoryStatus.PROCESSING)),
            )
    rows = fetch_all(
        conn, "SELECT id, status, settings, claim_token, heartbeat_at FROM datasets WHERE id = %s", (dataset_id,)
    )
    if not rows:
        raise AnalysisError(ErrorCode.DATASET_NOT_FOUND, "no such dataset", dataset_id)
    if not claimed:
        row = rows[0]
        owner = f" by run {row['claim_token']} (heartbeat {row['heartbeat_at']})" if row["status"] == 2 else ""
        raise AnalysisError(
            ErrorCode.INVALID_STATE, f"status {row['status']}{owner} is not claimable (force={force})", dataset_id
        )
    log.info("dataset %s claimed by run %s", dataset_id, run_id)
    return rows[0]


def ensure_owner(cur, dataset_id: int, run_id: str) -> None:
    """Inside a transaction: lock the dataset row; raise unless ``run_id`` still owns it in Processing."""
    cur.execute("SELECT status, claim_token FROM datasets WHERE id = %s FOR UPDATE", (dataset_id,))
    row = cur.fetchone()
    if row is None or int(row["status"]) != DatasetStatus.PROCESSING or row["claim_token"] != run_id:
        state = f"status {row['status']}, claimed by {row['claim_token']}" if row else "gone"
        raise AnalysisError(ErrorCode.INVALID_STATE, f"run {run_id} no longer owns the dataset ({state})", dataset_id)


def set_progress(conn, dataset_id: int, run_id: str, progress: int) -> None:
    """Progress (never backwards) and a heartbeat; raises if the run lost its claim."""
    with transaction(conn) as cur:
        ensure_owner(cur, dataset_id, run_id)
        cur.execute(
            "UPDATE datasets SET progress = GREATEST(progress, %s), heartbeat_at = CURRENT_TIMESTAMP(3) WHERE id = %s",
            (progress, dataset_id),
        )


def heartbeat(conn, dataset_id: int, run_id: str) -> bool:
    """Refresh the owning run's heartbeat; False when the run no longer owns the dataset.

    The UPDATE finds the row by its primary key alone (the ownership test is in the SET): looked up
    through ``ix_status`` it would lock that index entry first and deadlock with the publish
    transaction, which holds the row and updates the status last.
    """
    cur = conn.cursor()
    cur.execute(
        "UPDATE datasets SET heartbeat_at = IF(status = %s AND claim_token = %s, CURRENT_TIMESTAMP(3), heartbeat_at) "
        "WHERE id = %s",
        (int(DatasetStatus.PROCESSING), run_id, dataset_id),
    )
    conn.commit()
    owned = fetch_all(
        conn,
        "SELECT claim_token FROM datasets WHERE id = %s AND status = %s",
        (dataset_id, int(DatasetStatus.PROCESSING)),
    )
    return bool(owned) and owned[0]["claim_token"] == run_id


def _finished_by(conn, dataset_id: int, run_id: str) -> bool:
    """True when ``run_id`` itself completed the dataset (a beat after its publish, not a lost claim)."""
    rows = fetch_all(conn, "SELECT status, claim_token FROM datasets WHERE id = %s", (dataset_id,))
    conn.commit()
    return bool(rows) and int(rows[0]["status"]) == DatasetStatus.COMPLETED and rows[0]["claim_token"] == run_id


class Heartbeat:
    """A daemon thread that keeps a run's claim alive while long stages run (own connection)."""

    def __init__(self, connect, dataset_id: int, run_id: str, interval: float = HEARTBEAT_SECONDS):
        self._connect, self.dataset_id, self.run_id, self.interval = connect, dataset_id, run_id, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{dataset_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)

    def _beat(self) -> None:
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SET SESSION innodb_lock_wait_timeout = %s", (HEARTBEAT_LOCK_WAIT_SECONDS,))
            while not self._stop.wait(self.interval):
                try:
                    owned = heartbeat(conn, self.dataset_id, self.run_id)
                except OperationalError as exc:
                    if exc.args[0] != LOCK_WAIT_TIMEOUT:
                        raise
                    conn.rollback()  # the run's publish holds the row: it is alive, and finishes the status
                    log.debug("dataset %s: heartbeat skipped, the row is locked", self.dataset_id)
                    continue
                if not owned:
                    if _finished_by(conn, self.dataset_id, self.run_id):  # its publish just committed
                        log.info("dataset %s: run %s finished; stopping heartbeats", self.dataset_id, self.run_id)
                    else:
                        log.error(
                            "dataset %s: run %s lost its claim; stopping heartbeats", self.dataset_id, self.run_id
                        )
                    return
        except Exception:  # the run itself notices a lost database at its next stage; log here, once
            log.exception("dataset %s: heartbeat failed", self.dataset_id)
        finally:
            conn.close()


def complete(cur, dataset_id: int, run_id: str) -> None:
    """Inside the publish transaction: the results and status 3 commit together."""
    cur.execute(
        """UPDATE datasets SET status = %s, progress = 100, finished_at = CURRENT_TIMESTAMP(3)
           WHERE id = %s AND status = %s AND claim_token = %s""",
        (int(DatasetStatus.COMPLETED), dataset_id, int(DatasetStatus.PROCESSING), run_id),
    )
    if cur.rowcount != 1:
        raise AnalysisError(ErrorCode.INVALID_STATE, f"run {run_id} lost the dataset during the run", dataset_id)


def fail(conn, dataset_id: int, run_id: str, code: ErrorCode, message: str) -> bool:
    """Status 9 with the code; only the owning run may fail the dataset. False when it was not the owner."""
    cur = conn.cursor()
    cur.execute(
        """UPDATE datasets SET status = %s, progress = %s, error_code = %s, error_message = %s,
                  finished_at = CURRENT_TIMESTAMP(3)
           WHERE id = %s AND status = %s AND claim_token = %s""",
        (
            int(DatasetStatus.FAILED),
            FAILED_PROGRESS,
            int(code),
            message[:1000],
            dataset_id,
            int(DatasetStatus.PROCESSING),
            run_id,
        ),
    )
    conn.commit()
    if cur.rowcount != 1:
        log.warning("dataset %s: run %s no longer owns it; its failure [%s] is not recorded", dataset_id, run_id, code)
    return cur.rowcount == 1


def fail_abandoned(conn, stale_minutes: int = STALE_MINUTES) -> list[dict]:
    """Reconciliation: Processing datasets without a heartbeat for ``stale_minutes`` → 9 (3004).

    Returns the datasets failed (id, claim_token, last seen). ``conn`` reaches ds_analyzer.
    """
    with transaction(conn) as cur:
        cur.execute(
            f"SELECT id, claim_token, {_LAST_SEEN} AS last_seen FROM datasets WHERE status = %s "
            f"AND {_LAST_SEEN} < CURRENT_TIMESTAMP(3) - INTERVAL %s MINUTE FOR UPDATE",
            (int(DatasetStatus.PROCESSING), stale_minutes),
        )
        stale = list(cur.fetchall())
        for row in stale:
            message = f"run {row['claim_token']} sent no heartbeat since {row['last_seen']} (> {stale_minutes} min)"
            cur.execute(
                """UPDATE datasets SET status = %s, progress = %s, error_code = %s, error_message = %s,
                          finished_at = CURRENT_TIMESTAMP(3) WHERE id = %s AND status = %s""",
                (
                    int(DatasetStatus.FAILED),
                    FAILED_PROGRESS,
                    int(ErrorCode.RUN_ABANDONED),
                    message,
                    row["id"],
                    int(DatasetStatus.PROCESSING),
                ),
            )
            log.warning("dataset %s: %s: failed with %s", row["id"], message, int(ErrorCode.RUN_ABANDONED))
    return stale


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
