"""What the SPVP DAG tasks do, as plain functions (imported inside tasks only)."""

from __future__ import annotations

import json

from trend.config import REPO_ROOT
from trend.spvp import progress

JOB_FILE = REPO_ROOT / "spark_jobs" / "spvp_batch.py"


def spark_job_args(dataset_ids: list[int], rerun: bool, mysql, config_json: str = "") -> list[list[str]]:
    """One spark-submit argument list per dataset. No secrets: the password travels in env_vars."""
    base = ["--mysql-host", mysql.host, "--mysql-port", str(mysql.port), "--mysql-user", mysql.user]
    if config_json.strip() not in ("", "{}"):
        base += ["--config", json.dumps(json.loads(config_json))]  # fails early on invalid JSON
    return [["--dataset-id", str(d), *(["--rerun"] if rerun else []), *base] for d in dataset_ids]


def pick_datasets(gb_conn, dataset_id: int | None) -> tuple[list[int], bool]:
    """Datasets to map: the one asked for (a manual re-run), else every history in PROCESSING."""
    if dataset_id is not None:
        progress._history(gb_conn, dataset_id)  # raises a clear error for an unknown dataset
        return [int(dataset_id)], True
    return progress.pending_datasets(gb_conn), False


def reset_category(ds_conn, gb_conn, category: str | int, to_id: int = 0, ordinals: list[int] | None = None) -> dict:
    """Manual action: move a category's viewpoints back to ``to_id`` and requeue its completed datasets."""
    from trend.spvp.viewpoints import load_category

    found = (
        load_category(ds_conn, category_id=int(category))
        if str(category).isdigit()
        else load_category(ds_conn, name=str(category))
    )
    unknown = sorted(set(ordinals or []) - set(found.ordinals))
    if unknown:
        raise progress.SpvpFailure(progress.ErrorCode.INVALID_STATE, f"category {found.id} has no viewpoints {unknown}")
    moved = progress.reset_progress(ds_conn, found.id, int(to_id), ordinals)
    requeued = progress.requeue_completed(gb_conn, progress.datasets_of_category(ds_conn, found.id))
    return {
        "category_id": found.id,
        "viewpoints_moved": moved,
        "datasets_requeued": requeued,
        "last_object_id": int(to_id),
    }
