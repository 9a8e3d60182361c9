"""Contract suite: operations, recompute, race safety and history on a real graph store.

Runs on embedded gremlite, on gremlite with Neptune's semantics (set cardinality unless named,
no list cardinality, each request its own transaction) and again on the Gremlin Server at
GREMLIN_URL when set.
"""

from __future__ import annotations

import pytest
from gremlin_python.process.graph_traversal import __

from tests.catalog_graph.conftest import T0, eq
from trend.catalog_graph import operations as ops
from trend.catalog_graph.combined import flatten
from trend.catalog_graph.filters import and_, parse_filter
from trend.catalog_graph.messages import ChangeKind
from trend.catalog_graph.model import (
    CategoryCycleError,
    EdgeLabel,
    InvalidIdError,
    InvalidSettingsError,
    InvalidTimestampError,
    NodeNotFoundError,
    NodeSettings,
    VersionConflictError,
    VertexLabel,
    catalog_node_id,
    category_uid,
    parse_node_id,
)
from trend.catalog_graph.model import MatchMode as M
from trend.catalog_graph.read_api import catalog_as_of, catalog_tree, node_as_of, node_history
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

ROOT_SETTINGS = NodeSettings.root("product", eq("brand", "acme"), ("price",))
BRAND = parse_filter(eq("brand", "acme"), "t")


def F(field, value):
    return parse_filter(eq(field, value), "t")


def _build(store, catalog_id) -> dict[str, str]:
    """catalog -> 1 (append cat=1) -> 2 (match) -> {3 (match), 4 (all none, own filter) -> 5 (match)}."""
    root = catalog_node_id(catalog_id)
    msgs = [ops.create_catalog(store, catalog_id, ROOT_SETTINGS, "alice", at=T0)]
    ids = {"root": root}

    def add(name, parent, settings, user, at):
        msgs.append(ops.add_category_node(store, ids[parent], name, settings, user, at=at))
        ids[name] = msgs[-1].node_id

    add("1", "root", NodeSettings(filter=eq("cat", 1), filter_mode=M.APPEND), "alice", T0 + 1)
    add("2", "1", NodeSettings(), "alice", T0 + 2)
    add("3", "2", NodeSettings(), "alice", T0 + 3)
    add("4", "2", NodeSettings("sellOffer", M.NONE, eq("own", 4), M.NONE, ("img",), M.NONE), "bob", T0 + 4)
    add("5", "4", NodeSettings(), "bob", T0 + 5)
    for msg in msgs:
        process_message(store, msg)
    return ids


def _browsed(store, catalog_id) -> dict[str, dict[str, set[str]]]:
    return {n.node_id: flatten(n.combined_filter) for n in catalog_tree(store, catalog_id).walk()}


def test_build_and_recompute_matches_from_scratch(store, catalog_id):
    ids = _build(store, catalog_id)
    stored = stored_states(store, catalog_id)
    assert stored == expected_states(store, catalog_id)
    assert stored[ids["3"]].final.filter == and_(BRAND, F("cat", 1))
    assert stored[ids["5"]].final.search_type == "sellOffer"


def test_combined_filter_holds_category_ids_and_the_catalog_filter(store, catalog_id):
    """Item 1: the top-level record is the catalog filter AND its categories, and custom
    children are separate blocks scoped to their own categories."""
    ids = _build(store, catalog_id)
    process_message(store, ops.add_category_node(store, ids["root"], "6", NodeSettings(), "alice", at=T0 + 6))
    browsed = _browsed(store, catalog_id)
    appended = and_(BRAND, F("cat", 1)).text
    assert browsed[ids["root"]] == {BRAND.text: {"6"}, appended: {"1", "2", "3"}, F("own", 4).text: {"4", "5"}}
    assert browsed[ids["2"]] == {appended: {"2", "3"}, F("own", 4).text: {"4", "5"}}
    assert browsed[ids["3"]] == {appended: {"3"}}


def test_every_vertex_property_has_one_value(store, catalog_id):
    """Item 2: on Neptune an unqualified property() adds a value; after many changes every
    property of every vertex must still hold exactly one."""
    ids = _build(store, catalog_id)
    for at, filter_value in ((T0 + 10, 2), (T0 + 11, 3)):
        msg = ops.change_settings(
            store, ids["1"], NodeSettings(filter=eq("cat", filter_value), filter_mode=M.APPEND), "c", at=at
        )
        process_message(store, msg)
    process_message(store, ops.set_enabled(store, ids["3"], False, "c", at=T0 + 12))
    process_message(store, ops.set_enabled(store, ids["3"], True, "c", at=T0 + 13))
    counts = store.run(store.g.V().project("id", "keys").by("uid").by(__.properties().key().fold()))
    for row in counts:
        assert len(row["keys"]) == len(set(row["keys"])), (row["id"], sorted(row["keys"]))
    clock = store.run(store.g.V().has("uid", ids["root"]).values("clock"))
    assert clock == [T0 + 13]
    assert stored_states(store, catalog_id) == expected_states(store, catalog_id)


def test_change_at_depth_propagates_and_stops_at_none_child(store, catalog_id):
    ids = _build(store, catalog_id)
    before = stored_states(store, catalog_id)
    msg = ops.change_settings(
        store, ids["1"], NodeSettings(filter=eq("cat", 9), filter_mode=M.APPEND), "bob", at=T0 + 20
    )
    result = process_message(store, msg)
    after = stored_states(store, catalog_id)
    assert after == expected_states(store, catalog_id)
    assert after[ids["3"]].final.filter == and_(BRAND, F("cat", 9))
    assert after[ids["4"]] == before[ids["4"]]  # all modes none: untouched, and not even read below
    assert ids["5"] not in set(result.written_ids)
    assert set(result.written_ids) == {ids["1"], ids["2"], ids["3"], ids["root"]}


def test_stale_and_duplicate_messages_are_skipped(store, catalog_id):
    ids = _build(store, catalog_id)
    old = ops.change_settings(store, ids["2"], NodeSettings(filter=eq("x", 1), filter_mode=M.APPEND), "bob", at=T0 + 30)
    new = ops.change_settings(store, ids["1"], NodeSettings(filter=eq("y", 1), filter_mode=M.APPEND), "bob", at=T0 + 31)
    assert not process_message(store, new).skipped  # covers the subtree, including node 2
    stale = process_message(store, old)
    assert stale.skipped and stale.round_trips == 1
    assert process_message(store, new).skipped
    assert stored_states(store, catalog_id) == expected_states(store, catalog_id)


def test_conditional_write_detects_a_concurrent_writer(store, catalog_id):
    ids = _build(store, catalog_id)
    msg = ops.change_settings(store, ids["2"], NodeSettings(filter=eq("z", 1), filter_mode=M.APPEND), "bob", at=T0 + 40)
    stale_snapshot = read_snapshot(store, msg.node_id, full=False)
    process_message(store, msg)  # the other writer commits first
    derived = derive(stale_snapshot.truth, opaque=stale_snapshot.opaque, frozen=stale_snapshot.frozen)
    writes = plan_writes(stale_snapshot, derived)
    with pytest.raises(VersionConflictError) as err:
        write_graph(store, stale_snapshot.rows[ids["root"]].vid, writes)
    assert parse_node_id(err.value.item_id)[0] == catalog_id
    assert stored_states(store, catalog_id) == expected_states(store, catalog_id)


def test_disable_and_enable_keep_history(store, catalog_id):
    ids = _build(store, catalog_id)
    node = ids["4"]
    result = process_message(store, ops.set_enabled(store, node, False, "carol", at=T0 + 50))
    assert ids["5"] not in result.written_ids  # a toggle changes nothing below the node
    assert F("own", 4).text not in _browsed(store, catalog_id)[ids["root"]]
    process_message(store, ops.set_enabled(store, node, True, "carol", at=T0 + 51))
    assert _browsed(store, catalog_id)[ids["root"]][F("own", 4).text] == {"4", "5"}
    kinds = [e.kind for e in node_history(store, node)]
    assert kinds == ["enabled", "settings", "disabled", "enabled"]
    assert store.run(store.g.V().has("uid", node).out_e(EdgeLabel.DISABLED_BY.value).count())[0] == 1
    assert stored_states(store, catalog_id) == expected_states(store, catalog_id)


def test_operations_are_idempotent(store, catalog_id):
    ids = _build(store, catalog_id)
    first = ops.set_enabled(store, ids["1"], False, "carol", at=T0 + 60)
    assert ops.set_enabled(store, ids["1"], False, "carol") == first
    same = NodeSettings(filter=eq("cat", 1), filter_mode="append")  # strings parse to the same settings
    assert ops.change_settings(store, ids["1"], same, "x").version == T0 + 1
    assert len(node_history(store, ids["1"])) == 3  # enabled, settings, disabled
    request = "5a4e6c1c-0d4e-4a43-9d8e-3f1f4b0f6a01"
    added = ops.add_category_node(store, ids["root"], "9", NodeSettings(), "x", at=T0 + 61, node_uuid=request)
    assert ops.add_category_node(store, ids["root"], "9", NodeSettings(), "x", node_uuid=request) == added


def test_same_category_twice_under_one_parent_keeps_both(store, catalog_id):
    """Item 4: node ids carry a uuid; the second placement keeps its own settings."""
    ids = _build(store, catalog_id)
    a = ops.add_category_node(
        store, ids["root"], "7", NodeSettings(filter=eq("a", 1), filter_mode=M.NONE), "u", at=T0 + 70
    )
    b = ops.add_category_node(
        store, ids["root"], "7", NodeSettings(filter=eq("b", 1), filter_mode=M.NONE), "u", at=T0 + 71
    )
    assert a.node_id != b.node_id and a.node_id.startswith(f"categoryNode_{catalog_id}_7_")
    for msg in (a, b):
        process_message(store, msg)
    stored = stored_states(store, catalog_id)
    assert (stored[a.node_id].final.filter, stored[b.node_id].final.filter) == (F("a", 1), F("b", 1))
    browsed = _browsed(store, catalog_id)[ids["root"]]
    assert browsed[F("a", 1).text] == {"7"} and browsed[F("b", 1).text] == {"7"}


def test_vertex_and_edge_ids_follow_the_design(store, catalog_id):
    """Item 4: vertex and edge ids; match modes store no value in the settings vertex."""
    ids = _build(store, catalog_id)
    node = ids["3"]
    at = T0 + 3
    edge_ids = set(store.run(store.g.V().has("uid", node).both_e().values("uid")))
    settings_uid = store.run(store.g.V().has("uid", node).out(EdgeLabel.HAS_SETTINGS.value).values("uid"))[0]
    assert edge_ids >= {
        f"{at}_{ids['2']}_hasChild_{node}",
        f"{node}_createdBy_user_alice",
        f"{node}_isCategory_{category_uid('3')}",
        f"{node}_hasSettings_{settings_uid}",
    }
    keys = set(store.run(store.g.V().has("uid", settings_uid).properties().key()))
    assert keys == {
        "uid",
        "nodeId",
        "timestamp",
        "searchTypeMatchParent",
        "filterMatchParent",
        "requiredDataMatchParent",
    }
    process_message(store, ops.set_enabled(store, node, False, "carol", at=T0 + 80))
    toggles = set(store.run(store.g.V().has("uid", node).both_e().values("uid")))
    assert {f"{T0 + 80}_{ids['2']}_hasDisabledChild_{node}", f"{T0 + 80}_{node}_disabledBy_user_carol"} <= toggles


def test_rollback_adds_a_new_settings_version_equal_to_the_old(store, catalog_id):
    ids = _build(store, catalog_id)
    node = ids["1"]
    process_message(
        store, ops.change_settings(store, node, NodeSettings(filter=eq("v", 2), filter_mode=M.NONE), "d", at=T0 + 90)
    )
    msg = ops.rollback_settings(store, node, T0 + 1, "d", at=T0 + 91)
    assert msg.kind is ChangeKind.SETTINGS_CHANGED
    process_message(store, msg)
    history = ops.settings_history(store, node)
    assert [ts for ts, _ in history] == [T0 + 1, T0 + 90, T0 + 91]
    assert history[-1][1] == history[0][1]
    assert stored_states(store, catalog_id)[node].final.filter == and_(BRAND, F("cat", 1))


def test_as_of_reads(store, catalog_id):
    ids = _build(store, catalog_id)
    process_message(
        store,
        ops.change_settings(store, ids["1"], NodeSettings(filter=eq("n", 1), filter_mode=M.NONE), "d", at=T0 + 100),
    )
    assert node_as_of(store, ids["2"], T0 + 99).final.filter == and_(BRAND, F("cat", 1))
    assert node_as_of(store, ids["2"], T0 + 100).final.filter == F("n", 1)
    assert set(catalog_as_of(store, catalog_id, T0 + 2).nodes) == {ids["root"], ids["1"], ids["2"]}
    assert catalog_as_of(store, catalog_id, T0 - 1).nodes == {}
    with pytest.raises(NodeNotFoundError, match="did not exist"):
        node_as_of(store, ids["3"], T0 + 2)


def test_category_with_several_parents_has_settings_per_placement(store, catalog_id):
    """Item 6 (decision: settings attach to the placement, see docs): category 3 under node 4
    is a second placement with its own settings; finals follow each placement's parent."""
    ids = _build(store, catalog_id)
    second = ops.add_category_node(store, ids["4"], "3", NodeSettings(), "e", at=T0 + 110)
    process_message(store, second)
    stored = stored_states(store, catalog_id)
    assert stored[second.node_id].final.search_type == "sellOffer"
    assert stored[ids["3"]].final.search_type == "product"
    placements = store.run(
        store.g.V()
        .has(VertexLabel.CATEGORY.value, "uid", category_uid("3"))
        .in_(EdgeLabel.IS_CATEGORY.value)
        .has("catalogId", catalog_id)
        .values("uid")
    )
    assert sorted(placements) == sorted([ids["3"], second.node_id])
    assert _browsed(store, catalog_id)[ids["root"]][F("own", 4).text] == {"3", "4", "5"}


def test_category_level_cycles_are_rejected(store, catalog_id):
    """Item 6: A under B in one branch and B under A in another would loop."""
    ids = _build(store, catalog_id)
    process_message(store, ops.add_category_node(store, ids["root"], "3x", NodeSettings(), "e", at=T0 + 120))
    b = ops.add_category_node(store, ids["root"], "B", NodeSettings(), "e", at=T0 + 121)
    a_under_b = ops.add_category_node(store, b.node_id, "A", NodeSettings(), "e", at=T0 + 122)
    before = store.run(store.g.V().count())[0]
    with pytest.raises(CategoryCycleError) as err:
        ops.add_category_node(store, a_under_b.node_id, "B", NodeSettings(), "e")  # B -> A -> B
    assert parse_node_id(err.value.item_id)[1] == "B"
    a_elsewhere = ops.add_category_node(store, ids["3"], "A", NodeSettings(), "e", at=T0 + 123)
    with pytest.raises(CategoryCycleError):
        ops.add_category_node(store, a_elsewhere.node_id, "1", NodeSettings(), "e")  # 1 -> 2 -> 3 -> A -> 1
    with pytest.raises(CategoryCycleError):
        ops.add_category_node(store, ids["5"], "4", NodeSettings(), "e")  # its own ancestor
    assert store.run(store.g.V().count())[0] == before + 2  # a_elsewhere's node and settings only


def test_bad_input_raises_naming_the_id_and_writes_nothing(store, catalog_id):
    """Item 7: modes parsed, wrong-unit timestamps rejected, nothing written on rejection."""
    ids = _build(store, catalog_id)
    before = store.run(store.g.V().count())[0], store.run(store.g.E().count())[0]
    missing = f"categoryNode_{catalog_id}_77_5a4e6c1c-0d4e-4a43-9d8e-3f1f4b0f6a01"
    with pytest.raises(NodeNotFoundError) as err:
        ops.add_category_node(store, missing, "8", NodeSettings(), "e")
    assert err.value.item_id == missing
    with pytest.raises(InvalidSettingsError) as err:
        ops.change_settings(store, ids["1"], NodeSettings(filter=None, filter_mode=M.NONE), "e")
    assert err.value.item_id == ids["1"]
    with pytest.raises(InvalidSettingsError, match="bogus"):
        ops.change_settings(store, ids["1"], NodeSettings(filter=eq("a", 1), filter_mode="bogus"), "e")
    with pytest.raises(InvalidIdError):
        ops.add_category_node(store, ids["root"], "a/b", NodeSettings(), "e")
    for wrong_unit in (1_700_000_000, 1_700_000_000_000, 1_700_000_000_000_000_000):  # s, ms, ns
        with pytest.raises(InvalidTimestampError, match="wrong unit"):
            ops.change_settings(
                store, ids["1"], NodeSettings(filter=eq("a", 1), filter_mode=M.NONE), "e", at=wrong_unit
            )
    with pytest.raises(InvalidTimestampError, match="not after"):
        ops.change_settings(store, ids["1"], NodeSettings(filter=eq("a", 1), filter_mode=M.NONE), "e", at=T0 + 2)
    assert (store.run(store.g.V().count())[0], store.run(store.g.E().count())[0]) == before
    assert stored_states(store, catalog_id) == expected_states(store, catalog_id)


def test_full_rebuild_repairs_tampered_derived_state(store, catalog_id):
    ids = _build(store, catalog_id)
    from gremlin_python.process.traversal import Cardinality

    store.run(store.g.V().has("uid", ids["2"]).property(Cardinality.single, "derived", ""))
    store.commit()
    assert stored_states(store, catalog_id) != expected_states(store, catalog_id)
    result = full_rebuild(store, catalog_id)
    assert result.written_ids == [ids["2"]]
    assert stored_states(store, catalog_id) == expected_states(store, catalog_id)
