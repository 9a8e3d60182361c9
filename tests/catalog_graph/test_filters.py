"""Structured filters (issue 11, item 1): validated JSON, canonical, content-hashed, combined
without string concatenation; combined-filter blocks stay small."""

from __future__ import annotations

import json

import pytest

from tests.catalog_graph.conftest import eq
from trend.catalog_graph.combined import MAX_IDS, MAX_REFS, build_blocks, chunk, expand, flatten
from trend.catalog_graph.filters import InvalidFilterError, and_, parse_filter
from trend.catalog_graph.model import InvalidSettingsError, NodeSettings


def test_string_concatenation_cannot_escape_the_parent_filter():
    # on main, filters were strings joined as "(parent) AND (own)": this one escaped the parent
    with pytest.raises(InvalidSettingsError) as err:
        NodeSettings(filter="x) OR (1=1", filter_mode="append").validate("node-7")
    assert err.value.item_id == "node-7" and "not JSON" in str(err.value)


@pytest.mark.parametrize(
    "bad, message",
    [
        ('{"field": ', "not JSON"),
        ({"field": "brand", "op": "eq"}, "field, op, value"),
        ({"field": "brand", "op": "like", "value": "%a"}, "unknown op"),
        ({"field": "1brand", "op": "eq", "value": "a"}, "bad field name"),
        ({"field": "brand", "op": "in", "value": []}, "list of 1.."),
        ({"field": "brand", "op": "eq", "value": {"$gt": 1}}, "not a string, number or boolean"),
        ({"and": []}, "non-empty list"),
        ({"and": [{"field": "a", "op": "eq", "value": 1}], "or": []}, "exactly one key"),
        ({"ref": "abc"}, "field, op, value"),  # block references are internal, never user input
    ],
)
def test_invalid_filters_are_rejected_naming_the_node(bad, message):
    with pytest.raises(InvalidFilterError, match=message) as err:
        parse_filter(bad, "catalogNode_x")
    assert err.value.item_id == "catalogNode_x"


def test_canonical_form_and_digest_ignore_order_and_nesting():
    a = parse_filter(
        {
            "and": [
                {"field": "b", "op": "eq", "value": 1},
                {"and": [{"field": "a", "op": "in", "value": ["y", "x", "y"]}]},
            ]
        },
        "n",
    )
    b = parse_filter(
        json.dumps({"and": [{"field": "a", "op": "in", "value": ["x", "y"]}, {"field": "b", "op": "eq", "value": 1}]}),
        "n",
    )
    assert a == b and a.digest == b.digest
    assert a.tree == {"and": [{"field": "a", "op": "in", "value": ["x", "y"]}, {"field": "b", "op": "eq", "value": 1}]}
    assert parse_filter({"or": [{"field": "a", "op": "eq", "value": 1}]}, "n").tree == {
        "field": "a",
        "op": "eq",
        "value": 1,
    }


def test_and_combines_structurally():
    parent = parse_filter(
        {"or": [{"field": "brand", "op": "eq", "value": "a"}, {"field": "brand", "op": "eq", "value": "b"}]}, "p"
    )
    own = parse_filter({"field": "color", "op": "eq", "value": "red"}, "n")
    combined = and_(parent, own)
    assert combined.tree == {"and": [{"field": "color", "op": "eq", "value": "red"}, parent.tree]}
    assert and_(combined, own) == combined  # idempotent: the same condition is not repeated


def test_chunks_are_content_defined_and_bounded():
    ids = sorted(str(i) for i in range(5000))
    chunks = chunk(ids, 256, 1024)
    assert [i for c in chunks for i in c] == ids and max(len(c) for c in chunks) <= 1024
    with_one_more = chunk(sorted([*ids, "2500x"]), 256, 1024)
    assert sum(1 for c in with_one_more if c not in chunks) <= 2  # one insert rewrites its chunk only


def test_blocks_scope_categories_by_filter_and_reference_frontiers():
    own = parse_filter(eq("brand", "acme"), "n")
    children = [build_blocks(parse_filter(eq("x", i), "c"), [f"k{i}"], []) for i in range(2 * MAX_REFS)]
    group = [f"c{i}" for i in range(3 * MAX_IDS)]
    result = build_blocks(own, group, [c.root for c in children])
    blocks = dict(result.blocks)
    for child in children:
        blocks.update(child.blocks)
    assert max(len(text) for text in result.blocks.values()) < 100_000  # far below DynamoDB's 400 KB
    assert len(json.loads(blocks[result.root])["or"]) <= MAX_REFS
    browsed = flatten(expand(result.root, blocks.__getitem__))
    assert browsed[own.text] == set(group)
    assert all(browsed[parse_filter(eq("x", i), "c").text] == {f"k{i}"} for i in range(2 * MAX_REFS))
