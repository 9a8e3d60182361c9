"""The Neptune-semantics store really behaves like Neptune where it matters (so the contract
and property suites that run on it keep their teeth), and our writes survive it."""

from __future__ import annotations

import pytest
from gremlin_python.process.traversal import Cardinality

from trend.catalog_graph.store import (
    GraphStore,
    Semantics,
    bytecode_steps,
    open_embedded,
    open_file,
    open_neptune_emulation,
)


def test_unqualified_property_adds_a_value_on_neptune_and_replaces_on_gremlite(tmp_path):
    for opener, expected in ((open_embedded, [2]), (open_neptune_emulation, [1, 2])):
        store = opener(tmp_path / f"{opener.__name__}.sqlite")
        vid = store.run(store.g.add_v("x").property("clock", 1).id_())[0]
        store.run(store.g.V(vid).property("clock", 2))
        assert sorted(store.run(store.g.V(vid).values("clock"))) == expected
        # a compare-and-set on the old value still passes on Neptune: the bug class of item 2
        assert bool(store.run(store.g.V(vid).has("clock", 1).id_())) is (opener is open_neptune_emulation)
        store.run(store.g.V(vid).property(Cardinality.single, "clock", 3))
        assert store.run(store.g.V(vid).values("clock")) == [3]  # single replaces every value
        store.close()


def test_neptune_rejects_list_cardinality(tmp_path):
    store = open_neptune_emulation(tmp_path / "n.sqlite")
    with pytest.raises(Exception, match="list cardinality"):
        store.run(store.g.add_v("x").property(Cardinality.list_, "k", 1))
    store.close()


def test_each_request_is_its_own_transaction_on_neptune(tmp_path):
    path = tmp_path / "n.sqlite"
    store = open_neptune_emulation(path)
    assert not store.transactional
    store.run(store.g.add_v("kept"))
    with pytest.raises(Exception, match="single-valued"):
        # a vertex and an edge are written, then the traversal fails: that request is rolled back
        store.run(store.g.add_v("lost").as_("a").add_e("r").from_("a").to("a").property(Cardinality.set_, "k", 1))
    store.rollback()  # no manual transactions: nothing to roll back
    other = open_embedded(path)  # a second connection sees what was committed
    assert other.run(other.g.V().label()) == ["kept"]
    other.close()
    store.close()


def test_open_file_picks_the_semantics(tmp_path, monkeypatch):
    monkeypatch.setenv("CATALOG_GRAPH_SEMANTICS", "neptune")
    assert open_file(tmp_path / "a.sqlite").semantics is Semantics.NEPTUNE_EMULATION
    assert open_file(tmp_path / "b.sqlite", "gremlite").semantics is Semantics.GREMLITE
    with pytest.raises(ValueError):
        open_file(tmp_path / "c.sqlite", "remote")


class _Recording(GraphStore):
    def __init__(self, inner: GraphStore):
        super().__init__(inner.g, inner.remote, inner.semantics)
        self.traversals: list = []

    def run(self, t):
        self.traversals.append(t.bytecode)
        return super().run(t)


def test_traversals_start_from_indexed_lookups(tmp_path):
    """Every traversal of a change and its recompute starts at a vertex id or an equality /
    within look-up on an indexed key — never a scan or a TextP prefix."""
    from tests.catalog_graph.conftest import T0, eq
    from trend.catalog_graph import operations as ops
    from trend.catalog_graph.model import NodeSettings
    from trend.catalog_graph.recompute import process_message

    inner = open_embedded(tmp_path / "g.sqlite")
    store = _Recording(inner)
    msgs = [ops.create_catalog(store, "c", NodeSettings.root("product", eq("a", 1), ("p",)), "u", at=T0)]
    msgs.append(ops.add_category_node(store, msgs[0].node_id, "1", NodeSettings(), "u", at=T0 + 1))
    msgs.append(ops.add_category_node(store, msgs[1].node_id, "2", NodeSettings(), "u", at=T0 + 2))
    msgs.append(
        ops.change_settings(store, msgs[1].node_id, NodeSettings(filter=eq("b", 1), filter_mode="none"), "u", at=T0 + 3)
    )
    msgs.append(ops.set_enabled(store, msgs[2].node_id, False, "u", at=T0 + 4))
    for msg in msgs:
        process_message(store, msg)
    indexed = {"uid", "parentNodeId", "catalogId", "categoryId", "nodeId", "clock"}
    assert len(store.traversals) > 20
    for bytecode in store.traversals:
        steps = bytecode.step_instructions
        text = repr(bytecode_steps(bytecode))
        assert "TextP" not in text and "starting_with" not in text and "startingWith" not in text
        if steps[0][0] == "addV":
            continue  # a new catalog: no look-up at all
        assert steps[0][0] == "V", text
        if len(steps[0]) == 1:  # V() then has(label?, key, value|within)
            assert steps[1][0] in ("has", "hasLabel"), text
            assert steps[1][-2] in indexed or steps[1][0] == "hasLabel", text
    inner.close()
