"""The pure engine: resolution rules, propagation, combined filters, versions, as-of."""

from __future__ import annotations

import pytest

from trend.catalog_graph.model import (
    FinalSettings,
    InvalidSettingsError,
    NodeNotFoundError,
    NodeSettings,
)
from trend.catalog_graph.model import (
    MatchMode as M,
)
from trend.catalog_graph.rules import (
    CatalogTruth,
    NodeRecord,
    OpaqueChild,
    SettingsVersion,
    ToggleEvent,
    derive,
    resolve,
)

PARENT = FinalSettings("keyword", "brand:x", ("price", "title"))
ROOT = "catalog:c"


def test_none_takes_own_value():
    final = resolve(PARENT, NodeSettings("image", M.NONE, "f:1", M.NONE, ("stock",), M.NONE))
    assert final == FinalSettings("image", "f:1", ("stock",))


def test_match_takes_parent_value():
    assert resolve(PARENT, NodeSettings()) == PARENT


def test_append_combines_parent_and_own():
    final = resolve(PARENT, NodeSettings("", M.MATCH, "color:red", M.APPEND, ("stock", "price"), M.APPEND))
    assert final.filter == "(brand:x) AND (color:red)"
    assert final.required_data == ("price", "stock", "title")


@pytest.mark.parametrize(
    "settings, message",
    [
        (NodeSettings("", M.NONE), "searchType"),
        (NodeSettings("x", M.APPEND), "none|match only"),
        (NodeSettings(filter="", filter_mode=M.APPEND), "non-empty filter"),
        (NodeSettings(required_data=(), required_data_mode=M.NONE), "non-empty requiredData"),
    ],
)
def test_invalid_settings_name_the_node(settings, message):
    with pytest.raises(InvalidSettingsError, match=message) as err:
        settings.validate("catalog:c/7")
    assert err.value.item_id == "catalog:c/7"


def _truth(*nodes: tuple[str, NodeSettings, int]) -> CatalogTruth:
    truth = CatalogTruth(ROOT)
    truth.add_node(NodeRecord(ROOT, "0", None, 1))
    truth.add_settings(SettingsVersion(ROOT, 1, NodeSettings.root("keyword", "brand:x", ("price",))))
    for node_id, settings, ts in nodes:
        parent, category = node_id.rsplit("/", 1)
        truth.add_node(NodeRecord(node_id, category, parent, ts))
        truth.add_settings(SettingsVersion(node_id, ts, settings))
        truth.add_toggle(ToggleEvent(node_id, ts, True))
    return truth


def test_change_propagates_until_a_none_child_and_versions_follow():
    custom = NodeSettings("image", M.NONE, "own", M.NONE, ("x",), M.NONE)
    truth = _truth((f"{ROOT}/a", NodeSettings(), 2), (f"{ROOT}/a/b", custom, 3), (f"{ROOT}/a/b/c", NodeSettings(), 4))
    truth.add_settings(SettingsVersion(ROOT, 10, NodeSettings.root("keyword", "brand:y", ("price",))))
    state = derive(truth)
    assert state[f"{ROOT}/a"].final.filter == "brand:y"
    assert state[f"{ROOT}/a"].version == 10
    assert state[f"{ROOT}/a/b"].final.filter == "own"
    assert state[f"{ROOT}/a/b"].version == 3  # all modes none: the change stopped here
    assert state[f"{ROOT}/a/b/c"].version == 4
    assert state[f"{ROOT}/a/b/c"].final.search_type == "image"


def test_combined_filter_keeps_custom_children_as_blocks_and_skips_disabled():
    truth = _truth(
        (f"{ROOT}/a", NodeSettings(filter="a", filter_mode=M.APPEND), 2),
        (f"{ROOT}/a/m", NodeSettings(), 3),
        (f"{ROOT}/a/n", NodeSettings(filter="n", filter_mode=M.NONE), 4),
        (f"{ROOT}/a/o", NodeSettings(filter="o", filter_mode=M.NONE), 5),
    )
    truth.add_toggle(ToggleEvent(f"{ROOT}/a/o", 6, False))
    state = derive(truth)
    assert state[f"{ROOT}/a"].combined_filter == ("(brand:x) AND (a)", "n")
    assert state[ROOT].combined_filter == ("(brand:x) AND (a)", "n")
    assert state[f"{ROOT}/a/o"].enabled is False
    assert derive(truth, as_of=5)[ROOT].combined_filter == ("(brand:x) AND (a)", "n", "o")


def test_as_of_ignores_later_nodes_and_settings():
    truth = _truth((f"{ROOT}/a", NodeSettings(filter="a", filter_mode=M.NONE), 2))
    truth.add_settings(SettingsVersion(f"{ROOT}/a", 7, NodeSettings(filter="b", filter_mode=M.NONE)))
    assert derive(truth, as_of=6)[f"{ROOT}/a"].final.filter == "a"
    assert derive(truth)[f"{ROOT}/a"].final.filter == "b"
    assert f"{ROOT}/a" not in derive(truth, as_of=1)
    with pytest.raises(NodeNotFoundError):
        derive(truth, as_of=0)


def test_opaque_siblings_contribute_their_stored_combined_filter():
    truth = _truth((f"{ROOT}/a", NodeSettings(filter="a", filter_mode=M.NONE), 2))
    opaque = {
        f"{ROOT}/b": OpaqueChild(f"{ROOT}/b", ROOT, True, ("b", "b2")),
        f"{ROOT}/c": OpaqueChild(f"{ROOT}/c", ROOT, False, ("c",)),
    }
    assert derive(truth, opaque=opaque)[ROOT].combined_filter == ("a", "b", "b2")
