"""The pure engine: resolution rules, propagation, combined filters, versions, as-of."""

from __future__ import annotations

import pytest

from tests.catalog_graph.conftest import T0, eq
from trend.catalog_graph.combined import expand, flatten
from trend.catalog_graph.filters import and_, parse_filter
from trend.catalog_graph.model import FinalSettings, InvalidSettingsError, NodeNotFoundError, NodeSettings
from trend.catalog_graph.model import MatchMode as M
from trend.catalog_graph.read_api import BlockIndex
from trend.catalog_graph.rules import (
    CatalogTruth,
    NodeRecord,
    OpaqueNode,
    SettingsVersion,
    ToggleEvent,
    derive,
    resolve,
)

BRAND = parse_filter(eq("brand", "x"), "p")
PARENT = FinalSettings("product", BRAND, ("price", "title"))
ROOT = "catalogNode_c"


def F(field: str, value: object):
    return parse_filter(eq(field, value), "t")


def test_none_takes_own_value():
    final = resolve(PARENT, NodeSettings("sellOffer", M.NONE, eq("f", 1), M.NONE, ("stock",), M.NONE))
    assert final == FinalSettings("sellOffer", F("f", 1), ("stock",))


def test_match_takes_parent_value():
    assert resolve(PARENT, NodeSettings()) == PARENT


def test_append_combines_parent_and_own_structurally():
    final = resolve(PARENT, NodeSettings(None, M.MATCH, eq("color", "red"), M.APPEND, ("stock", "price"), M.APPEND))
    assert final.filter == and_(BRAND, F("color", "red"))
    assert final.filter.tree == {"and": [eq("brand", "x"), eq("color", "red")]}
    assert final.required_data == ("price", "stock", "title")


@pytest.mark.parametrize(
    "settings, message",
    [
        (NodeSettings(None, M.NONE), "searchType None is not one of"),
        (NodeSettings("keyword", M.NONE), "searchType 'keyword' is not one of sellOffer|product|variantProduct"),
        (NodeSettings("product", M.APPEND), "none|match only"),
        (NodeSettings(filter=None, filter_mode=M.APPEND), "non-empty filter"),
        (NodeSettings(required_data=(), required_data_mode=M.NONE), "non-empty requiredData"),
        (NodeSettings(filter=eq("a", 1), filter_mode="bogus"), "filterMatchParent 'bogus' is not one of"),
        (NodeSettings(required_data_mode="sometimes", required_data=("x",)), "requiredDataMatchParent"),
    ],
)
def test_invalid_settings_name_the_node(settings, message):
    with pytest.raises(InvalidSettingsError, match=message) as err:
        settings.validate("categoryNode_c_7_x")
    assert err.value.item_id == "categoryNode_c_7_x"


def test_modes_and_search_type_are_parsed_from_strings():
    settings = NodeSettings(
        "variantProduct", "none", '{"field": "a", "op": "eq", "value": 1}', "append", ["x"], "append"
    )
    settings.validate("n")
    assert (settings.search_type_mode, settings.filter_mode, settings.required_data_mode) == (
        M.NONE,
        M.APPEND,
        M.APPEND,
    )
    assert settings.search_type.value == "variantProduct" and settings.filter == F("a", 1)
    assert NodeSettings(search_type_mode=True) == NodeSettings()  # the design's boolean searchTypeMatchParent


def test_match_stores_nothing():
    props = NodeSettings("product", M.MATCH, eq("ignored", 1), M.MATCH, ("ignored",), M.MATCH).to_properties()
    assert props == {"searchTypeMatchParent": True, "filterMatchParent": "match", "requiredDataMatchParent": "match"}


def _truth(*nodes: tuple[str, str, NodeSettings, int]) -> CatalogTruth:
    """(node id, parent id, settings, created) rows under a catalog filtered by brand x."""
    truth = CatalogTruth(ROOT)
    truth.add_node(NodeRecord(ROOT, None, None, T0))
    truth.add_settings(SettingsVersion(ROOT, T0, NodeSettings.root("product", eq("brand", "x"), ("price",))))
    for node_id, parent, settings, ts in nodes:
        truth.add_node(NodeRecord(node_id, node_id.split("_")[-1], parent, ts))
        truth.add_settings(SettingsVersion(node_id, ts, settings))
        truth.add_toggle(ToggleEvent(node_id, ts, True))
    return truth


def _browsed(states) -> dict:
    index = BlockIndex()
    for state in states.values():
        index.add(state)
    return {nid: flatten(index.expand(s)) for nid, s in states.items()}


def test_change_propagates_until_a_none_child_and_versions_follow():
    custom = NodeSettings("sellOffer", M.NONE, eq("own", 1), M.NONE, ("x",), M.NONE)
    truth = _truth(
        ("n_a", ROOT, NodeSettings(), T0 + 2), ("n_b", "n_a", custom, T0 + 3), ("n_c", "n_b", NodeSettings(), T0 + 4)
    )
    truth.add_settings(SettingsVersion(ROOT, T0 + 10, NodeSettings.root("product", eq("brand", "y"), ("price",))))
    state = derive(truth)
    assert state["n_a"].final.filter == F("brand", "y")
    assert state["n_a"].version == T0 + 10
    assert state["n_b"].final.filter == F("own", 1)
    assert state["n_b"].version == T0 + 3  # all modes none: the change stopped here
    assert state["n_c"].version == T0 + 4
    assert state["n_c"].final.search_type == "sellOffer"


def test_combined_filter_as_the_design_means_it():
    """Categories sharing the parent's filter are OR-ed into one block AND-ed with that filter;
    custom children are their own blocks with their categories; the catalog's own filter is in
    the top-level record; disabled children drop out with their subtree."""
    truth = _truth(
        ("n_a", ROOT, NodeSettings(), T0 + 2),  # match
        ("n_m", "n_a", NodeSettings(), T0 + 3),  # match: joins the catalog's block
        ("n_p", "n_a", NodeSettings(filter=eq("p", 1), filter_mode=M.APPEND), T0 + 4),  # custom block
        ("n_q", "n_p", NodeSettings(), T0 + 5),  # matches p: joins p's block
        ("n_o", "n_a", NodeSettings(filter=eq("o", 1), filter_mode=M.NONE), T0 + 6),
        ("n_z", "n_o", NodeSettings(), T0 + 7),
    )
    truth.add_toggle(ToggleEvent("n_o", T0 + 8, False))
    browsed = _browsed(derive(truth))
    brand_p = and_(BRAND, F("p", 1)).text
    assert browsed[ROOT] == {BRAND.text: {"a", "m"}, brand_p: {"p", "q"}}
    assert browsed["n_a"] == browsed[ROOT]
    assert browsed["n_p"] == {brand_p: {"p", "q"}}
    assert browsed["n_o"] == {F("o", 1).text: {"o", "z"}}  # its own record still browses it
    before_disable = _browsed(derive(truth, as_of=T0 + 7))
    assert before_disable[ROOT][F("o", 1).text] == {"o", "z"}


def test_empty_catalog_browses_nothing_and_a_lone_catalog_child_is_scoped_by_the_catalog_filter():
    assert derive(_truth())[ROOT].combined is None
    assert _browsed(derive(_truth(("n_1", ROOT, NodeSettings(), T0 + 1))))[ROOT] == {BRAND.text: {"1"}}


def test_as_of_ignores_later_nodes_and_settings():
    truth = _truth(("n_a", ROOT, NodeSettings(filter=eq("a", 1), filter_mode=M.NONE), T0 + 2))
    truth.add_settings(SettingsVersion("n_a", T0 + 7, NodeSettings(filter=eq("b", 1), filter_mode=M.NONE)))
    assert derive(truth, as_of=T0 + 6)["n_a"].final.filter == F("a", 1)
    assert derive(truth)["n_a"].final.filter == F("b", 1)
    assert "n_a" not in derive(truth, as_of=T0 + 1)
    with pytest.raises(NodeNotFoundError):
        derive(truth, as_of=T0 - 1)


def test_opaque_children_contribute_their_stored_state_and_frozen_nodes_keep_their_finals():
    truth = _truth(("n_a", ROOT, NodeSettings(filter=eq("a", 1), filter_mode=M.NONE), T0 + 2))
    other = _truth(
        ("n_b", ROOT, NodeSettings(), T0 + 3),
        ("n_c", ROOT, NodeSettings(filter=eq("c", 1), filter_mode=M.NONE), T0 + 4),
    )
    stored = derive(other)
    disabled = type(stored["n_c"])(stored["n_c"].final, False, stored["n_c"].version, stored["n_c"].group)
    opaque = {"n_b": OpaqueNode("n_b", ROOT, stored["n_b"]), "n_c": OpaqueNode("n_c", ROOT, disabled)}
    frozen_root = stored[ROOT]
    state = derive(truth, opaque=opaque, frozen={ROOT: frozen_root})
    assert state[ROOT].final == frozen_root.final and state[ROOT].version == frozen_root.version
    index = BlockIndex()
    for s in [*state.values(), stored["n_b"]]:
        index.add(s)
    assert flatten(expand(state[ROOT].combined, index.blocks.__getitem__)) == {BRAND.text: {"b"}, F("a", 1).text: {"a"}}
