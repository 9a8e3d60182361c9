"""The one builder of the Spark payload: the ``trend`` package zipped for ``--py-files``.

Only product code ships (``trend``; demo, evaluation and benchmark helpers live in
``trend_dev`` and never ride along). The zip's name carries a hash of its content,
so every caller asking for the same code gets the same file, built once.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import zipfile
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent  # src/trend
STALE_AFTER_SECONDS = 24 * 3600  # longer than any job runs


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE_DIR.rglob("*.py") if "__pycache__" not in p.parts)


def content_hash() -> str:
    digest = hashlib.sha256()
    for path in _sources():
        digest.update(str(path.relative_to(PACKAGE_DIR.parent)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def build_zip(target_dir: Path | str | None = None) -> Path:
    """``trend-<hash>.zip`` under ``target_dir`` (default ``TP_PY_FILES_DIR`` or the temp dir).

    With several Airflow workers, point ``TP_PY_FILES_DIR`` at storage they share. Every
    call marks its zip as used (mtime); zips of other code versions unused for
    ``STALE_AFTER_SECONDS`` are removed, so a job still running older code keeps its zip.
    """
    folder = Path(target_dir or os.environ.get("TP_PY_FILES_DIR") or Path(tempfile.gettempdir()) / "trend-pyfiles")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"trend-{content_hash()}.zip"
    if target.exists():
        os.utime(target)
    else:
        partial = folder / f".{target.name}.{os.getpid()}.part"
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in _sources():
                archive.write(path, path.relative_to(PACKAGE_DIR.parent))
        partial.replace(target)
    _remove_stale(folder, keep=target)
    return target


def _remove_stale(folder: Path, keep: Path) -> None:
    cutoff = time.time() - STALE_AFTER_SECONDS
    for old in folder.glob("trend-*.zip"):
        try:
            if old != keep and old.stat().st_mtime < cutoff:
                old.unlink()
        except FileNotFoundError:  # another worker removed it first
            continue


def ensure_workers_have_code(spark) -> None:
    """Add the zip to the session unless workers already get ``trend`` via --py-files."""
    context = spark.sparkContext
    shipped = context.getConf().get("spark.submit.pyFiles", "") or ""
    if "trend" in shipped or getattr(context, "_trend_zip_added", False):
        return
    context.addPyFile(str(build_zip()))
    context._trend_zip_added = True
