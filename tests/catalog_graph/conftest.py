"""Fixtures for the catalog graph: a graph store (embedded gremlite, or the Gremlin Server at
GREMLIN_URL for the contract suite) and a moto server for DynamoDB and SQS."""

from __future__ import annotations

import os
import socket
import uuid

import pytest

from trend.catalog_graph.store import GREMLIN_URL_ENV, open_embedded, open_remote


def _backends() -> list:
    remote = pytest.param(
        "remote",
        marks=pytest.mark.skipif(not os.environ.get(GREMLIN_URL_ENV), reason="GREMLIN_URL not set"),
    )
    return ["embedded", remote]


@pytest.fixture(params=_backends())
def store(request, tmp_path):
    """A graph store; the contract tests run once per backend."""
    if request.param == "remote":
        graph = open_remote(os.environ[GREMLIN_URL_ENV])
    else:
        graph = open_embedded(tmp_path / "catalog.sqlite")
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
