"""Thin helpers over a DB-API connection (mysqlclient, as Airflow's MySqlHook uses).

Logic modules take a connection (or a factory) so tests and Airflow tasks
share the same code: tasks pass ``MySqlHook(...).get_conn()``, tests pass
``connect()`` against the local MariaDB.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import MySQLdb
import MySQLdb.cursors

from trend.config import MysqlSettings, db_name, quote_identifier

ConnectionFactory = Callable[[], Any]


class DatabaseUnavailable(RuntimeError):
    """No MySQL-compatible server answers at the configured address."""


def connect(database: str | None = None, settings: MysqlSettings | None = None, **kwargs: Any):
    """Open a connection; ``database`` is a *logical* name (gb_console, ...)."""
    settings = settings or MysqlSettings.from_env()
    params: dict[str, Any] = dict(
        host=settings.host,
        port=settings.port,
        user=settings.user,
        passwd=settings.password,
        charset="utf8mb4",
        autocommit=False,
        connect_timeout=5,
    )
    if database:
        params["db"] = db_name(database)
    params.update(kwargs)
    try:
        return MySQLdb.connect(**params)
    except MySQLdb.OperationalError as exc:
        code = exc.args[0] if exc.args else None
        if code in (2002, 2003, 2005, 2013):
            raise DatabaseUnavailable(
                f"no MySQL server answers at {settings.host}:{settings.port} ({exc.args[-1]}). "
                "Start one (e.g. `sudo service mariadb start`, or `docker compose up mysql`) "
                "or point MYSQL_URL=mysql://user:password@host:port at yours."
            ) from exc
        raise


@contextlib.contextmanager
def transaction(conn) -> Iterator[Any]:
    """Yield a dict cursor inside a transaction: commit on success, roll back on error."""
    cur = conn.cursor(MySQLdb.cursors.DictCursor)
    try:
        yield cur
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        cur.close()


def fetch_all(conn, sql: str, params: Sequence[Any] | dict | None = None) -> list[dict]:
    cur = conn.cursor(MySQLdb.cursors.DictCursor)
    try:
        cur.execute(sql, params)
        return list(cur.fetchall())
    finally:
        cur.close()


def table(logical_db: str, name: str) -> str:
    """Fully qualified, quoted ``db.table`` for cross-database statements."""
    return f"{quote_identifier(db_name(logical_db))}.{quote_identifier(name)}"
