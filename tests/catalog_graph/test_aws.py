"""DynamoDB config + CategoryNode table, the SQS FIFO consumer and the consistency check,
against a real moto server and the embedded graph."""

from __future__ import annotations

import uuid

import boto3
import pytest

from trend.catalog_graph import operations as ops
from trend.catalog_graph.consistency import check_catalog, list_catalogs
from trend.catalog_graph.dynamo import (
    CatalogGraphConfig,
    CategoryNodeTable,
    ConfigError,
    ConfigStore,
    ConfigTag,
    ensure_tables,
)
from trend.catalog_graph.model import MatchMode as M
from trend.catalog_graph.model import NodeSettings
from trend.catalog_graph.recompute import expected_states, process_message, stored_states
from trend.catalog_graph.sqs import consume, ensure_queue, publish
from trend.catalog_graph.store import open_embedded


@pytest.fixture
def aws(moto_endpoint):
    suffix = uuid.uuid4().hex[:8]
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1")
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")
    names = {"config": f"cfg_{suffix}", "nodes": f"nodes_{suffix}"}
    ensure_tables(dynamodb, names["config"], names["nodes"])
    return dynamodb, sqs, names, ensure_queue(sqs, f"q-{suffix}.fifo")


@pytest.fixture
def graph(tmp_path):
    store = open_embedded(tmp_path / "g.sqlite")
    yield store
    store.close()


def _changes(store, catalog_id="shop"):
    root = f"catalog:{catalog_id}"
    return root, [
        ops.create_catalog(store, catalog_id, NodeSettings.root("kw", "shop", ("price",)), "u", at=10),
        ops.add_category_node(store, root, "1", NodeSettings(filter="one", filter_mode=M.APPEND), "u", at=11),
        ops.add_category_node(store, f"{root}/1", "2", NodeSettings(), "u", at=12),
        ops.add_category_node(store, root, "3", NodeSettings(filter="three", filter_mode=M.NONE), "u", at=13),
        ops.change_settings(store, f"{root}/1", NodeSettings(filter="uno", filter_mode=M.APPEND), "u", at=14),
        ops.set_enabled(store, f"{root}/3", False, "u", at=15),
    ]


def test_config_defaults_overrides_and_caching(aws):
    dynamodb, _, names, _ = aws
    now = [0.0]
    config = ConfigStore(dynamodb, names["config"], ttl=60, clock=lambda: now[0])
    assert config.load() == CatalogGraphConfig()
    config.put(ConfigTag.RECOMPUTE, "maxMessagesPerRun", "7")
    config.put(ConfigTag.CONSISTENCY, "repair", "false")
    loaded = config.load()
    assert (loaded.max_messages_per_run, loaded.repair, loaded.max_attempts) == (7, False, 3)
    queries = config.queries
    dynamodb.put_item(
        TableName=names["config"],
        Item={
            "configTag": {"S": ConfigTag.RECOMPUTE.value},
            "configKey": {"S": "maxAttempts"},
            "configValue": {"S": "5"},
        },
    )
    assert config.load().max_attempts == 3  # cached
    assert config.queries == queries
    now[0] = 61.0
    assert config.load().max_attempts == 5  # cache expired
    config.put(ConfigTag.QUEUE, "waitSeconds", "soon")
    with pytest.raises(ConfigError, match="waitSeconds"):
        config.load()


def test_consumer_writes_graph_and_table_and_acks_after_commit(aws, graph):
    dynamodb, sqs, names, url = aws
    root, messages = _changes(graph)
    table = CategoryNodeTable(dynamodb, names["nodes"])
    publish(sqs, url, messages + messages[:3])  # duplicates are deduplicated or skipped as stale
    result = consume(sqs, url, graph, table, max_messages=50, wait_seconds=0, visibility_timeout=30)
    assert result.failed == []
    assert result.received == len(messages)  # FIFO deduplication dropped the re-sent three
    # ancestors first: the catalog's recompute covers everything, the rest are stale
    assert (result.recomputed, result.skipped_stale) == (1, len(messages) - 1)
    expected = expected_states(graph, "shop")
    assert stored_states(graph, "shop") == expected
    rows = table.rows("shop")
    assert {nid: row.state for nid, row in rows.items()} == expected
    assert rows[root].state.combined_filter == ("(shop) AND (uno)",)
    item = dynamodb.get_item(TableName=names["nodes"], Key={"catalogId": {"S": "shop"}, "nodePath": {"S": "0"}})
    assert item["Item"]["categoryId"]["S"] == "0"
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None


def test_bad_message_stays_queued_and_blocks_only_its_catalog(aws, graph):
    _, sqs, _, url = aws
    _, messages = _changes(graph)
    other = ops.create_catalog(graph, "other", NodeSettings.root("kw", "other", ("price",)), "u", at=20)
    bad = "{not json"
    sqs.send_message(QueueUrl=url, MessageBody=bad, MessageGroupId="shop", MessageDeduplicationId="bad-1")
    publish(sqs, url, [*messages, other])
    result = consume(sqs, url, graph, None, max_messages=20, wait_seconds=0, visibility_timeout=1)
    assert result.received == len(messages) + 2
    assert result.recomputed == 1  # only the other catalog; the bad body blocks its own group
    assert len(result.failed) == len(messages) + 1
    assert stored_states(graph, "other") == expected_states(graph, "other")
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    queued = int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])
    assert queued == len(messages) + 1  # nothing of catalog shop was deleted or lost


def test_conditional_row_write_never_goes_back_in_time(aws, graph):
    dynamodb, _, names, _ = aws
    root, messages = _changes(graph)
    for msg in messages:
        process_message(graph, msg)
    table = CategoryNodeTable(dynamodb, names["nodes"])
    state = stored_states(graph, "shop")[f"{root}/1"]
    assert table.put_row("shop", f"{root}/1", state, rev=5)
    older = type(state)(state.final, state.enabled, ("old",), state.version - 1)
    assert not table.put_row("shop", f"{root}/1", older, rev=4)
    assert table.rows("shop")[f"{root}/1"].state == state
    assert table.put_row("shop", f"{root}/1", state, rev=5)  # replaying the same write is fine


def test_consistency_check_reports_and_repairs_drift(aws, graph):
    dynamodb, _, names, _ = aws
    root, messages = _changes(graph)
    table = CategoryNodeTable(dynamodb, names["nodes"])
    for msg in messages:
        process_message(graph, msg, table)
    assert check_catalog(graph, "shop", table).clean
    graph.run(graph.g.V().has("uid", f"{root}/1/2").property("filter", "drifted"))
    graph.commit()
    dynamodb.delete_item(TableName=names["nodes"], Key={"catalogId": {"S": "shop"}, "nodePath": {"S": "3"}})
    report = check_catalog(graph, "shop", table)
    assert report.graph_drift == [f"{root}/1/2"]
    assert report.table_drift == [f"{root}/3"]
    assert not report.repaired
    repaired = check_catalog(graph, "shop", table, repair=True)
    assert repaired.repaired
    assert check_catalog(graph, "shop", table).clean
    assert list_catalogs(graph) == ["shop"]
