"""Shipping the ``trend`` package to Spark's Python workers (``--py-files`` or addPyFile)."""
from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # plugins/trend


def build_zip(destination: str | Path) -> Path:
    """Zip plugins/trend (sources only) to ``destination``; returns the path."""
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(PACKAGE_DIR.rglob("*.py")):
            archive.write(path, Path("trend") / path.relative_to(PACKAGE_DIR))
    return destination


def ensure_workers_have_code(spark) -> None:
    """Add the zip to the session unless workers already get ``trend`` via --py-files."""
    context = spark.sparkContext
    shipped = context.getConf().get("spark.submit.pyFiles", "") or ""
    if "trend" in shipped or getattr(context, "_trend_zip_added", False):
        return
    path = build_zip(Path(tempfile.mkdtemp(prefix="trend-pyfiles-")) / "trend.zip")
    context.addPyFile(str(path))
    context._trend_zip_added = True
