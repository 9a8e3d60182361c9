"""Property tests: random trees and operation sequences, messages interleaved, shuffled and
duplicated, on gremlite and on the Neptune-semantics store. The stored state must always end
equal to a from-scratch recompute and to an independent recursive oracle (finals, and what each
node's combined filter browses); as-of reads must equal replaying the history up to that time."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.catalog_graph.conftest import SEMANTICS, T0, eq, open_semantics
from trend.catalog_graph import operations as ops
from trend.catalog_graph.combined import flatten
from trend.catalog_graph.filters import and_, parse_filter
from trend.catalog_graph.model import CatalogGraphError, NodeSettings
from trend.catalog_graph.model import MatchMode as M
from trend.catalog_graph.read_api import catalog_as_of, catalog_tree, history_truth
from trend.catalog_graph.recompute import expected_states, process_message, stored_states

CATALOG = "p"
ROOT = f"catalogNode_{CATALOG}"
ROOT_SETTINGS = NodeSettings.root("product", eq("root", 1), ("x",))


def examples(n: int) -> settings:
    return settings(
        max_examples=n,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    )


@st.composite
def node_settings(draw) -> NodeSettings:
    st_mode = draw(st.sampled_from([M.NONE, M.MATCH]))
    f_mode = draw(st.sampled_from(list(M)))
    r_mode = draw(st.sampled_from(list(M)))
    return NodeSettings(
        search_type=draw(st.sampled_from(["sellOffer", "variantProduct"])) if st_mode is M.NONE else None,
        search_type_mode=st_mode,
        filter=eq("f", draw(st.sampled_from("abc"))) if f_mode is not M.MATCH else None,
        filter_mode=f_mode,
        required_data=tuple(draw(st.sets(st.sampled_from(["x", "y", "z"]), min_size=1)))
        if r_mode is not M.MATCH
        else (),
        required_data_mode=r_mode,
    )


operation = st.one_of(
    st.tuples(st.just("add"), st.integers(0, 50), st.sampled_from("123456"), node_settings()),
    st.tuples(st.just("change"), st.integers(0, 50), node_settings()),
    st.tuples(st.just("toggle"), st.integers(0, 50), st.booleans()),
    st.tuples(st.just("rollback"), st.integers(0, 50), st.integers(0, 5)),
    st.tuples(st.just("process"), st.lists(st.integers(0, 100), max_size=3)),
)


def _apply(store, op, nodes: list[str], ts: int):
    """Run one operation; returns its message, or None when the op is bad input (rejected).
    Adds get a uuid derived from their timestamp, so a replay creates the same node ids."""
    kind = op[0]
    try:
        if kind == "add":
            parent = nodes[op[1] % len(nodes)]
            node_uuid = f"00000000-0000-4000-8000-{ts - T0:012d}"
            msg = ops.add_category_node(store, parent, op[2], op[3], "u", at=ts, node_uuid=node_uuid)
            nodes.append(msg.node_id)
            return msg
        target = nodes[op[1] % len(nodes)]
        if kind == "change":
            return ops.change_settings(store, target, op[2], "u", at=ts)
        if kind == "toggle":
            return ops.set_enabled(store, target, op[2], "u", at=ts)
        history = ops.settings_history(store, target)
        return ops.rollback_settings(store, target, history[max(0, len(history) - 1 - op[2])][0], "u", at=ts)
    except CatalogGraphError:
        return None


# --- an independent oracle: recursive, straight from the written rules ----------------------


def _latest(events, at):
    return max((e for e in events if e[0] <= at), default=None)


def oracle(store, at: int) -> dict[str, tuple]:
    """(searchType, filter, requiredData, enabled, {filter: categories browsed}) per node."""
    truth = history_truth(store, CATALOG)
    nodes = [n for n in truth.nodes.values() if n.created_at <= at]
    children: dict[str, list] = {}
    for node in nodes:
        if node.parent_id is not None:
            children.setdefault(node.parent_id, []).append(node)
    out = {}

    def visit(node, parent):
        s = _latest([(v.timestamp, v.settings) for v in truth.settings[node.node_id]], at)[1]
        toggle = _latest([(e.timestamp, e.enabled) for e in truth.toggles.get(node.node_id, [])], at)
        enabled = True if toggle is None else toggle[1]
        if parent is None:
            final = (s.search_type.value, s.filter, tuple(sorted(s.required_data)))
        else:
            search = s.search_type.value if s.search_type_mode is M.NONE else parent[0]
            filt = {M.NONE: s.filter, M.MATCH: parent[1], M.APPEND: s.filter and and_(parent[1], s.filter)}[
                s.filter_mode
            ]
            req = {
                M.NONE: set(s.required_data),
                M.MATCH: set(parent[2]),
                M.APPEND: set(parent[2]) | set(s.required_data),
            }[s.required_data_mode]
            final = (search, filt, tuple(sorted(req)))
        browsed: dict[str, set[str]] = {}
        if node.category_id is not None:
            browsed[final[1].text] = {node.category_id}
        for kid in children.get(node.node_id, []):
            kid_enabled, kid_browsed = visit(kid, final)
            if kid_enabled:
                for key, cats in kid_browsed.items():
                    browsed.setdefault(key, set()).update(cats)
        out[node.node_id] = (final[0], final[1].text, final[2], enabled, browsed)
        return enabled, browsed

    visit(truth.nodes[ROOT], None)
    return out


def _as_tuples(tree) -> dict[str, tuple]:
    out = {}
    for node in tree.walk():
        s = node.state
        out[node.node_id] = (
            s.final.search_type,
            s.final.filter.text,
            s.final.required_data,
            s.enabled,
            flatten(node.combined_filter),
        )
    return out


def _run(store, operations, data, sink=None):
    nodes = [ROOT]
    log = [(T0, ops.create_catalog(store, CATALOG, ROOT_SETTINGS, "u", at=T0))]
    emitted = [log[0][1]]
    for ts, op in enumerate(operations, start=T0 + 1):
        if op[0] == "process":
            for pick in op[1]:  # process a few pending messages early, possibly again later
                process_message(store, emitted[pick % len(emitted)], sink)
            continue
        msg = _apply(store, op, nodes, ts)
        if msg is not None:
            emitted.append(msg)
            log.append((ts, op))
    replayed = emitted + data.draw(st.lists(st.sampled_from(emitted), max_size=len(emitted)), label="duplicates")
    for msg in data.draw(st.permutations(replayed), label="delivery order"):
        process_message(store, msg, sink)
    return log


@pytest.mark.parametrize("semantics", SEMANTICS)
@examples(20)
@given(operations=st.lists(operation, min_size=1, max_size=12), data=st.data())
def test_any_delivery_order_ends_in_the_from_scratch_state(semantics, operations, data):
    with tempfile.TemporaryDirectory() as tmp:
        store = open_semantics(semantics, Path(tmp) / "g.sqlite")
        try:
            _run(store, operations, data)
            stored = stored_states(store, CATALOG)
            assert stored == expected_states(store, CATALOG)
            assert _as_tuples(catalog_tree(store, CATALOG)) == oracle(store, at=T0 + 10**9)
        finally:
            store.close()


@pytest.mark.parametrize("semantics", SEMANTICS)
@examples(10)
@given(operations=st.lists(operation, min_size=1, max_size=10), data=st.data())
def test_as_of_reads_equal_replaying_history_up_to_that_time(semantics, operations, data):
    with tempfile.TemporaryDirectory() as tmp:
        store = open_semantics(semantics, Path(tmp) / "g.sqlite")
        replay = open_semantics(semantics, Path(tmp) / "replay.sqlite")
        try:
            log = _run(store, operations, data)
            cut = data.draw(st.sampled_from([ts for ts, _ in log]), label="as of")
            nodes = [ROOT]
            emitted = [ops.create_catalog(replay, CATALOG, ROOT_SETTINGS, "u", at=T0)]
            for ts, op in log[1:]:
                if ts <= cut:
                    emitted.append(_apply(replay, op, nodes, ts))
            for msg in emitted:
                process_message(replay, msg)
            as_of = catalog_as_of(store, CATALOG, cut)
            assert {n.node_id: n.state for n in as_of.walk()} == stored_states(replay, CATALOG)
            assert _as_tuples(as_of) == oracle(store, at=cut)
        finally:
            store.close()
            replay.close()


@examples(6)
@given(operations=st.lists(operation, min_size=1, max_size=10), data=st.data())
def test_category_node_table_ends_equal_to_the_from_scratch_result(moto_endpoint, operations, data):
    import uuid

    import boto3

    from trend.catalog_graph.dynamo import ensure_tables
    from trend.catalog_graph.node_table import CategoryNodeTable

    dynamodb = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1")
    name = uuid.uuid4().hex[:10]
    ensure_tables(dynamodb, f"cfg_{name}", f"nodes_{name}", f"blocks_{name}")
    table = CategoryNodeTable(dynamodb, f"nodes_{name}", f"blocks_{name}")
    with tempfile.TemporaryDirectory() as tmp:
        store = open_semantics("neptune", Path(tmp) / "g.sqlite")
        try:
            _run(store, operations, data, sink=table)
            expected = expected_states(store, CATALOG)
            rows = table.rows(CATALOG)
            assert set(rows) == set(expected) and all(rows[n].matches(s) for n, s in expected.items())
            tree = {n.node_id: n.combined_filter for n in catalog_tree(store, CATALOG).walk()}
            assert {n: table.combined_filter(r) for n, r in rows.items()} == tree
        finally:
            store.close()


def test_oracle_is_not_trivially_equal():
    """The oracle sees a change the stored state has not processed yet."""
    with tempfile.TemporaryDirectory() as tmp:
        store = open_semantics("gremlite", Path(tmp) / "g.sqlite")
        process_message(store, ops.create_catalog(store, CATALOG, ROOT_SETTINGS, "u", at=T0))
        ops.add_category_node(store, ROOT, "1", NodeSettings(filter=eq("f", "a"), filter_mode=M.APPEND), "u", at=T0 + 1)
        stale = oracle(store, at=T0 + 5)
        assert stale[ROOT][4] == {and_(parse_filter(eq("root", 1), "t"), parse_filter(eq("f", "a"), "t")).text: {"1"}}
        assert flatten(catalog_tree(store, CATALOG).nodes[ROOT].combined_filter) == {}
        store.close()
