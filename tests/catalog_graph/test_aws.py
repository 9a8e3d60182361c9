"""DynamoDB config + CategoryNode/block tables, the SQS FIFO consumer (dead-letter queue) and the
consistency check, against a real moto server and the embedded graph."""

from __future__ import annotations

import pytest

from tests.catalog_graph.conftest import T0, eq, open_semantics
from trend.catalog_graph import operations as ops
from trend.catalog_graph.bulk import NewNode, add_category_nodes_bulk
from trend.catalog_graph.consistency import check_catalog, list_catalogs
from trend.catalog_graph.dynamo import CatalogGraphConfig, ConfigError, ConfigStore, ConfigTag, NonRetryableWriteError
from trend.catalog_graph.messages import ChangeKind, RecomputeMessage
from trend.catalog_graph.model import MatchMode as M
from trend.catalog_graph.model import NodeSettings
from trend.catalog_graph.node_table import CategoryNodeTable, item_bytes
from trend.catalog_graph.read_api import catalog_tree
from trend.catalog_graph.recompute import expected_states, process_all, process_message, stored_states
from trend.catalog_graph.sqs import consume, dlq_url_for, publish


@pytest.fixture(params=["gremlite", "neptune"])
def graph(request, tmp_path):
    store = open_semantics(request.param, tmp_path / "g.sqlite")
    yield store
    store.close()


def _changes(store, catalog_id="shop"):
    root = f"catalogNode_{catalog_id}"
    msgs = [ops.create_catalog(store, catalog_id, NodeSettings.root("product", eq("shop", 1), ("price",)), "u", at=T0)]
    msgs.append(
        ops.add_category_node(store, root, "1", NodeSettings(filter=eq("one", 1), filter_mode=M.APPEND), "u", at=T0 + 1)
    )
    msgs.append(ops.add_category_node(store, msgs[1].node_id, "2", NodeSettings(), "u", at=T0 + 2))
    msgs.append(
        ops.add_category_node(store, root, "3", NodeSettings(filter=eq("three", 1), filter_mode=M.NONE), "u", at=T0 + 3)
    )
    msgs.append(
        ops.change_settings(
            store, msgs[1].node_id, NodeSettings(filter=eq("uno", 1), filter_mode=M.APPEND), "u", at=T0 + 4
        )
    )
    msgs.append(ops.set_enabled(store, msgs[3].node_id, False, "u", at=T0 + 5))
    return root, msgs


def _table(aws) -> CategoryNodeTable:
    dynamodb, _, names, _ = aws
    return CategoryNodeTable(dynamodb, names["nodes"], names["blocks"])


def _queued(sqs, url) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def test_config_has_the_designs_tags_defaults_and_map_values(aws):
    """Item 4: the design's configuration tags, with their defaults; map values."""
    dynamodb, _, names, _ = aws
    now = [0.0]
    config = ConfigStore(dynamodb, names["config"], ttl=60, clock=lambda: now[0])
    loaded = config.load()
    assert loaded == CatalogGraphConfig()
    assert (loaded.category_tree_service_name_tag, loaded.catalog_graph_service_name) == (
        "CategoryTreeStandard",
        "CatalogGraph",
    )
    assert loaded.browse_quantity == 1 and loaded.location_tree_area_node_id is None
    assert config.seed_defaults() == 10 and config.seed_defaults() == 0  # idempotent
    row = dynamodb.get_item(
        TableName=names["config"],
        Key={"configTag": {"S": "CategoryTreeService"}, "configKey": {"S": "CategoryTreeStandard"}},
    )["Item"]
    assert row["configValue"] == {"M": {"serviceName": {"S": "CategoryTreeStandard"}}}
    config.put(ConfigTag.CATEGORY_TREE_SERVICE, "CategoryTreeFancy", {"serviceName": "category-tree-fancy-v2"})
    assert config.category_tree_service("CategoryTreeFancy") == "category-tree-fancy-v2"
    config.put(ConfigTag.DEFAULT_VALUE, "browseQuantity", 24)
    config.put(ConfigTag.DEFAULT_VALUE, "locationTreeAreaNodeId", "usa")
    config.put(ConfigTag.RECOMPUTE, "maxMessagesPerRun", "7")
    loaded = config.load()
    assert (loaded.browse_quantity, loaded.location_tree_area_node_id, loaded.max_messages_per_run) == (24, "usa", 7)
    queries = config.queries
    config.client.put_item(
        TableName=names["config"],
        Item={
            "configTag": {"S": "catalogGraph.recompute"},
            "configKey": {"S": "maxAttempts"},
            "configValue": {"N": "5"},
        },
    )
    assert config.load().max_attempts == 3 and config.queries == queries  # cached
    now[0] = 61.0
    assert config.load().max_attempts == 5  # cache expired
    config.put(ConfigTag.QUEUE, "waitSeconds", "soon")
    with pytest.raises(ConfigError, match="waitSeconds"):
        config.load()
    config.put(ConfigTag.CATEGORY_TREE_SERVICE, "Broken", "not a map")
    with pytest.raises(ConfigError, match="Broken"):
        config.category_tree_service("Broken")


def test_consumer_writes_graph_and_table_and_acks_after_commit(aws, graph):
    dynamodb, sqs, names, url = aws
    root, messages = _changes(graph)
    table = _table(aws)
    publish(sqs, url, messages + messages[:3])  # duplicates are deduplicated or skipped as stale
    result = consume(sqs, url, graph, table, max_messages=50, wait_seconds=0, visibility_timeout=30)
    assert result.failed == [] and result.dead_lettered == []
    assert result.received == len(messages)  # FIFO deduplication dropped the re-sent three
    assert result.recomputed + result.skipped_stale == len(messages)
    expected = expected_states(graph, "shop")
    assert stored_states(graph, "shop") == expected
    rows = table.rows("shop")
    assert set(rows) == set(expected) and all(rows[n].matches(s) for n, s in expected.items())
    tree = catalog_tree(graph, "shop")
    assert table.combined_filter(rows[root]) == tree.nodes[root].combined_filter
    item = dynamodb.get_item(TableName=names["nodes"], Key={"catalogId": {"S": "shop"}, "nodeKey": {"S": "0"}})
    assert item["Item"]["categoryId"]["S"] == "0"
    assert _queued(sqs, url) == 0


def test_dedup_ids_do_not_collide(aws):
    """Item 7: on main a_b and a-b both became a-b and SQS dropped the second message."""
    _, sqs, _, url = aws
    a = RecomputeMessage("c", "categoryNode_c_a-b_00000000-0000-4000-8000-000000000001", T0, ChangeKind.NODE_ADDED)
    b = RecomputeMessage("c", "categoryNode_c_a_00000000-0000-4000-8000-000000000001", T0, ChangeKind.NODE_ADDED)
    c = RecomputeMessage("c", a.node_id, T0, ChangeKind.SETTINGS_CHANGED)
    assert len({a.message_id, b.message_id, c.message_id}) == 3
    raw = [m.message_id for m in (a, b)]
    assert all(len(i) <= 128 and i.isalnum() for i in raw)
    publish(sqs, url, [a, b, a])
    assert _queued(sqs, url) == 2


def test_large_catalog_items_stay_small_and_go_in_batches(aws, tmp_path):
    """Item 3: on main the top-level record of a 10k-node catalog was 135 KiB and of a 100k one
    1.5 MiB. Here 800 shared categories and 200 with long custom filters under one catalog."""
    graph = open_semantics("gremlite", tmp_path / "big.sqlite")
    table = _table(aws)
    root = "catalogNode_big"
    msgs = [ops.create_catalog(graph, "big", NodeSettings.root("product", eq("shop", "big"), ("price",)), "u", at=T0)]
    nodes = [NewNode(f"s{i}", root, f"shared-{i}") for i in range(800)]
    custom = [NodeSettings(filter=eq("c", "x" * 2500 + str(i)), filter_mode="none") for i in range(200)]
    nodes += [NewNode(f"c{i}", root, f"custom-{i}", settings) for i, settings in enumerate(custom)]
    msgs += add_category_nodes_bulk(graph, "big", nodes, "u", import_id="big", at=T0 + 1)
    process_all(graph, msgs, table)
    assert 0 < table.max_item_bytes < 100_000
    assert table.requests < (table.rows_written + table.blocks_written) / 20  # 25 items per request
    rows = table.rows("big")
    assert len(rows) == 1001
    browsed = table.combined_filter(rows[root])
    assert len(str(browsed)) > 400 * 1024  # what a single item could not have held
    assert browsed == catalog_tree(graph, "big").nodes[root].combined_filter
    graph.close()


def test_non_retryable_error_is_dead_lettered_without_blocking_others(aws, tmp_path):
    """Item 3: an item DynamoDB cannot take fails its message visibly (DLQ, with the error);
    the catalog's later messages and other catalogs go on."""
    _, sqs, _, url = aws
    graph = open_semantics("neptune", tmp_path / "deep.sqlite")
    table = _table(aws)
    root = "catalogNode_deep"
    process_message(
        graph,
        ops.create_catalog(graph, "deep", NodeSettings.root("product", eq("d", 0), ("price",)), "u", at=T0),
        table,
    )
    parent, big = root, "x" * 15_000
    for i in range(1, 30):  # each level appends 15 KB: the final filter outgrows an item at ~27
        msg = ops.add_category_node(
            graph, parent, str(i), NodeSettings(filter=eq(f"f{i}", big), filter_mode="append"), "u", at=T0 + i
        )
        parent = msg.node_id
        if i < 26:
            process_message(graph, msg, table)
    _, shop = _changes(graph, "shop")
    late = ops.add_category_node(graph, root, "ok", NodeSettings(), "u", at=T0 + 100)
    publish(sqs, url, [msg, *shop, late])
    result = consume(sqs, url, graph, table, max_messages=20, wait_seconds=0, visibility_timeout=30)
    assert len(result.dead_lettered) == 1 and result.failed == []
    dlq = dlq_url_for(sqs, url)
    dead = sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"], WaitTimeSeconds=0)["Messages"]
    assert dead[0]["MessageAttributes"]["errorType"]["StringValue"] == "NonRetryableWriteError"
    assert "400 KB" in dead[0]["MessageAttributes"]["error"]["StringValue"]
    assert RecomputeMessage.from_json(dead[0]["Body"]) == msg
    assert stored_states(graph, "shop") == expected_states(graph, "shop")  # the other catalog
    assert late.node_id in table.rows("deep")  # the same catalog's later message
    assert _queued(sqs, url) == 0
    with pytest.raises(NonRetryableWriteError):
        process_message(graph, msg, table)
    graph.close()


def test_bad_body_is_dead_lettered_and_retryable_failures_stay_queued(aws, graph):
    _, sqs, _, url = aws
    _, messages = _changes(graph)
    sqs.send_message(QueueUrl=url, MessageBody="{not json", MessageGroupId="shop", MessageDeduplicationId="bad-1")
    publish(sqs, url, messages)
    result = consume(sqs, url, graph, None, max_messages=20, wait_seconds=0, visibility_timeout=1)
    assert len(result.dead_lettered) == 1 and result.failed == []
    assert result.recomputed + result.skipped_stale == len(messages)
    assert stored_states(graph, "shop") == expected_states(graph, "shop")


def test_consistency_check_reports_and_repairs_drift(aws, graph):
    dynamodb, _, names, _ = aws
    _root, messages = _changes(graph)
    table = _table(aws)
    for msg in messages:
        process_message(graph, msg, table)
    assert check_catalog(graph, "shop", table).clean
    from gremlin_python.process.traversal import Cardinality

    node_2 = messages[2].node_id
    graph.run(graph.g.V().has("uid", node_2).property(Cardinality.single, "derived", ""))
    graph.commit()
    row_3 = table.row_item("shop", messages[3].node_id, expected_states(graph, "shop")[messages[3].node_id], 1)
    dynamodb.delete_item(TableName=names["nodes"], Key={"catalogId": row_3["catalogId"], "nodeKey": row_3["nodeKey"]})
    report = check_catalog(graph, "shop", table)
    assert report.graph_drift == [node_2]
    assert report.table_drift == [messages[3].node_id]
    assert not report.repaired
    assert check_catalog(graph, "shop", table, repair=True).repaired
    assert check_catalog(graph, "shop", table).clean
    assert list_catalogs(graph) == ["shop"]
    assert item_bytes(row_3) < 1000
