"""The read API: the catalog tree with finals and combined filters, history, as-of, and browsing
with client-submitted settings (issue 11, item 5) from the graph and from a table row."""

from __future__ import annotations

import pytest

from tests.catalog_graph.conftest import T0, eq
from trend.catalog_graph import operations as ops
from trend.catalog_graph.filters import and_, parse_filter
from trend.catalog_graph.model import InvalidSettingsError, NodeNotFoundError, NodeSettings
from trend.catalog_graph.node_table import CategoryNodeTable
from trend.catalog_graph.read_api import ClientSettings, apply_client_settings, browse, catalog_tree, node_history
from trend.catalog_graph.recompute import process_all


def _catalog(store):
    root = "catalogNode_r"
    msgs = [
        ops.create_catalog(store, "r", NodeSettings.root("product", eq("shop", "r"), ("price", "title")), "u", at=T0)
    ]
    msgs.append(ops.add_category_node(store, root, "shoes", NodeSettings(), "u", at=T0 + 1))
    msgs.append(
        ops.add_category_node(
            store,
            msgs[1].node_id,
            "boots",
            NodeSettings(filter=eq("kind", "boot"), filter_mode="append"),
            "u",
            at=T0 + 2,
        )
    )
    return root, msgs


def test_tree_lists_finals_settings_and_combined_filters(store):
    root, msgs = _catalog(store)
    process_all(store, msgs)
    tree = catalog_tree(store, "r")
    assert [n.category_id for n in tree.walk()] == [None, "shoes", "boots"]
    shoes, boots = tree.nodes[msgs[1].node_id], tree.nodes[msgs[2].node_id]
    assert shoes.children == (boots.node_id,) and boots.parent_id == shoes.node_id
    assert boots.settings.filter == parse_filter(eq("kind", "boot"), "t") and boots.settings_at == T0 + 2
    shop = parse_filter(eq("shop", "r"), "t")
    assert boots.state.final.filter == and_(shop, parse_filter(eq("kind", "boot"), "t"))
    assert tree.nodes[root].combined_filter == {
        "or": [
            {"and": [{"field": "categoryId", "op": "in", "value": ["shoes"]}, eq("shop", "r")]},
            {"and": [{"field": "categoryId", "op": "in", "value": ["boots"]}, eq("kind", "boot"), eq("shop", "r")]},
        ]
    }
    assert [e.kind for e in node_history(store, boots.node_id)] == ["enabled", "settings"]


def test_client_settings_overwrite_search_type_and_required_data_and_and_the_filter(store):
    _root, msgs = _catalog(store)
    process_all(store, msgs)
    plain = browse(store, msgs[1].node_id)
    assert (plain.search_type, plain.required_data) == ("product", ("price", "title"))
    client = ClientSettings(search_type="variantProduct", filter=eq("color", "red"), required_data=["stock"])
    query = browse(store, msgs[1].node_id, client)
    assert query.search_type == "variantProduct" and query.required_data == ("stock",)
    assert query.filter == {"and": [plain.filter, eq("color", "red")]}
    assert query.filter_digest != plain.filter_digest
    only_filter = browse(
        store,
        msgs[1].node_id,
        ClientSettings(filter='{"field": "color", "op": "eq", "value": "red"}', required_data=[]),
    )
    assert only_filter.search_type == "product" and only_filter.required_data == ("price", "title")
    assert only_filter.filter == query.filter


@pytest.mark.parametrize(
    "client, message",
    [
        (ClientSettings(search_type="keyword"), "searchType 'keyword'"),
        (ClientSettings(filter="x) OR (1=1"), "not JSON"),
        (ClientSettings(filter={"field": "a", "op": "like", "value": 1}), "unknown op"),
        (ClientSettings(required_data="price"), "list of non-empty strings"),
    ],
)
def test_bad_client_settings_are_rejected_naming_the_request(client, message):
    final = catalog_final()
    with pytest.raises(InvalidSettingsError, match=message) as err:
        apply_client_settings(
            "n",
            final,
            {"field": "a", "op": "eq", "value": 1},
            ClientSettings(**{**client.__dict__, "request_id": "req-9"}),
        )
    assert err.value.item_id == "req-9"


def catalog_final():
    from trend.catalog_graph.model import FinalSettings

    return FinalSettings("product", parse_filter(eq("a", 1), "t"), ("price",))


def test_disabled_or_unprocessed_nodes_are_not_browsable(store):
    root, msgs = _catalog(store)
    with pytest.raises(NodeNotFoundError, match="not been recomputed"):
        browse(store, msgs[1].node_id)
    process_all(store, [*msgs, ops.set_enabled(store, msgs[1].node_id, False, "u", at=T0 + 5)])
    with pytest.raises(NodeNotFoundError, match="disabled"):
        browse(store, msgs[1].node_id)
    assert browse(store, root).filter is None  # the only category is disabled: nothing to browse


def test_browse_from_a_table_row_matches_the_graph(aws, store):
    dynamodb, _, names, _ = aws
    table = CategoryNodeTable(dynamodb, names["nodes"], names["blocks"])
    root, msgs = _catalog(store)
    process_all(store, msgs, table)
    client = ClientSettings(filter=eq("color", "red"))
    row = table.row(root)
    from_table = apply_client_settings(root, _final(row), table.combined_filter(row), client)
    assert from_table == browse(store, root, client)


def _final(row):
    from trend.catalog_graph.model import FinalSettings

    return FinalSettings(row.search_type, row.filter, row.required_data)


def test_a_tree_before_the_catalog_existed_is_empty(store):
    from trend.catalog_graph.read_api import catalog_as_of

    _, msgs = _catalog(store)
    process_all(store, msgs)
    before = catalog_as_of(store, "r", T0 - 1)
    assert before.nodes == {} and list(before.walk()) == []
    assert [n.category_id for n in catalog_as_of(store, "r", T0 + 1).walk()] == [None, "shoes"]
