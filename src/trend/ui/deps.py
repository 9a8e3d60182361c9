"""FastAPI dependencies: the signed-in Airflow user (through Airflow's auth manager) and read-only
database / graph handles built from the same Airflow connections the DAGs use."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import Depends, HTTPException, status

log = logging.getLogger(__name__)

# The auth manager's "custom view" every page and endpoint needs GET access to. SimpleAuthManager
# grants it to every role from viewer up; FAB/Keycloak admins grant it like any plugin view.
RESOURCE_NAME = "Trend Pipelines"


def reader(user: GetUserDep) -> Any:
    """The signed-in user, if the auth manager lets them read our views (else 403)."""
    if not get_auth_manager().is_authorized_custom_view(method="GET", resource_name=RESOURCE_NAME, user=user):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"not allowed to read {RESOURCE_NAME}")
    return user


def readable_dags(user: Any, dag_ids: set[str]) -> set[str]:
    """The DAGs whose runs this user may see (run links are shown only for those)."""
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

    manager = get_auth_manager()
    return {
        dag_id
        for dag_id in dag_ids
        if manager.is_authorized_dag(
            method="GET", access_entity=DagAccessEntity.RUN, details=DagDetails(id=dag_id), user=user
        )
    }


def ds_connection() -> Iterator[Any]:
    """A read-only session on ds_analyzer from the ``mysql_ds_analyzer`` Airflow connection."""
    from trend.airflow_support import mysql_connection

    conn = mysql_connection("ds_analyzer")
    try:
        cur = conn.cursor()
        cur.execute("SET SESSION TRANSACTION READ ONLY")
        cur.close()
        yield conn
    finally:
        conn.close()


@contextmanager
def graph_store() -> Iterator[Any]:
    """The catalog graph (Gremlin Server or embedded gremlite) as the catalog DAGs open it.

    Used inside the endpoint, not as a FastAPI dependency: gremlite's SQLite connection must stay on
    the thread that opened it, and FastAPI runs a dependency's setup on another pool thread.
    """
    from trend.ui.catalog import open_graph

    store = open_graph()
    try:
        yield store
    finally:
        store.rollback()  # reads only: nothing to keep
        store.close()


Reader = Annotated[Any, Depends(reader)]
DsConn = Annotated[Any, Depends(ds_connection)]
