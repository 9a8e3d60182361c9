"""Recompute: read a snapshot, derive in Python, write changed nodes back conditionally.

Order of writes for one message: follow-up messages (when the read was cut by the node budget),
DynamoDB (blocks, then rows), then graph writes in batches, each node conditional on the
``rev`` it was read with, the message's own node last, then commit. Only then may the caller
acknowledge the message. A crash anywhere leaves the message unacknowledged and a redelivery
redoes the same work (follow-ups in the same FIFO group are not delivered before it is gone).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from gremlin_python.process.graph_traversal import __

from trend.catalog_graph.messages import ChangeKind, RecomputeMessage
from trend.catalog_graph.model import (
    DerivedState,
    VersionConflictError,
    catalog_node_id,
    parse_node_id,
)
from trend.catalog_graph.rules import NodeRecord, derive
from trend.catalog_graph.snapshot import Snapshot, read_catalog, read_node, read_path, read_subtree, start_snapshot
from trend.catalog_graph.store import GraphStore, vertex_property
from trend.catalog_graph.vertex import DERIVED, state_json

log = logging.getLogger(__name__)

WRITE_BATCH_SIZE = 25  # nodes per write traversal (gremlite recurses per step)
# Kinds whose message node's stored version tells whether the change is in. The others are
# always processed: a rebuild, the rest of a split recompute, children added by an import.
VERSIONED_KINDS = frozenset(
    {
        ChangeKind.CATALOG_CREATED,
        ChangeKind.NODE_ADDED,
        ChangeKind.SETTINGS_CHANGED,
        ChangeKind.ENABLED,
        ChangeKind.DISABLED,
    }
)
# Kinds that change nothing below the message's node except its membership in the path's
# combined filters: its children are read as opaque (stored state), not expanded.
SHALLOW_KINDS = frozenset({ChangeKind.ENABLED, ChangeKind.DISABLED, ChangeKind.CHILDREN_ADDED})


@dataclass(frozen=True)
class NodeWrite:
    record: NodeRecord
    vid: object
    text_read: str  # the node's ``derived`` text as read: the write's condition
    rev_read: int
    state: DerivedState
    previous: DerivedState | None = None  # what the node stored when read

    @property
    def node_id(self) -> str:
        return self.record.node_id

    @property
    def new_rev(self) -> int:
        return self.rev_read + 1


class DerivedSink(Protocol):
    """Somewhere else derived rows go (the DynamoDB CategoryNode and block tables)."""

    def put_nodes(self, catalog_id: str, writes: Sequence[NodeWrite]) -> int: ...


@dataclass
class RecomputeResult:
    node_id: str
    skipped: bool = False
    nodes_read: int = 0
    nodes_written: int = 0
    round_trips: int = 0
    written_ids: list[str] = field(default_factory=list)
    follow_ups: list[RecomputeMessage] = field(default_factory=list)


def plan_writes(snapshot: Snapshot, derived: dict[str, DerivedState]) -> list[NodeWrite]:
    """Nodes whose stored state differs from the derived one, deepest first, the message's own
    node last (so it only looks done when everything below and above it is)."""
    writes: list[NodeWrite] = []
    root_write: NodeWrite | None = None
    for node_id, state in derived.items():
        row = snapshot.rows[node_id]
        if row.state == state:
            continue
        write = NodeWrite(row.record, row.vid, row.derived_text, row.rev, state, row.state)
        if node_id == snapshot.root_id:
            root_write = write
        else:
            writes.append(write)
    depth = {nid: len(snapshot.rows[nid].path) for nid in derived}
    writes.sort(key=lambda w: (-depth[w.node_id], w.node_id))
    if root_write is not None:
        writes.append(root_write)
    return writes


def write_graph(store: GraphStore, anchor_vid: object, writes: Sequence[NodeWrite]) -> None:
    """Conditional batched writes; any node whose ``derived`` moved aborts the recompute
    (embedded: the whole of it; Neptune: from that batch on, earlier batches hold correct values
    anyway)."""
    # the last write (the message's own node) goes alone, after every other one succeeded:
    # on Neptune each request commits, and that node's version is what marks the message done
    head = list(writes[:-1])
    batches = [head[i : i + WRITE_BATCH_SIZE] for i in range(0, len(head), WRITE_BATCH_SIZE)]
    for batch in [*batches, list(writes[-1:])] if writes else []:
        branches = []
        for w in batch:
            t = __.V(w.vid).has(DERIVED, w.text_read)
            branches.append(vertex_property(t, DERIVED, state_json(w.state, w.new_rev)).id_())
        done = set(store.run(store.g.V(anchor_vid).union(*branches)))
        missing = [w.node_id for w in batch if w.vid not in done]
        if missing:
            store.rollback()
            raise VersionConflictError(missing[0], "node changed since it was read; retry the message")
    store.commit()


def _follow_ups(snapshot: Snapshot, derived: dict[str, DerivedState]) -> list[RecomputeMessage]:
    catalog_id, _ = parse_node_id(snapshot.root_id)
    out = []
    for node_id in snapshot.deferred:
        parent = snapshot.rows[node_id].parent_id
        out.append(RecomputeMessage(catalog_id, node_id, derived[parent].version, ChangeKind.FOLLOW_UP))
    return out


def _already_in(state: DerivedState | None, message: RecomputeMessage) -> bool:
    """The message's node already reflects the change (the message is stale)."""
    if state is None or message.kind not in VERSIONED_KINDS:
        return False
    if message.kind in (ChangeKind.ENABLED, ChangeKind.DISABLED):
        return state.toggled_at >= message.version
    return state.version >= message.version


def process_message(
    store: GraphStore,
    message: RecomputeMessage,
    sink: DerivedSink | None = None,
    max_nodes: int | None = None,
    publish: Callable[[list[RecomputeMessage]], object] | None = None,
) -> RecomputeResult:
    """Recompute what one message touches; skip it when the node already reflects it.

    ``max_nodes`` bounds the nodes read; what lies below is left to follow-up messages, handed
    to ``publish`` before anything is written (and returned in the result)."""
    start_trips = store.round_trips
    result = RecomputeResult(message.node_id)
    root = read_node(store, message.node_id)
    if _already_in(root.state, message):
        result.skipped, result.nodes_read = True, 1
        result.round_trips = store.round_trips - start_trips
        return result
    full = message.kind is ChangeKind.FULL_REBUILD
    snapshot = start_snapshot(root)
    read_path(store, snapshot)
    read_subtree(store, snapshot, full, message.kind not in SHALLOW_KINDS, None if full else max_nodes)
    result.nodes_read = len(snapshot.rows)
    derived = derive(snapshot.truth, opaque=snapshot.opaque, frozen=snapshot.frozen)
    result.follow_ups = _follow_ups(snapshot, derived)
    if result.follow_ups and publish is not None:
        publish(result.follow_ups)
    writes = plan_writes(snapshot, derived)
    catalog_id, _ = parse_node_id(snapshot.root_id)
    if sink is not None and writes:
        sink.put_nodes(catalog_id, writes)
    if writes:
        write_graph(store, snapshot.rows[snapshot.truth.catalog_node_id].vid, writes)
    result.nodes_written = len(writes)
    result.written_ids = [w.node_id for w in writes]
    result.round_trips = store.round_trips - start_trips
    return result


def full_rebuild(store: GraphStore, catalog_id: str, sink: DerivedSink | None = None) -> RecomputeResult:
    """Recompute a whole catalog from its truth and write every node that differs."""
    root = catalog_node_id(catalog_id)
    return process_message(store, RecomputeMessage(catalog_id, root, 0, ChangeKind.FULL_REBUILD), sink)


def process_with_retry(
    store: GraphStore,
    message: RecomputeMessage,
    sink: DerivedSink | None = None,
    attempts: int = 3,
    max_nodes: int | None = None,
    publish: Callable[[list[RecomputeMessage]], object] | None = None,
) -> RecomputeResult:
    """Re-read and recompute on a version conflict (another writer got there first)."""
    for attempt in range(1, attempts + 1):
        try:
            return process_message(store, message, sink, max_nodes, publish)
        except VersionConflictError as exc:
            if attempt == attempts:
                raise
            log.info("version conflict on %s (attempt %d), retrying", exc.item_id, attempt)
    raise AssertionError("unreachable")


def process_all(
    store: GraphStore, messages: Sequence[RecomputeMessage], sink=None, max_nodes=None
) -> list[RecomputeResult]:
    """Process messages and every follow-up they spawn, in order (tests, bench, demo)."""
    queue, results = list(messages), []
    while queue:
        result = process_message(store, queue.pop(0), sink, max_nodes)
        queue.extend(result.follow_ups)
        results.append(result)
    return results


def stored_states(store: GraphStore, catalog_id: str) -> dict[str, DerivedState | None]:
    """What the graph currently stores for every node of a catalog."""
    snapshot = read_catalog(store, catalog_id)
    return {nid: row.state for nid, row in snapshot.rows.items()}


def expected_states(store: GraphStore, catalog_id: str) -> dict[str, DerivedState]:
    """A from-scratch recompute of a catalog (current truth), without writing."""
    return derive(read_catalog(store, catalog_id).truth)
