"""Airflow's own dag-processor parses dags/ with the repo's plugins/ as plugins folder.

`DagBag` and `airflow dags test` do not load plugins the way the dag-processor does (every
.py under the plugins folder imported as a top-level module), so only this catches a plugins
folder that breaks parsing. The parse times printed are the dag-processor's own.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from trend.config import REPO_ROOT
from trend_dev.local_airflow import import_errors, parsed_dags, prepare_airflow_home, run_dag_processor

pytestmark = pytest.mark.airflow

DAGS_DIR = REPO_ROOT / "dags"


def declared_dag_ids(folder: Path) -> dict[str, str]:
    """dag_id -> file name, for every literal ``dag_id="..."`` in the DAG files (read, not imported)."""
    found = {}
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.keyword) and node.arg == "dag_id" and isinstance(node.value, ast.Constant):
                found[node.value.value] = path.name
    return found


def test_dag_processor_registers_every_dag_with_plugins_loaded(tmp_path):
    env = prepare_airflow_home(tmp_path / "airflow")
    assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == str(REPO_ROOT / "plugins")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(DAGS_DIR)

    result = run_dag_processor(env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    assert import_errors(env) == []
    parsed = parsed_dags(env)
    print("\ndag-processor parse times (last_parse_duration per file):")
    for name, seconds in sorted({(d.file, d.parse_seconds) for d in parsed}):
        print(f"  {name:<30} {seconds * 1000:7.0f} ms")
    declared = declared_dag_ids(DAGS_DIR)
    assert {d.dag_id: d.file for d in parsed} == declared
    assert set(declared.values()) == {p.name for p in DAGS_DIR.glob("*.py")}  # every file defines a DAG
    assert all(d.parse_seconds is not None and d.parse_seconds > 0 for d in parsed)
