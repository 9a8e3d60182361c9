"""Fixtures for the catalog graph: a graph store (embedded gremlite, gremlite with Neptune's
semantics, or the Gremlin Server at GREMLIN_URL for the contract suite) and a moto server for
DynamoDB and SQS."""

from __future__ import annotations

import os
import socket
import uuid

import pytest

from trend.catalog_graph.store import GREMLIN_URL_ENV, open_embedded, open_neptune_emulation, open_remote

T0 = 1_700_000_000_000_000  # a timestamp in microseconds; tests count events from here
SEMANTICS = ["gremlite", "neptune"]  # the embedded stores every contract and property test runs on


def eq(field: str, value: object) -> dict:
    """A one-condition structured filter."""
    return {"field": field, "op": "eq", "value": value}


def open_semantics(semantics: str, path):
    return open_neptune_emulation(path) if semantics == "neptune" else open_embedded(path)


def _backends() -> list:
    remote = pytest.param(
        "remote",
        marks=pytest.mark.skipif(not os.environ.get(GREMLIN_URL_ENV), reason="GREMLIN_URL not set"),
    )
    return [*SEMANTICS, remote]


@pytest.fixture(params=_backends())
def store(request, tmp_path):
    """A graph store; the contract tests run once per backend."""
    if request.param == "remote":
        graph = open_remote(os.environ[GREMLIN_URL_ENV])
    else:
        graph = open_semantics(request.param, tmp_path / "catalog.sqlite")
    yield graph
    graph.close()


@pytest.fixture
def catalog_id() -> str:
    """Unique per test, so a shared Gremlin Server needs no cleanup between tests."""
    return "t" + uuid.uuid4().hex[:12]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint():
    """A real moto server (DynamoDB + SQS over HTTP) for this test session."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    old = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    yield f"http://127.0.0.1:{port}"
    server.stop()
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def aws(moto_endpoint):
    """Fresh DynamoDB tables and a FIFO queue (with its DLQ) on the moto server."""
    import boto3

    from trend.catalog_graph.dynamo import ensure_tables
    from trend.catalog_graph.sqs import ensure_queue

    suffix = uuid.uuid4().hex[:8]
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1")
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")
    names = {"config": f"cfg_{suffix}", "nodes": f"nodes_{suffix}", "blocks": f"blocks_{suffix}"}
    ensure_tables(dynamodb, names["config"], names["nodes"], names["blocks"])
    return dynamodb, sqs, names, ensure_queue(sqs, f"q-{suffix}.fifo")
