"""Property tests: random trees and operation sequences, messages interleaved, shuffled and
duplicated. The stored state must always end equal to a from-scratch recompute and to an
independent recursive oracle; as-of reads must equal replaying the history up to that time."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trend.catalog_graph import operations as ops
from trend.catalog_graph.history import catalog_as_of
from trend.catalog_graph.model import CatalogGraphError, NodeSettings
from trend.catalog_graph.model import MatchMode as M
from trend.catalog_graph.recompute import expected_states, process_message, stored_states
from trend.catalog_graph.store import open_embedded

CATALOG = "p"
ROOT = f"catalog:{CATALOG}"
PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@st.composite
def node_settings(draw) -> NodeSettings:
    st_mode = draw(st.sampled_from([M.NONE, M.MATCH]))
    f_mode = draw(st.sampled_from(list(M)))
    r_mode = draw(st.sampled_from(list(M)))
    return NodeSettings(
        search_type=draw(st.sampled_from(["kw", "img"])) if st_mode is M.NONE else "",
        search_type_mode=st_mode,
        filter=draw(st.sampled_from(["a", "b", "c"])) if f_mode is not M.MATCH else "",
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
    """Run one operation; returns its message, or None when the op is bad input (rejected)."""
    kind = op[0]
    try:
        if kind == "add":
            parent = nodes[op[1] % len(nodes)]
            msg = ops.add_category_node(store, parent, op[2], op[3], "u", at=ts)
            if msg.node_id not in nodes:
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


# --- an independent oracle: recursive, straight from the written rules -------------------------


def _latest(events, at):
    return max((e for e in events if e[0] <= at), default=None)


def oracle(store, at: int) -> dict[str, tuple]:
    """(searchType, filter, requiredData, enabled, combined) per node, recomputed recursively."""
    nodes = [n for n in _all_nodes(store) if n[1] <= at]
    children = {}
    for node_id, _ in nodes:
        if node_id != ROOT:
            children.setdefault(node_id.rsplit("/", 1)[0], []).append(node_id)
    out = {}

    def visit(node_id, parent):
        s = _latest(ops.settings_history(store, node_id), at)[1]
        toggle = _latest(ops.toggle_history(store, node_id), at)
        enabled = True if toggle is None else toggle[1]
        if parent is None:
            final = (s.search_type, s.filter, tuple(sorted(s.required_data)))
        else:
            search = s.search_type if s.search_type_mode is M.NONE else parent[0]
            filt = {M.NONE: s.filter, M.MATCH: parent[1], M.APPEND: f"({parent[1]}) AND ({s.filter})"}[s.filter_mode]
            req = {
                M.NONE: set(s.required_data),
                M.MATCH: set(parent[2]),
                M.APPEND: set(parent[2]) | set(s.required_data),
            }[s.required_data_mode]
            final = (search, filt, tuple(sorted(req)))
        blocks = [] if parent is None else [final[1]]
        for kid in sorted(children.get(node_id, [])):
            kid_enabled, kid_blocks = visit(kid, final)
            if kid_enabled:
                blocks += [b for b in kid_blocks if b not in blocks]
        out[node_id] = (*final, enabled, tuple(blocks))
        return enabled, tuple(blocks)

    visit(ROOT, None)
    return out


def _all_nodes(store):
    rows = store.run(
        store.g.V().has("catalogId", CATALOG).has("createdAt").project("n", "c").by("nodeId").by("createdAt")
    )
    return [(r["n"], r["c"]) for r in rows]


def _as_tuples(states) -> dict[str, tuple]:
    return {
        nid: (s.final.search_type, s.final.filter, s.final.required_data, s.enabled, s.combined_filter)
        for nid, s in states.items()
    }


def _run(store, operations, data, sink=None):
    nodes = [ROOT]
    log = [(1, ops.create_catalog(store, CATALOG, NodeSettings.root("kw", "root", ("x",)), "u", at=1))]
    emitted = [log[0][1]]
    for ts, op in enumerate(operations, start=2):
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


@PROPERTY_SETTINGS
@given(operations=st.lists(operation, min_size=1, max_size=14), data=st.data())
def test_any_delivery_order_ends_in_the_from_scratch_state(operations, data):
    with tempfile.TemporaryDirectory() as tmp:
        store = open_embedded(Path(tmp) / "g.sqlite")
        try:
            _run(store, operations, data)
            stored = stored_states(store, CATALOG)
            assert stored == expected_states(store, CATALOG)
            assert _as_tuples(stored) == oracle(store, at=10**9)
        finally:
            store.close()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations=st.lists(operation, min_size=1, max_size=10), data=st.data())
def test_as_of_reads_equal_replaying_history_up_to_that_time(operations, data):
    with tempfile.TemporaryDirectory() as tmp:
        store = open_embedded(Path(tmp) / "g.sqlite")
        replay = open_embedded(Path(tmp) / "replay.sqlite")
        try:
            log = _run(store, operations, data)
            cut = data.draw(st.sampled_from([ts for ts, _ in log]), label="as of")
            nodes = [ROOT]
            emitted = [ops.create_catalog(replay, CATALOG, NodeSettings.root("kw", "root", ("x",)), "u", at=1)]
            for ts, op in log[1:]:
                if ts <= cut:
                    emitted.append(_apply(replay, op, nodes, ts))
            for msg in emitted:
                process_message(replay, msg)
            as_of = catalog_as_of(store, CATALOG, cut)
            assert as_of == stored_states(replay, CATALOG)
            assert _as_tuples(as_of) == oracle(store, at=cut)
        finally:
            store.close()
            replay.close()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations=st.lists(operation, min_size=1, max_size=10), data=st.data())
def test_category_node_table_ends_equal_to_the_from_scratch_result(moto_endpoint, operations, data):
    import uuid

    import boto3

    from trend.catalog_graph.dynamo import CategoryNodeTable, ensure_tables

    dynamodb = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1")
    name = f"nodes_{uuid.uuid4().hex[:10]}"
    ensure_tables(dynamodb, f"cfg_{name}", name)
    table = CategoryNodeTable(dynamodb, name)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_embedded(Path(tmp) / "g.sqlite")
        try:
            _run(store, operations, data, sink=table)
            rows = table.rows(CATALOG)
            assert {n: r.state for n, r in rows.items()} == expected_states(store, CATALOG)
        finally:
            store.close()
