"""The Spark payload: one builder, product code only, content-hashed and reused."""

import os
import time
import zipfile

from trend import pyfiles


def test_payload_holds_the_product_package_only(tmp_path):
    path = pyfiles.build_zip(tmp_path)
    names = zipfile.ZipFile(path).namelist()
    assert {"trend/__init__.py", "trend/analyzer/job.py", "trend/spvp/runner.py", "trend/status.py"} <= set(names)
    assert not any(n.startswith("trend_dev/") or "__pycache__" in n or n.endswith(".pyc") for n in names)
    assert path.name == f"trend-{pyfiles.content_hash()}.zip"


def test_same_code_gives_the_same_zip_and_only_long_unused_zips_are_removed(tmp_path):
    stale, recent = tmp_path / "trend-000000000000.zip", tmp_path / "trend-111111111111.zip"
    stale.write_bytes(b"old")
    recent.write_bytes(b"a job may still run this version")
    day_ago = time.time() - pyfiles.STALE_AFTER_SECONDS - 60
    os.utime(stale, (day_ago, day_ago))
    first = pyfiles.build_zip(tmp_path)
    inode = first.stat().st_ino
    assert pyfiles.build_zip(tmp_path) == first and first.stat().st_ino == inode  # reused, not rebuilt
    assert not stale.exists() and recent.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.name, recent.name])
