"""Contract suite: operations, recompute, race safety and history on a real graph store.

Runs on embedded gremlite always, and again on the Gremlin Server at GREMLIN_URL when set.
"""

from __future__ import annotations

import pytest

from trend.catalog_graph import operations as ops
from trend.catalog_graph.history import catalog_as_of, node_as_of, node_history
from trend.catalog_graph.messages import ChangeKind
from trend.catalog_graph.model import (
    DuplicateNodeError,
    EdgeLabel,
    InvalidIdError,
    InvalidSettingsError,
    NodeNotFoundError,
    NodeSettings,
    VersionConflictError,
    VertexLabel,
    category_uid,
)
from trend.catalog_graph.model import (
    MatchMode as M,
)
from trend.catalog_graph.recompute import (
    expected_states,
    full_rebuild,
    plan_writes,
    process_message,
    stored_states,
    write_graph,
)
from trend.catalog_graph.rules import derive
from trend.catalog_graph.snapshot import read_snapshot

ROOT_SETTINGS = NodeSettings.root("keyword", "brand:acme", ("price",))


def _build(store, catalog_id):
    root = f"catalog:{catalog_id}"
    msgs = [
        ops.create_catalog(store, catalog_id, ROOT_SETTINGS, "alice", at=100),
        ops.add_category_node(store, root, "1", NodeSettings(filter="cat:1", filter_mode=M.APPEND), "alice", at=101),
        ops.add_category_node(store, f"{root}/1", "2", NodeSettings(), "alice", at=102),
        ops.add_category_node(store, f"{root}/1/2", "3", NodeSettings(), "alice", at=103),
        ops.add_category_node(
            store, f"{root}/1/2", "4", NodeSettings("image", M.NONE, "own:4", M.NONE, ("img",), M.NONE), "bob", at=104
        ),
        ops.add_category_node(store, f"{root}/1/2/4", "5", NodeSettings(), "bob", at=105),
    ]
    for msg in msgs:
        process_message(store, msg)
    return root


def test_build_and_recompute_matches_from_scratch(store, catalog_id):
    root = _build(store, catalog_id)
    stored = stored_states(store, catalog_id)
    assert stored == expected_states(store, catalog_id)
    assert stored[f"{root}/1/2/3"].final.filter == "(brand:acme) AND (cat:1)"
    assert stored[f"{root}/1/2/4/5"].final.search_type == "image"
    assert stored[root].combined_filter == ("(brand:acme) AND (cat:1)", "own:4")


def test_change_at_depth_propagates_and_stops_at_none_child(store, catalog_id):
    root = _build(store, catalog_id)
    before = stored_states(store, catalog_id)
    msg = ops.change_settings(store, f"{root}/1", NodeSettings(filter="cat:9", filter_mode=M.APPEND), "bob", at=200)
    result = process_message(store, msg)
    after = stored_states(store, catalog_id)
    assert after == expected_states(store, catalog_id)
    assert after[f"{root}/1/2/3"].final.filter == "(brand:acme) AND (cat:9)"
    assert after[f"{root}/1/2/4"] == before[f"{root}/1/2/4"]  # all modes none: untouched
    assert after[f"{root}/1/2/4/5"] == before[f"{root}/1/2/4/5"]
    assert set(result.written_ids) == {f"{root}/1", f"{root}/1/2", f"{root}/1/2/3", root}


def test_stale_and_duplicate_messages_are_skipped(store, catalog_id):
    root = _build(store, catalog_id)
    old = ops.change_settings(store, f"{root}/1/2", NodeSettings(filter="x", filter_mode=M.APPEND), "bob", at=300)
    new = ops.change_settings(store, f"{root}/1", NodeSettings(filter="y", filter_mode=M.APPEND), "bob", at=301)
    assert not process_message(store, new).skipped  # covers the subtree, including node 2
    assert process_message(store, old).skipped
    assert process_message(store, new).skipped
    assert stored_states(store, catalog_id) == expected_states(store, catalog_id)


def test_conditional_write_detects_a_concurrent_writer(store, catalog_id):
    root = _build(store, catalog_id)
    msg = ops.change_settings(store, f"{root}/1/2", NodeSettings(filter="z", filter_mode=M.APPEND), "bob", at=400)
    stale_snapshot = read_snapshot(store, msg.node_id)
    process_message(store, msg)  # the other writer commits first
    writes = plan_writes(stale_snapshot, derive(stale_snapshot.truth, opaque=stale_snapshot.opaque), full=False)
    with pytest.raises(VersionConflictError) as err:
        write_graph(store, stale_snapshot.stored[root].vid, writes)
    assert err.value.item_id.startswith(root)
    assert stored_states(store, catalog_id) == expected_states(store, catalog_id)


def test_disable_and_enable_keep_history(store, catalog_id):
    root = _build(store, catalog_id)
    node = f"{root}/1/2/4"
    process_message(store, ops.set_enabled(store, node, False, "carol", at=500))
    assert stored_states(store, catalog_id)[root].combined_filter == ("(brand:acme) AND (cat:1)",)
    process_message(store, ops.set_enabled(store, node, True, "carol", at=501))
    assert stored_states(store, catalog_id)[root].combined_filter == ("(brand:acme) AND (cat:1)", "own:4")
    kinds = [e.kind for e in node_history(store, node)]
    assert kinds == ["enabled", "settings", "disabled", "enabled"]
    assert store.run(store.g.V().has("uid", node).out_e(EdgeLabel.DISABLED_BY.value).count())[0] == 1


def test_operations_are_idempotent(store, catalog_id):
    root = _build(store, catalog_id)
    first = ops.set_enabled(store, f"{root}/1", False, "carol", at=600)
    again = ops.set_enabled(store, f"{root}/1", False, "carol")
    assert again == first
    assert ops.add_category_node(store, root, "1", NodeSettings(), "x").version == 101
    same = NodeSettings(filter="cat:1", filter_mode=M.APPEND)
    assert ops.change_settings(store, f"{root}/1", same, "x").version == 101
    assert len(node_history(store, f"{root}/1")) == 3  # enabled, settings, disabled


def test_rollback_adds_a_new_settings_version_equal_to_the_old(store, catalog_id):
    root = _build(store, catalog_id)
    node = f"{root}/1"
    process_message(store, ops.change_settings(store, node, NodeSettings(filter="v2", filter_mode=M.NONE), "d", at=700))
    msg = ops.rollback_settings(store, node, 101, "d", at=701)
    assert msg.kind is ChangeKind.SETTINGS_CHANGED
    process_message(store, msg)
    history = ops.settings_history(store, node)
    assert [ts for ts, _ in history] == [101, 700, 701]
    assert history[-1][1] == history[0][1]
    assert stored_states(store, catalog_id)[node].final.filter == "(brand:acme) AND (cat:1)"


def test_as_of_reads(store, catalog_id):
    root = _build(store, catalog_id)
    process_message(
        store, ops.change_settings(store, f"{root}/1", NodeSettings(filter="n", filter_mode=M.NONE), "d", at=800)
    )
    assert node_as_of(store, f"{root}/1/2", 799).final.filter == "(brand:acme) AND (cat:1)"
    assert node_as_of(store, f"{root}/1/2", 800).final.filter == "n"
    assert set(catalog_as_of(store, catalog_id, 102)) == {root, f"{root}/1", f"{root}/1/2"}
    assert catalog_as_of(store, catalog_id, 99) == {}
    with pytest.raises(NodeNotFoundError, match="did not exist"):
        node_as_of(store, f"{root}/1/2/3", 102)


def test_category_with_several_parents(store, catalog_id):
    root = _build(store, catalog_id)
    process_message(store, ops.add_category_node(store, f"{root}/1/2/4", "3", NodeSettings(), "e", at=900))
    stored = stored_states(store, catalog_id)
    assert stored[f"{root}/1/2/4/3"].final.search_type == "image"
    assert stored[f"{root}/1/2/3"].final.search_type == "keyword"
    parents = store.run(
        store.g.V()
        .has(VertexLabel.CATEGORY.value, "uid", category_uid("3"))
        .in_(EdgeLabel.IS_CATEGORY.value)
        .has("catalogId", catalog_id)
        .values("nodeId")
    )
    assert sorted(parents) == [f"{root}/1/2/3", f"{root}/1/2/4/3"]


def test_bad_input_raises_naming_the_id_and_writes_nothing(store, catalog_id):
    root = _build(store, catalog_id)
    before = len(store.run(store.g.V().has("catalogId", catalog_id).id_()))
    with pytest.raises(NodeNotFoundError) as err:
        ops.add_category_node(store, f"{root}/77", "8", NodeSettings(), "e")
    assert err.value.item_id == f"{root}/77"
    with pytest.raises(InvalidSettingsError) as err:
        ops.change_settings(store, f"{root}/1", NodeSettings(filter="", filter_mode=M.NONE), "e")
    assert err.value.item_id == f"{root}/1"
    with pytest.raises(DuplicateNodeError):
        ops.add_category_node(store, f"{root}/1/2", "1", NodeSettings(), "e")
    with pytest.raises(InvalidIdError):
        ops.add_category_node(store, root, "a/b", NodeSettings(), "e")
    with pytest.raises(ops.StaleTimestampError):
        ops.change_settings(store, f"{root}/1", NodeSettings(), "e", at=50)
    assert len(store.run(store.g.V().has("catalogId", catalog_id).id_())) == before
    assert stored_states(store, catalog_id) == expected_states(store, catalog_id)


def test_full_rebuild_repairs_tampered_derived_state(store, catalog_id):
    root = _build(store, catalog_id)
    store.run(store.g.V().has("uid", f"{root}/1/2").property("filter", "tampered"))
    store.commit()
    assert stored_states(store, catalog_id) != expected_states(store, catalog_id)
    result = full_rebuild(store, catalog_id)
    assert result.written_ids == [f"{root}/1/2"]
    assert stored_states(store, catalog_id) == expected_states(store, catalog_id)
