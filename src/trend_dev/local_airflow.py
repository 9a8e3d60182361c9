"""A private Airflow environment for tests and the demo: SQLite metadata, our dags/ and plugins/."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from trend.airflow_support import CONN_IDS
from trend.config import REPO_ROOT, MysqlSettings

VENV_BIN = Path(sys.executable).parent


def airflow_env(home: str | Path, mysql: MysqlSettings | None = None) -> dict[str, str]:
    mysql = mysql or MysqlSettings.from_env()
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "PATH": os.pathsep.join([str(VENV_BIN), env.get("PATH", "")]),
        }
    )
    auth = mysql.user + (f":{mysql.password}" if mysql.password else "")
    for conn_id in CONN_IDS.values():
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = f"mysql://{auth}@{mysql.host}:{mysql.port}"
    env.setdefault("AIRFLOW_CONN_SPARK_DEFAULT", "spark://local?deploy-mode=client&spark-binary=spark-submit")
    return env


def prepare_airflow_home(home: str | Path) -> dict[str, str]:
    """Create and migrate the metadata DB; returns the environment to run `airflow` with."""
    Path(home).mkdir(parents=True, exist_ok=True)
    env = airflow_env(home)
    subprocess.run(
        [str(VENV_BIN / "airflow"), "db", "migrate"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return env


def dags_test(env: dict[str, str], dag_id: str, conf: dict | None = None, timeout: int = 600):
    """`airflow dags test DAG_ID` in a subprocess; returns the CompletedProcess."""
    import json

    cmd = [str(VENV_BIN / "airflow"), "dags", "test", dag_id]
    if conf:
        cmd += ["--conf", json.dumps(conf)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


@dataclass(frozen=True)
class ParsedDag:
    dag_id: str
    file: str  # relative to dags/
    parse_seconds: float | None  # the dag-processor's last parse duration of that file


def run_dag_processor(env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    """Airflow's own `airflow dag-processor`, parsing every DAG file once, then exiting."""
    return subprocess.run(
        [str(VENV_BIN / "airflow"), "dag-processor", "--num-runs", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def import_errors(env: dict[str, str]) -> list[dict]:
    """`airflow dags list-import-errors` as a list of {filename, error, ...} (empty when none)."""
    import json

    out = subprocess.run(
        [str(VENV_BIN / "airflow"), "dags", "list-import-errors", "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    # Airflow may log warnings to stdout first; the JSON document is one line of its own.
    return json.loads(next(line for line in reversed(out.splitlines()) if line.startswith("[")))


def parsed_dags(env: dict[str, str]) -> list[ParsedDag]:
    """DAGs the dag-processor registered in a private SQLite metadata DB, with its parse times."""
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(Path(env["AIRFLOW_HOME"]) / "airflow.db")) as db:
        rows = db.execute(
            "SELECT dag_id, relative_fileloc, last_parse_duration FROM dag WHERE NOT is_stale ORDER BY dag_id"
        ).fetchall()
    return [ParsedDag(dag_id, fileloc, duration) for dag_id, fileloc, duration in rows]


def asset_event_counts(env: dict[str, str]) -> dict[str, int]:
    """Asset events recorded so far in a private SQLite metadata DB, per asset name."""
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(Path(env["AIRFLOW_HOME"]) / "airflow.db")) as db:
        rows = db.execute(
            "SELECT a.name, COUNT(e.id) FROM asset a LEFT JOIN asset_event e ON e.asset_id = a.id GROUP BY a.name"
        ).fetchall()
    return {name: int(n) for name, n in rows}


if __name__ == "__main__":  # print `export` lines for a shell: eval "$(python -m trend_dev.local_airflow HOME)"
    import shlex

    prepared = prepare_airflow_home(sys.argv[1])
    for key in sorted(k for k in prepared if k.startswith("AIRFLOW") or k == "PATH"):
        print(f"export {key}={shlex.quote(prepared[key])}")
