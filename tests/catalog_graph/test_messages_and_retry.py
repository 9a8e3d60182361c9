"""Messages (JSON, validation), retry after a lost race, and bulk import equivalence."""

from __future__ import annotations

import pytest

from trend.catalog_graph import operations as ops
from trend.catalog_graph.messages import BadMessageError, ChangeKind, RecomputeMessage
from trend.catalog_graph.model import MatchMode as M
from trend.catalog_graph.model import NodeSettings, VersionConflictError
from trend.catalog_graph.recompute import expected_states, process_message, process_with_retry, stored_states
from trend.catalog_graph.store import open_embedded


def test_message_round_trip_and_validation():
    msg = RecomputeMessage("c1", "catalog:c1/4/5", 1795000000000001, ChangeKind.SETTINGS_CHANGED)
    assert RecomputeMessage.from_json(msg.to_json()) == msg
    assert msg.message_id == "catalog:c1/4/5#1795000000000001"
    with pytest.raises(BadMessageError, match="not a recompute message"):
        RecomputeMessage.from_json('{"catalog_id": "c1"}')
    with pytest.raises(BadMessageError) as err:
        RecomputeMessage.from_json(msg.to_json().replace('"c1"', '"c2"', 1))
    assert err.value.item_id == "catalog:c1/4/5"


class _RacingSink:
    """A sink that lets another writer (a second connection) update a node before our graph
    write on the first call — exactly the window the conditional writes protect."""

    def __init__(self, path, node_id):
        self.path, self.node_id, self.calls, self.races = path, node_id, 0, 0

    def put_nodes(self, catalog_id, writes):
        self.calls += 1
        if self.calls == 1:
            self.races += 1
            other = open_embedded(self.path)
            other.run(other.g.V().has("uid", self.node_id).property("rev", 100 + self.races))
            other.commit()
            other.close()
        return len(writes)


def _small_catalog(store):
    root = "catalog:r"
    for msg in (
        ops.create_catalog(store, "r", NodeSettings.root("kw", "r", ("a",)), "u", at=1),
        ops.add_category_node(store, root, "1", NodeSettings(filter="one", filter_mode=M.APPEND), "u", at=2),
        ops.add_category_node(store, f"{root}/1", "2", NodeSettings(), "u", at=3),
    ):
        process_message(store, msg)
    return root


def test_a_lost_race_is_retried_from_a_fresh_read(tmp_path):
    path = tmp_path / "g.sqlite"
    store = open_embedded(path)
    root = _small_catalog(store)
    msg = ops.change_settings(store, f"{root}/1", NodeSettings(filter="uno", filter_mode=M.APPEND), "u", at=4)
    sink = _RacingSink(path, f"{root}/1/2")
    with pytest.raises(VersionConflictError) as err:
        process_with_retry(store, msg, sink, attempts=1)
    assert err.value.item_id == f"{root}/1/2"
    assert stored_states(store, "r")[f"{root}/1"].final.filter == "(r) AND (one)"  # rolled back
    sink.calls = 0
    result = process_with_retry(store, msg, sink, attempts=2)
    assert sink.calls == 2 and not result.skipped
    assert stored_states(store, "r") == expected_states(store, "r")
    store.close()


def test_bulk_import_equals_one_by_one(tmp_path):
    nodes = [
        ops.NewNode("catalog:b", "1", NodeSettings(filter="one", filter_mode=M.APPEND)),
        ops.NewNode("catalog:b/1", "2", NodeSettings()),
        ops.NewNode("catalog:b/1", "3", NodeSettings("img", M.NONE, "three", M.NONE, ("z",), M.NONE)),
        ops.NewNode("catalog:b/1/3", "2", NodeSettings(required_data=("q",), required_data_mode=M.APPEND)),
    ]
    bulk, single = open_embedded(tmp_path / "bulk.sqlite"), open_embedded(tmp_path / "single.sqlite")
    created = [
        ops.create_catalog(store, "b", NodeSettings.root("kw", "b", ("a",)), "u", at=1) for store in (bulk, single)
    ]
    msgs = ops.add_category_nodes_bulk(bulk, "b", nodes, "u", at=5)
    assert [m.node_id for m in msgs] == ["catalog:b/1"]  # one message per imported subtree root
    assert ops.add_category_nodes_bulk(bulk, "b", nodes, "u") == []  # rerun: nothing new
    for i, node in enumerate(nodes):
        ops.add_category_node(single, node.parent_node_id, node.category_id, node.settings, "u", at=2 + i)
    finals = [
        {n: (s.final, s.combined_filter, s.enabled) for n, s in expected_states(store, "b").items()}
        for store in (bulk, single)
    ]
    assert finals[0] == finals[1]
    for msg in msgs + created[:1]:  # any order
        process_message(bulk, msg)
    assert stored_states(bulk, "b") == expected_states(bulk, "b")
    bulk.close()
    single.close()
