"""Glue between Airflow connections and our DB-API helpers. Imported only inside tasks."""

from __future__ import annotations

from trend.config import MysqlSettings
from trend.db import connect

# Airflow connection id for each logical database.
CONN_IDS = {
    "gb_console": "mysql_gb_console",
    "analyzer_v2": "mysql_analyzer_v2",
    "ds_analyzer": "mysql_ds_analyzer",
}


def mysql_settings(logical: str) -> MysqlSettings:
    """Server address and credentials from the Airflow connection.

    Database names are not taken from the connection: cross-database statements
    need all three, so they always come from trend.config.db_name.
    """
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(CONN_IDS[logical])
    settings = MysqlSettings(
        host=conn.host or "127.0.0.1",
        port=int(conn.port or 3306),
        user=conn.login or "root",
        password=conn.password or "",
    )
    return settings


def mysql_connection(logical: str):
    """An open mysqlclient connection to ``logical`` built from its Airflow connection."""
    return connect(logical, settings=mysql_settings(logical))
