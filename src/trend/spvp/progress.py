"""What the SPVP job reads and writes in MySQL: scope, batch commits, statuses, resets.

The batch commit is the heart of the incremental guarantee: in ONE transaction
it upserts the batch's mappings (unique key (category, sentence, ordinal)) and
advances ``last_object_id`` of every lagging viewpoint *only if it still has
the value this run read*. A crash before the commit loses the whole batch, a
crash after it loses nothing, and a rerun resumes at the first unprocessed id.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from trend.config import LOGICAL_DATABASES, MysqlSettings, db_name
from trend.db import connect, fetch_all, transaction
from trend.status import ErrorCode, SpvpStatus


class SpvpFailure(RuntimeError):
    """A failure with the error code that goes into spvp_error."""

    def __init__(self, code: ErrorCode, message: str):
        super().__init__(message)
        self.code = code


class ProgressConflict(SpvpFailure):
    def __init__(self, message: str):
        super().__init__(ErrorCode.INVALID_STATE, message)


@dataclass(frozen=True)
class Databases:
    """Server settings and physical database names (Airflow connections may rename them)."""

    settings: MysqlSettings
    names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Databases:
        return cls(MysqlSettings.from_env(), {logical: db_name(logical) for logical in LOGICAL_DATABASES})

    def name(self, logical: str) -> str:
        return self.names.get(logical) or db_name(logical)

    def connect(self, logical: str):
        return connect(settings=self.settings, db=self.name(logical))

    def jdbc_url(self, logical: str) -> str:
        return self.settings.jdbc_url(self.name(logical))


@dataclass(frozen=True)
class DatasetScope:
    dataset_id: int
    category_id: int
    product_ids: tuple[int, ...]
    high_water: int  # the largest sentence id of the dataset's products (0 if none)


def load_scope(ds_conn, analyzer_conn, dataset_id: int) -> DatasetScope:
    rows = fetch_all(ds_conn, "SELECT viewpoint_category_id, settings FROM datasets WHERE id = %s", (dataset_id,))
    if not rows:
        raise SpvpFailure(ErrorCode.DATASET_NOT_FOUND, f"dataset {dataset_id} not found")
    if rows[0]["viewpoint_category_id"] is None:
        raise SpvpFailure(ErrorCode.MALFORMED_SETTINGS, f"dataset {dataset_id} has no viewpoint category")
    try:
        settings = json.loads(rows[0]["settings"])
        product_ids = tuple(int(p) for p in settings["product_ids"])
    except (TypeError, ValueError, KeyError) as exc:
        raise SpvpFailure(
            ErrorCode.MALFORMED_SETTINGS, f"dataset {dataset_id}: settings lack a product_ids list ({exc})"
        ) from None
    high_water = 0
    if product_ids:
        marks = ", ".join(["%s"] * len(product_ids))
        found = fetch_all(
            analyzer_conn, f"SELECT MAX(id) AS m FROM review_sentences WHERE product_id IN ({marks})", product_ids
        )
        high_water = int(found[0]["m"] or 0)
    return DatasetScope(dataset_id, int(rows[0]["viewpoint_category_id"]), product_ids, high_water)


def check_embeddings(analyzer_conn, low: int, high: int, dim: int) -> None:
    rows = fetch_all(
        analyzer_conn,
        "SELECT MIN(id) AS first_bad, COUNT(*) AS n FROM review_sentences "
        "WHERE id > %s AND id <= %s AND (embedding IS NULL OR embedding_dim <> %s)",
        (low, high, dim),
    )
    if rows[0]["n"]:
        raise SpvpFailure(
            ErrorCode.MISSING_EMBEDDINGS,
            f"{rows[0]['n']} sentences in ({low}, {high}] lack a {dim}-dim embedding (first id {rows[0]['first_bad']})",
        )


@dataclass(frozen=True)
class Mapping:
    sentence_id: int
    ordinal: int
    mall_product_id: str
    score: float
    backend: str


def commit_batch(
    ds_conn,
    category_id: int,
    last_ids: dict[int, int],
    batch_max_id: int,
    mappings: Iterable[Mapping],
    before_commit: Callable[[], None] | None = None,
) -> dict[int, int]:
    """Store one batch and advance lagging viewpoints to ``batch_max_id``, atomically.

    ``last_ids`` maps ordinal -> the last_object_id this run believes is stored.
    Mappings for sentences a viewpoint already processed are not written.
    Returns the new ordinal -> last_object_id.
    """
    rows = [
        (m.sentence_id, category_id, m.ordinal, m.mall_product_id, m.score, m.backend)
        for m in mappings
        if m.sentence_id > last_ids[m.ordinal]
    ]
    lagging = {o: old for o, old in last_ids.items() if old < batch_max_id}
    with transaction(ds_conn) as cur:
        if rows:
            cur.executemany(
                "INSERT INTO review_sentence_spvp (sentence_id, viewpoint_category_id, "
                "viewpoint_ordinal_number, mall_product_id, score, backend) VALUES (%s, %s, %s, %s, %s, %s) "
                "ON DUPLICATE KEY UPDATE mall_product_id = VALUES(mall_product_id), "
                "score = VALUES(score), backend = VALUES(backend)",
                rows,
            )
        for ordinal, old in lagging.items():
            cur.execute(
                "UPDATE specific_viewpoints SET last_object_id = %s "
                "WHERE viewpoint_category_id = %s AND ordinal_number = %s AND last_object_id = %s",
                (batch_max_id, category_id, ordinal, old),
            )
            if cur.rowcount != 1:
                raise ProgressConflict(
                    f"viewpoint {ordinal} of category {category_id} moved away from last_object_id {old} "
                    "while this run was mapping (reset or concurrent run); batch rolled back"
                )
        if before_commit:
            before_commit()
    return {o: max(old, batch_max_id) for o, old in last_ids.items()}


def reset_progress(ds_conn, category_id: int, to_id: int = 0, ordinals: Iterable[int] | None = None) -> int:
    """Move viewpoints back to ``to_id`` and drop their mappings above it, in one transaction.

    Returns how many viewpoints moved. Idempotent: a second call changes nothing.
    """
    ordinal_list = sorted(set(ordinals or []))
    extra, params = "", []
    if ordinal_list:
        extra = f" AND ordinal_number IN ({', '.join(['%s'] * len(ordinal_list))})"
        params = ordinal_list
    with transaction(ds_conn) as cur:
        cur.execute("SELECT id FROM viewpoint_categories WHERE id = %s", (category_id,))
        if not cur.fetchall():
            raise SpvpFailure(ErrorCode.INVALID_STATE, f"viewpoint category {category_id} not found")
        cur.execute(
            "DELETE FROM review_sentence_spvp WHERE viewpoint_category_id = %s AND sentence_id > %s"
            + extra.replace("ordinal_number", "viewpoint_ordinal_number"),
            [category_id, to_id, *params],
        )
        cur.execute(
            "UPDATE specific_viewpoints SET last_object_id = %s "
            "WHERE viewpoint_category_id = %s AND last_object_id > %s" + extra,
            [to_id, category_id, to_id, *params],
        )
        return int(cur.rowcount)


def datasets_of_category(ds_conn, category_id: int) -> list[int]:
    rows = fetch_all(ds_conn, "SELECT id FROM datasets WHERE viewpoint_category_id = %s", (category_id,))
    return [int(r["id"]) for r in rows]


# --- gb_console.wishlist_dataset_histories.spvp_status ----------------------------------------


def _history(gb_conn, dataset_id: int) -> dict:
    rows = fetch_all(gb_conn, "SELECT spvp_status FROM wishlist_dataset_histories WHERE dataset_id = %s", (dataset_id,))
    if not rows:
        raise SpvpFailure(ErrorCode.DATASET_NOT_FOUND, f"no dataset history for dataset {dataset_id}")
    return rows[0]


def start(gb_conn, dataset_id: int, rerun: bool = False, resume_failed: bool = False) -> bool:
    """Enter PROCESSING. False when there is nothing to do.

    ``rerun`` (manual) restarts completed and failed datasets; ``resume_failed``
    (an Airflow retry of the same attempt) restarts failed ones only.
    """
    status = SpvpStatus(_history(gb_conn, dataset_id)["spvp_status"])
    if status is SpvpStatus.WAITING:
        raise SpvpFailure(
            ErrorCode.INVALID_STATE, f"dataset {dataset_id} is not analysed yet (spvp_status {status.value})"
        )
    allowed = status is SpvpStatus.PROCESSING or rerun or (resume_failed and status is SpvpStatus.FAILED)
    if not allowed:
        return False
    with transaction(gb_conn) as cur:
        cur.execute(
            "UPDATE wishlist_dataset_histories SET spvp_status = %s, spvp_error = NULL "
            "WHERE dataset_id = %s AND spvp_status IN (%s, %s, %s)",
            (SpvpStatus.PROCESSING, dataset_id, SpvpStatus.PROCESSING, SpvpStatus.COMPLETED, SpvpStatus.FAILED),
        )
    return True


def complete(gb_conn, dataset_id: int) -> None:
    with transaction(gb_conn) as cur:
        cur.execute(
            "UPDATE wishlist_dataset_histories SET spvp_status = %s, spvp_error = NULL "
            "WHERE dataset_id = %s AND spvp_status IN (%s, %s)",
            (SpvpStatus.COMPLETED, dataset_id, SpvpStatus.PROCESSING, SpvpStatus.COMPLETED),
        )


def fail(gb_conn, dataset_id: int, code: ErrorCode, message: str) -> None:
    text = f"E{int(code)} {code.name}: {message}"[:1000]
    with transaction(gb_conn) as cur:
        cur.execute(
            "UPDATE wishlist_dataset_histories SET spvp_status = %s, spvp_error = %s "
            "WHERE dataset_id = %s AND spvp_status IN (%s, %s)",
            (SpvpStatus.FAILED, text, dataset_id, SpvpStatus.PROCESSING, SpvpStatus.FAILED),
        )


def requeue_completed(gb_conn, dataset_ids: Iterable[int]) -> int:
    """COMPLETED -> PROCESSING for these datasets (after a reset, their mappings are partial)."""
    ids = list(dataset_ids)
    if not ids:
        return 0
    with transaction(gb_conn) as cur:
        cur.execute(
            "UPDATE wishlist_dataset_histories SET spvp_status = %s WHERE spvp_status = %s "
            f"AND dataset_id IN ({', '.join(['%s'] * len(ids))})",
            [SpvpStatus.PROCESSING, SpvpStatus.COMPLETED, *ids],
        )
        return int(cur.rowcount)


def pending_datasets(gb_conn) -> list[int]:
    rows = fetch_all(
        gb_conn,
        "SELECT dataset_id FROM wishlist_dataset_histories WHERE spvp_status = %s ORDER BY dataset_id",
        (SpvpStatus.PROCESSING,),
    )
    return [int(r["dataset_id"]) for r in rows]


def counts_per_product(ds_conn, category_id: int) -> list[dict]:
    return fetch_all(
        ds_conn,
        "SELECT m.mall_product_id, v.ordinal_number, v.name, COUNT(m.id) AS sentences "
        "FROM specific_viewpoints v LEFT JOIN review_sentence_spvp m "
        "ON m.viewpoint_category_id = v.viewpoint_category_id AND m.viewpoint_ordinal_number = v.ordinal_number "
        "WHERE v.viewpoint_category_id = %s GROUP BY m.mall_product_id, v.ordinal_number, v.name "
        "HAVING sentences > 0 ORDER BY m.mall_product_id, v.ordinal_number",
        (category_id,),
    )
