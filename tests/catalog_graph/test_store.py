"""The Neptune-semantics store really behaves like Neptune where it matters (so the contract
and property suites that run on it keep their teeth), and our writes survive it."""

from __future__ import annotations

import pytest
from gremlin_python.process.traversal import Cardinality

from trend.catalog_graph.store import Semantics, open_embedded, open_file, open_neptune_emulation


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
