"""Task logic for the catalog graph DAGs; each DAG task is a one-line call into here.

Resources come from Airflow connections or the environment, never from files of our own:
``GREMLIN_URL`` or connection ``gremlin_default`` (else the embedded gremlite file at
``CATALOG_GRAPH_SQLITE``), and connection ``aws_default`` / ``AWS_ENDPOINT_URL`` for DynamoDB
and SQS (skipped when neither is configured, e.g. a laptop demo without an AWS emulator).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict

from trend.catalog_graph.store import EMBEDDED_PATH_ENV, GREMLIN_URL_ENV, GraphStore, open_file, open_remote

log = logging.getLogger(__name__)

GREMLIN_CONN_ID = "gremlin_default"
AWS_CONN_ID = "aws_default"


def _connection(conn_id: str):
    """The Airflow connection, or None when it is not defined (or Airflow is not around)."""
    try:
        from airflow.sdk import BaseHook

        return BaseHook.get_connection(conn_id)
    except Exception:  # AirflowNotFoundException, or no Airflow context at all
        return None


def gremlin_url() -> str | None:
    """``GREMLIN_URL``, else the ``gremlin_default`` connection as ws[s]://host:port/path."""
    url = os.environ.get(GREMLIN_URL_ENV)
    if not url:
        conn = _connection(GREMLIN_CONN_ID)
        if conn is not None and conn.host:
            scheme = conn.conn_type if conn.conn_type in ("ws", "wss") else "ws"
            url = f"{scheme}://{conn.host}:{conn.port or 8182}/{conn.schema or 'gremlin'}"
    return url


def open_graph() -> GraphStore:
    url = gremlin_url()
    if url:
        log.info("catalog graph: Gremlin Server at %s", url.split("@")[-1])  # never log credentials
        return open_remote(url)
    path = os.environ.get(EMBEDDED_PATH_ENV) or os.path.join(
        os.environ.get("AIRFLOW_HOME", "."), "catalog_graph.sqlite"
    )
    log.info("catalog graph: embedded file at %s", path)
    return open_file(path)


def aws_clients() -> tuple[object, object] | None:
    """(dynamodb, sqs) boto3 clients, or None when no AWS connection/endpoint is configured."""
    import boto3

    conn = _connection(AWS_CONN_ID)
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    kwargs: dict[str, object] = {}
    if conn is not None:
        extra = conn.extra_dejson or {}
        endpoint = extra.get("endpoint_url") or endpoint
        kwargs["region_name"] = extra.get("region_name") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
        if conn.login:
            kwargs["aws_access_key_id"] = conn.login
            kwargs["aws_secret_access_key"] = conn.password
    elif not endpoint:
        return None
    kwargs.setdefault("region_name", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    if endpoint:
        kwargs["endpoint_url"] = endpoint
    return boto3.client("dynamodb", **kwargs), boto3.client("sqs", **kwargs)


@contextmanager
def resources() -> Iterator[tuple[GraphStore, object | None, object | None]]:
    store = open_graph()
    try:
        clients = aws_clients()
        yield store, *(clients or (None, None))
    finally:
        store.close()


def consume_messages(max_messages: int | None = None) -> dict:
    """Scheduled mode: drain up to ``max_messages`` change messages from the FIFO queue."""
    from trend.catalog_graph.dynamo import ConfigStore
    from trend.catalog_graph.node_table import CategoryNodeTable
    from trend.catalog_graph.sqs import consume, queue_url

    with resources() as (store, dynamodb, sqs):
        if sqs is None:
            log.warning("no AWS connection/endpoint configured: no queue to consume")
            return {"received": 0, "note": "no AWS endpoint configured"}
        config = ConfigStore(dynamodb).load()
        result = consume(
            sqs,
            queue_url(sqs),
            store,
            CategoryNodeTable(dynamodb),
            max_messages=max_messages or config.max_messages_per_run,
            wait_seconds=config.wait_seconds,
            visibility_timeout=config.visibility_timeout,
            attempts=config.max_attempts,
            max_nodes=config.max_nodes_per_message,
        )
        return asdict(result)


def rebuild_catalog(catalog_id: str) -> dict:
    """Manual mode: recompute one catalog from scratch and write every node that differs."""
    from trend.catalog_graph.node_table import CategoryNodeTable
    from trend.catalog_graph.recompute import full_rebuild

    if not catalog_id:
        raise ValueError("full_rebuild needs a catalog_id")
    with resources() as (store, dynamodb, _):
        result = full_rebuild(store, catalog_id, CategoryNodeTable(dynamodb) if dynamodb else None)
        summary = asdict(result)
        summary.pop("written_ids")
        summary.pop("follow_ups")
        return {"catalog_id": catalog_id, **summary}


def consistency_check(catalog_ids: list[str] | None = None, repair: bool | None = None) -> dict:
    """Compare stored finals (graph + table) with a from-scratch recompute; repair if asked."""
    from trend.catalog_graph.consistency import check_catalog, list_catalogs
    from trend.catalog_graph.dynamo import ConfigStore
    from trend.catalog_graph.node_table import CategoryNodeTable

    with resources() as (store, dynamodb, _):
        table = CategoryNodeTable(dynamodb) if dynamodb else None
        if repair is None:
            repair = ConfigStore(dynamodb).load().repair if dynamodb else True
        reports = {}
        for catalog_id in catalog_ids or list_catalogs(store):
            report = check_catalog(store, catalog_id, table, repair=repair)
            if not report.clean:
                log.warning(
                    "catalog %s drifted: graph %s, table %s (repaired: %s)",
                    catalog_id,
                    report.graph_drift[:20],
                    report.table_drift[:20],
                    report.repaired,
                )
            reports[catalog_id] = {
                "nodes": report.nodes,
                "graph_drift": len(report.graph_drift),
                "table_drift": len(report.table_drift),
                "repaired": report.repaired,
            }
        return reports
