"""Glue between Airflow connections and our DB-API helpers. Imported only inside tasks."""
from __future__ import annotations

from trend.config import MysqlSettings, db_name
from trend.db import connect

# Airflow connection id for each logical database.
CONN_IDS = {
    "gb_console": "mysql_gb_console",
    "analyzer_v2": "mysql_analyzer_v2",
    "ds_analyzer": "mysql_ds_analyzer",
}


def mysql_settings(logical: str) -> tuple[MysqlSettings, str]:
    """Server settings and physical database name from the Airflow connection.

    The connection's schema wins when set; otherwise the configured name
    (with TP_DB_PREFIX) is used.
    """
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(CONN_IDS[logical])
    settings = MysqlSettings(
        host=conn.host or "127.0.0.1",
        port=int(conn.port or 3306),
        user=conn.login or "root",
        password=conn.password or "",
    )
    return settings, (conn.schema or db_name(logical))


def mysql_connection(logical: str):
    """An open mysqlclient connection for ``logical`` built from its Airflow connection."""
    settings, database = mysql_settings(logical)
    return connect(settings=settings, db=database)
