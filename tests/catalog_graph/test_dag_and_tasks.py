"""The DAG file's shape, and the task functions it calls, run against gremlite + moto."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

import boto3
import pytest

from tests.catalog_graph.conftest import T0, eq
from trend.catalog_graph import airflow_tasks as tasks
from trend.catalog_graph import operations as ops
from trend.catalog_graph.dynamo import ensure_tables
from trend.catalog_graph.model import MatchMode as M
from trend.catalog_graph.model import NodeSettings
from trend.catalog_graph.node_table import CategoryNodeTable
from trend.catalog_graph.recompute import expected_states, stored_states
from trend.catalog_graph.sqs import ensure_queue, publish
from trend.catalog_graph.store import open_embedded

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "catalog_graph_recompute.py"


@pytest.fixture(scope="module")
def dag_module():
    spec = importlib.util.spec_from_file_location("catalog_graph_recompute_dag", DAG_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dags(module) -> dict:
    """The DAG file calls its @dag functions at import; calling them again returns the DAGs."""
    return {d.dag_id: d for d in (module.catalog_graph_recompute(), module.catalog_graph_consistency_check())}


def test_recompute_dag_shape(dag_module):
    dags = _dags(dag_module)
    recompute = dags["catalog_graph_recompute"]
    assert set(recompute.task_dict) == {"choose_mode", "consume_messages", "full_rebuild"}
    assert recompute.task_dict["choose_mode"].downstream_task_ids == {"consume_messages", "full_rebuild"}
    assert recompute.max_active_runs == 1 and recompute.catchup is False
    assert set(recompute.params.keys()) == {"mode", "catalog_id", "max_messages"}
    assert recompute.params["mode"] == "consume"
    task = recompute.task_dict["full_rebuild"]
    assert task.retries == 3 and task.retry_exponential_backoff and task.owner == "catalog-platform"
    assert "catalog-graph" in recompute.tags
    check = dags["catalog_graph_consistency_check"]
    assert set(check.task_dict) == {"check"} and check.max_active_runs == 1


@pytest.fixture
def env(monkeypatch, tmp_path, moto_endpoint):
    suffix = uuid.uuid4().hex[:8]
    monkeypatch.delenv("GREMLIN_URL", raising=False)
    monkeypatch.setenv("CATALOG_GRAPH_SQLITE", str(tmp_path / "graph.sqlite"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("CATALOG_CONFIG_TABLE", f"cfg_{suffix}")
    monkeypatch.setenv("CATALOG_NODE_TABLE", f"nodes_{suffix}")
    monkeypatch.setenv("CATALOG_BLOCK_TABLE", f"blocks_{suffix}")
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1")
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")
    ensure_tables(dynamodb)
    url = ensure_queue(sqs, f"q-{suffix}.fifo")
    monkeypatch.setenv("CATALOG_QUEUE_URL", url)
    return dynamodb, sqs, url, tmp_path / "graph.sqlite"


def _seed(path):
    store = open_embedded(path)
    root = "catalogNode_web"
    msgs = [ops.create_catalog(store, "web", NodeSettings.root("product", eq("web", 1), ("price",)), "u", at=T0)]
    msgs.append(
        ops.add_category_node(store, root, "1", NodeSettings(filter=eq("one", 1), filter_mode=M.APPEND), "u", at=T0 + 1)
    )
    msgs.append(ops.add_category_node(store, msgs[1].node_id, "2", NodeSettings(), "u", at=T0 + 2))
    store.commit()
    return store, msgs


def test_consume_task_drains_the_queue(env):
    dynamodb, sqs, url, path = env
    store, msgs = _seed(path)
    publish(sqs, url, msgs)
    summary = tasks.consume_messages(max_messages=10)
    assert summary["received"] == 3 and summary["failed"] == [] and summary["dead_lettered"] == []
    expected = expected_states(store, "web")
    assert stored_states(store, "web") == expected
    rows = CategoryNodeTable(dynamodb).rows("web")
    assert set(rows) == set(expected) and all(rows[n].matches(s) for n, s in expected.items())
    store.close()


def test_rebuild_and_consistency_tasks(env):
    _dynamodb, _, _, path = env
    store, msgs = _seed(path)
    summary = tasks.rebuild_catalog("web")
    assert summary["nodes_written"] == 3
    assert tasks.consistency_check(["web"], repair=False)["web"]["graph_drift"] == 0
    from gremlin_python.process.traversal import Cardinality

    store.run(store.g.V().has("uid", msgs[2].node_id).property(Cardinality.single, "derived", ""))
    store.commit()
    assert tasks.consistency_check(None, repair=True)["web"] == {
        "nodes": 3,
        "graph_drift": 1,
        "table_drift": 0,
        "repaired": True,
    }
    assert tasks.consistency_check(["web"])["web"]["graph_drift"] == 0
    with pytest.raises(ValueError, match="catalog_id"):
        tasks.rebuild_catalog("")
    store.close()


def test_resources_come_from_connections_or_env(monkeypatch, tmp_path):
    monkeypatch.delenv("GREMLIN_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_AWS_DEFAULT", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_GREMLIN_DEFAULT", raising=False)
    assert tasks.gremlin_url() is None
    assert tasks.aws_clients() is None  # nothing configured: the demo runs without AWS
    monkeypatch.setenv("CATALOG_GRAPH_SQLITE", str(tmp_path / "g.sqlite"))
    store = tasks.open_graph()
    assert store.transactional
    store.close()
    monkeypatch.setenv("AIRFLOW_CONN_GREMLIN_DEFAULT", "ws://gremlin-server:8182/gremlin")
    assert tasks.gremlin_url() == "ws://gremlin-server:8182/gremlin"
    monkeypatch.setenv("GREMLIN_URL", "ws://elsewhere:8182/gremlin")
    assert tasks.gremlin_url() == "ws://elsewhere:8182/gremlin"
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT", "aws://key:secret@?region_name=eu-west-1&endpoint_url=http%3A%2F%2Fmoto%3A5000"
    )
    dynamodb, sqs = tasks.aws_clients()
    assert dynamodb.meta.endpoint_url == "http://moto:5000" and sqs.meta.region_name == "eu-west-1"
