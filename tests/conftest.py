"""Shared fixtures: a private set of MariaDB databases per test run, one SparkSession.

Every run gets its own database prefix (``TP_DB_PREFIX``), so parallel runs
and developers never see each other's rows; the databases are dropped at the end.
"""

from __future__ import annotations

import logging
import os
import tempfile

_RUN_PREFIX = f"t{os.getpid()}_"
os.environ["TP_DB_PREFIX"] = _RUN_PREFIX
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402

from trend import schema  # noqa: E402
from trend.config import LOGICAL_DATABASES  # noqa: E402
from trend.db import connect  # noqa: E402


@pytest.fixture(scope="session")
def databases():
    """Migrated databases for this run; dropped when the run ends."""
    schema.migrate()
    yield LOGICAL_DATABASES
    schema.drop_databases()


def truncate_all(databases) -> None:
    """Empty every table of this run's databases, except the migration records."""
    for logical in databases:
        conn = connect(logical)
        try:
            cur = conn.cursor()
            cur.execute("SET FOREIGN_KEY_CHECKS = 0")
            cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() "
                "AND table_name <> 'schema_migrations'"
            )
            for (name,) in cur.fetchall():
                cur.execute(f"TRUNCATE TABLE `{name}`")
            cur.execute("SET FOREIGN_KEY_CHECKS = 1")
            conn.commit()
        finally:
            conn.close()


@pytest.fixture
def clean_db(databases):
    """Empty every table (except migration records) before a test."""
    truncate_all(databases)
    return databases


@pytest.fixture
def db(clean_db):
    """A dict of open connections by logical name, on empty tables."""
    conns = {logical: connect(logical) for logical in clean_db}
    yield conns
    for conn in conns.values():
        conn.close()


@pytest.fixture(scope="session")
def spark():
    from trend.spark import build_session

    session = build_session("trend-tests", master="local[2]", shuffle_partitions=2)
    yield session
    session.stop()
    # py4j logs from __del__ at interpreter exit, after pytest closed its streams.
    logging.getLogger("py4j").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def airflow_home():
    """A private AIRFLOW_HOME with a migrated SQLite metadata DB, for `dags test` runs."""
    from trend_dev.local_airflow import prepare_airflow_home

    home = tempfile.mkdtemp(prefix="airflow-home-")
    return prepare_airflow_home(home)
