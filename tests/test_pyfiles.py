"""The Spark payload: one builder, product code only, content-hashed and reused."""

import zipfile

from trend import pyfiles


def test_payload_holds_the_product_package_only(tmp_path):
    path = pyfiles.build_zip(tmp_path)
    names = zipfile.ZipFile(path).namelist()
    assert {"trend/__init__.py", "trend/analyzer/job.py", "trend/spvp/runner.py", "trend/status.py"} <= set(names)
    assert not any(n.startswith("trend_dev/") or "__pycache__" in n or n.endswith(".pyc") for n in names)
    assert path.name == f"trend-{pyfiles.content_hash()}.zip"


def test_same_code_gives_the_same_zip_and_stale_zips_are_removed(tmp_path):
    stale = tmp_path / "trend-000000000000.zip"
    stale.write_bytes(b"old")
    first = pyfiles.build_zip(tmp_path)
    assert pyfiles.build_zip(tmp_path) == first
    assert first.stat().st_mtime_ns == pyfiles.build_zip(tmp_path).stat().st_mtime_ns
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.name]
