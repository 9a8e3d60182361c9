"""Messages (JSON, validation), retry after a lost race, bulk import (equivalence, atomic or
resumable, cycles) and recomputes split into follow-up messages."""

from __future__ import annotations

import json

import pytest
from gremlin_python.process.traversal import Cardinality

from tests.catalog_graph.conftest import SEMANTICS, T0, eq, open_semantics
from trend.catalog_graph import operations as ops
from trend.catalog_graph.bulk import NewNode, add_category_nodes_bulk, imported_node_id
from trend.catalog_graph.messages import BadMessageError, ChangeKind, RecomputeMessage
from trend.catalog_graph.model import CategoryCycleError, NodeNotFoundError, NodeSettings, VersionConflictError
from trend.catalog_graph.model import MatchMode as M
from trend.catalog_graph.read_api import catalog_tree
from trend.catalog_graph.recompute import (
    expected_states,
    process_all,
    process_message,
    process_with_retry,
    stored_states,
)
from trend.catalog_graph.store import GraphStore

NODE = "categoryNode_c1_4_00000000-0000-4000-8000-000000000001"


def test_message_round_trip_and_validation():
    msg = RecomputeMessage("c1", NODE, T0 + 1, ChangeKind.SETTINGS_CHANGED)
    assert RecomputeMessage.from_json(msg.to_json()) == msg
    assert len(msg.message_id) == 64 and msg.message_id == RecomputeMessage.from_json(msg.to_json()).message_id
    with pytest.raises(BadMessageError, match="not a recompute message"):
        RecomputeMessage.from_json('{"catalog_id": "c1"}')
    with pytest.raises(BadMessageError) as err:
        RecomputeMessage.from_json(msg.to_json().replace('"c1"', '"c2"', 1))
    assert err.value.item_id == NODE


class _RacingSink:
    """Lets another writer (a second connection) write a node before our graph write on the
    first call — exactly the window the conditional writes protect."""

    def __init__(self, semantics, path, node_id):
        self.semantics, self.path, self.node_id, self.calls = semantics, path, node_id, 0

    def put_nodes(self, catalog_id, writes):
        self.calls += 1
        if self.calls == 1:
            other = open_semantics(self.semantics, self.path)
            text = other.run(other.g.V().has("uid", self.node_id).values("derived"))[0]
            body = json.loads(text)
            body["r"] += 1000  # what another writer's write of the same value looks like
            other.run(other.g.V().has("uid", self.node_id).property(Cardinality.single, "derived", json.dumps(body)))
            other.commit()
            other.close()
        return len(writes)


@pytest.mark.parametrize("semantics", SEMANTICS)
def test_a_lost_race_is_retried_from_a_fresh_read(semantics, tmp_path):
    path = tmp_path / "g.sqlite"
    store = open_semantics(semantics, path)
    root = "catalogNode_r"
    first = ops.create_catalog(store, "r", NodeSettings.root("product", eq("r", 1), ("a",)), "u", at=T0)
    one = ops.add_category_node(
        store, root, "1", NodeSettings(filter=eq("one", 1), filter_mode=M.APPEND), "u", at=T0 + 1
    )
    two = ops.add_category_node(store, one.node_id, "2", NodeSettings(), "u", at=T0 + 2)
    process_all(store, [first, one, two])
    msg = ops.change_settings(
        store, one.node_id, NodeSettings(filter=eq("uno", 1), filter_mode=M.APPEND), "u", at=T0 + 3
    )
    sink = _RacingSink(semantics, path, two.node_id)
    with pytest.raises(VersionConflictError) as err:
        process_with_retry(store, msg, sink, attempts=1)
    assert err.value.item_id == two.node_id
    sink.calls = 0
    result = process_with_retry(store, msg, sink, attempts=2)
    assert sink.calls == 2 and not result.skipped
    assert stored_states(store, "r") == expected_states(store, "r")
    store.close()


def _spec(root: str) -> list[NewNode]:
    return [
        NewNode("a", root, "1", NodeSettings(filter=eq("one", 1), filter_mode="append")),
        NewNode("b", "a", "2"),
        NewNode("c", "a", "3", NodeSettings("sellOffer", "none", eq("three", 1), "none", ("z",), "none")),
        NewNode("d", "c", "2", NodeSettings(required_data=("q",), required_data_mode="append")),
        NewNode("e", root, "5"),
        NewNode("f", "e", "6"),
    ]


@pytest.mark.parametrize("semantics", SEMANTICS)
def test_bulk_import_equals_one_by_one(semantics, tmp_path):
    bulk, single = (
        open_semantics(semantics, tmp_path / "bulk.sqlite"),
        open_semantics(semantics, tmp_path / "one.sqlite"),
    )
    root = "catalogNode_b"
    created = [
        ops.create_catalog(s, "b", NodeSettings.root("product", eq("b", 1), ("a",)), "u", at=T0) for s in (bulk, single)
    ]
    msgs = add_category_nodes_bulk(bulk, "b", _spec(root), "u", import_id="imp-1", at=T0 + 5)
    assert [m.kind for m in msgs] == [ChangeKind.CHILDREN_ADDED]  # two roots under the catalog
    assert add_category_nodes_bulk(bulk, "b", _spec(root), "u", import_id="imp-1") == msgs  # rerun: same messages
    ids = {root: root}
    for i, node in enumerate(_spec(root)):
        node_uuid = imported_node_id("b", "imp-1", node).rsplit("_", 1)[1]
        msg = ops.add_category_node(
            single, ids.get(node.parent, root), node.category_id, node.settings, "u", at=T0 + 1 + i, node_uuid=node_uuid
        )
        ids[node.ref] = msg.node_id
    process_all(bulk, [*msgs, created[0]])
    process_all(single, [created[1]])
    assert stored_states(bulk, "b") == expected_states(bulk, "b")
    as_views = [
        {n.node_id: (n.state.final, n.combined_filter) for n in catalog_tree(s, "b").walk()} for s in (bulk, single)
    ]
    assert as_views[0] == as_views[1]
    bulk.close()
    single.close()


class _CrashingStore(GraphStore):
    """A real store whose connection drops after ``after`` traversals (the process dies)."""

    def __init__(self, inner: GraphStore, after: int):
        super().__init__(inner.g, inner.remote, inner.semantics)
        self.after = after

    def run(self, t):
        self.after -= 1
        if self.after < 0:
            raise ConnectionError("connection lost")
        return super().run(t)


@pytest.mark.parametrize("semantics", SEMANTICS)
def test_bulk_import_is_atomic_or_resumable(semantics, tmp_path, monkeypatch):
    """Item 7: a failure part way leaves nothing (gremlite: one transaction) or the nodes
    written so far (Neptune: each request commits); re-running the import with the same id
    writes the rest and returns every message, those of nodes created before the failure too."""
    import trend.catalog_graph.bulk as bulk_module

    monkeypatch.setattr(bulk_module, "BULK_BATCH_SIZE", 2)
    path = tmp_path / "g.sqlite"
    first = open_semantics(semantics, path)
    root = "catalogNode_b"
    created = ops.create_catalog(first, "b", NodeSettings.root("product", eq("b", 1), ("a",)), "u", at=T0)
    first.commit()
    reads = 8  # 6 reads and category writes, the tick, the first write batch; then the connection drops
    with pytest.raises(ConnectionError):
        add_category_nodes_bulk(_CrashingStore(first, after=reads), "b", _spec(root), "u", import_id="imp-2")
    first.close()  # the process died: nothing more is committed
    store = open_semantics(semantics, path)
    written = set(store.run(store.g.V().has("categoryNode", "catalogId", "b").values("uid")))
    assert len(written) == (0 if semantics == "gremlite" else 2)
    msgs = add_category_nodes_bulk(store, "b", _spec(root), "u", import_id="imp-2")
    ids = {imported_node_id("b", "imp-2", n) for n in _spec(root)}
    assert set(store.run(store.g.V().has("categoryNode", "catalogId", "b").values("uid"))) == ids
    assert [(m.node_id, m.kind) for m in msgs] == [(root, ChangeKind.CHILDREN_ADDED)]
    process_all(store, [created, *msgs])
    assert stored_states(store, "b") == expected_states(store, "b")
    store.close()


def test_bulk_import_validates_everything_before_writing(tmp_path):
    store = open_semantics("neptune", tmp_path / "g.sqlite")
    root = "catalogNode_b"
    ops.create_catalog(store, "b", NodeSettings.root("product", eq("b", 1), ("a",)), "u", at=T0)
    before = store.run(store.g.V().count())[0]
    bad_settings = [NewNode("a", root, "1"), NewNode("b", "a", "2", NodeSettings(filter_mode="bogus"))]
    with pytest.raises(Exception, match="bogus"):
        add_category_nodes_bulk(store, "b", bad_settings, "u", import_id="x")
    with pytest.raises(NodeNotFoundError):
        add_category_nodes_bulk(
            store, "b", [NewNode("a", "categoryNode_b_9_00000000-0000-4000-8000-000000000009", "1")], "u", import_id="y"
        )
    cycle = [NewNode("a", root, "1"), NewNode("b", "a", "2"), NewNode("c", root, "2"), NewNode("d", "c", "1")]
    with pytest.raises(CategoryCycleError):
        add_category_nodes_bulk(store, "b", cycle, "u", import_id="z")
    assert store.run(store.g.V().count())[0] == before
    store.close()


@pytest.mark.parametrize("semantics", SEMANTICS)
def test_a_large_recompute_splits_into_follow_ups_and_ends_right(semantics, tmp_path):
    store = open_semantics(semantics, tmp_path / "g.sqlite")
    root = "catalogNode_s"
    first = ops.create_catalog(store, "s", NodeSettings.root("product", eq("s", 1), ("a",)), "u", at=T0)
    spec = [NewNode(f"n{i}", root, f"{i}") for i in range(1, 5)]
    spec += [NewNode(f"n{i}-{j}", f"n{i}", f"{i}-{j}") for i in range(1, 5) for j in range(5)]
    msgs = add_category_nodes_bulk(store, "s", spec, "u", import_id="s", at=T0 + 1)
    process_all(store, [first, *msgs])
    change = ops.change_settings(store, root, NodeSettings.root("product", eq("s", 2), ("a",)), "u", at=T0 + 2)
    result = process_message(store, change, max_nodes=6)
    assert result.follow_ups and all(m.kind is ChangeKind.FOLLOW_UP for m in result.follow_ups)
    assert result.nodes_read <= 6 + 5  # the budget, overshot by at most one parent's children
    assert stored_states(store, "s") != expected_states(store, "s")  # not done yet
    process_all(store, result.follow_ups, max_nodes=6)
    assert stored_states(store, "s") == expected_states(store, "s")
    assert process_message(store, change).skipped
    store.close()
