"""Recompute: read a snapshot, derive in Python, write changed nodes back conditionally.

Order of writes for one message: DynamoDB rows (conditional on the row version), then graph
writes in batches, each node conditional on the ``rev`` it was read with, the message's own
node last, then commit. Only then may the caller acknowledge the message. A crash anywhere
leaves the message unacknowledged and a redelivery redoes the same work.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from gremlin_python.process.graph_traversal import __

from trend.catalog_graph.messages import ChangeKind, RecomputeMessage
from trend.catalog_graph.model import (
    DerivedState,
    NodeNotFoundError,
    VersionConflictError,
    catalog_node_id,
    parse_node_id,
)
from trend.catalog_graph.rules import derive
from trend.catalog_graph.snapshot import Snapshot, read_snapshot
from trend.catalog_graph.store import GraphStore

log = logging.getLogger(__name__)

WRITE_BATCH_SIZE = 25  # nodes per write traversal (gremlite recurses per step)


@dataclass(frozen=True)
class NodeWrite:
    node_id: str
    category_id: str
    parent_id: str | None
    vid: object
    rev_read: int
    state: DerivedState
    previous: DerivedState | None = None  # what the node stored when read

    def changed_properties(self) -> dict[str, object]:
        new = _state_properties(self.state)
        if self.previous is None:
            return new
        old = _state_properties(self.previous)
        return {key: value for key, value in new.items() if old[key] != value}

    @property
    def new_rev(self) -> int:
        return self.rev_read + 1


class DerivedSink(Protocol):
    """Somewhere else derived rows go (the DynamoDB CategoryNode table)."""

    def put_nodes(self, catalog_id: str, writes: Sequence[NodeWrite]) -> int: ...


@dataclass
class RecomputeResult:
    node_id: str
    skipped: bool = False
    nodes_read: int = 0
    nodes_written: int = 0
    round_trips: int = 0
    written_ids: list[str] = field(default_factory=list)


def _state_properties(state: DerivedState) -> dict[str, object]:
    return {
        "searchType": state.final.search_type,
        "filter": state.final.filter,
        "requiredData": json.dumps(list(state.final.required_data)),
        "combinedFilter": json.dumps(list(state.combined_filter)),
        "enabled": state.enabled,
        "version": state.version,
    }


def plan_writes(snapshot: Snapshot, derived: dict[str, DerivedState], full: bool) -> list[NodeWrite]:
    """Nodes whose stored state differs from the derived one. Subtree nodes get everything;
    ancestors (unless ``full``) only their combined filter, since their finals belong to their
    own messages. The message's own node comes last."""
    subtree_prefix = snapshot.root_id + "/"
    writes: list[NodeWrite] = []
    root_write: NodeWrite | None = None
    for node_id, state in derived.items():
        stored = snapshot.stored[node_id]
        in_subtree = full or node_id == snapshot.root_id or node_id.startswith(subtree_prefix)
        if not in_subtree:
            if stored.state is None or stored.state.combined_filter == state.combined_filter:
                continue
            state = DerivedState(stored.state.final, stored.state.enabled, state.combined_filter, stored.state.version)
        elif stored.state == state:
            continue
        record = snapshot.truth.nodes[node_id]
        write = NodeWrite(node_id, record.category_id, record.parent_id, stored.vid, stored.rev, state, stored.state)
        if node_id == snapshot.root_id:
            root_write = write
        else:
            writes.append(write)
    # bottom-up for the subtree, then ancestors: deepest first, root last
    writes.sort(key=lambda w: -w.node_id.count("/"))
    if root_write is not None:
        writes.append(root_write)
    return writes


def write_graph(store: GraphStore, anchor_vid: object, writes: Sequence[NodeWrite]) -> None:
    """Conditional batched writes; any node whose rev moved aborts the whole recompute."""
    for start in range(0, len(writes), WRITE_BATCH_SIZE):
        batch = writes[start : start + WRITE_BATCH_SIZE]
        branches = []
        for w in batch:
            t = __.V(w.vid).has("rev", w.rev_read).property("rev", w.new_rev)
            for key, value in w.changed_properties().items():
                t = t.property(key, value)
            branches.append(t.values("nodeId"))
        done = set(store.run(store.g.V(anchor_vid).union(*branches)))
        missing = [w.node_id for w in batch if w.node_id not in done]
        if missing:
            store.rollback()
            raise VersionConflictError(missing[0], "node changed since it was read; retry the message")
    store.commit()


def _apply(
    store: GraphStore,
    snapshot: Snapshot,
    derived: dict[str, DerivedState],
    full: bool,
    sink: DerivedSink | None,
    result: RecomputeResult,
) -> None:
    writes = plan_writes(snapshot, derived, full)
    catalog_id, _ = parse_node_id(snapshot.truth.catalog_node_id)
    if sink is not None and writes:
        sink.put_nodes(catalog_id, writes)
    if writes:
        write_graph(store, snapshot.stored[snapshot.truth.catalog_node_id].vid, writes)
    result.nodes_written = len(writes)
    result.written_ids = [w.node_id for w in writes]


def process_message(store: GraphStore, message: RecomputeMessage, sink: DerivedSink | None = None) -> RecomputeResult:
    """Recompute what one message touches; skip it when the node already reflects it."""
    start_trips = store.round_trips
    result = RecomputeResult(message.node_id)
    snapshot = read_snapshot(store, message.node_id)
    stored = snapshot.stored[message.node_id].state
    result.nodes_read = len(snapshot.truth.nodes)
    if message.kind is not ChangeKind.FULL_REBUILD and stored is not None and stored.version >= message.version:
        result.skipped = True
    else:
        derived = derive(snapshot.truth, opaque=snapshot.opaque)
        _apply(store, snapshot, derived, message.kind is ChangeKind.FULL_REBUILD, sink, result)
    result.round_trips = store.round_trips - start_trips
    return result


def full_rebuild(store: GraphStore, catalog_id: str, sink: DerivedSink | None = None) -> RecomputeResult:
    """Recompute a whole catalog from its truth and write every node that differs."""
    root = catalog_node_id(catalog_id)
    return process_message(store, RecomputeMessage(catalog_id, root, 0, ChangeKind.FULL_REBUILD), sink)


def process_with_retry(
    store: GraphStore, message: RecomputeMessage, sink: DerivedSink | None = None, attempts: int = 3
) -> RecomputeResult:
    """Re-read and recompute on a version conflict (another writer got there first)."""
    for attempt in range(1, attempts + 1):
        try:
            return process_message(store, message, sink)
        except VersionConflictError as exc:
            if attempt == attempts:
                raise
            log.info("version conflict on %s (attempt %d), retrying", exc.item_id, attempt)
    raise AssertionError("unreachable")


def stored_states(store: GraphStore, catalog_id: str) -> dict[str, DerivedState | None]:
    """What the graph currently stores for every node of a catalog."""
    snapshot = read_snapshot(store, catalog_node_id(catalog_id))
    return {nid: s.state for nid, s in snapshot.stored.items()}


def expected_states(store: GraphStore, catalog_id: str, as_of: int | None = None) -> dict[str, DerivedState]:
    """A from-scratch recompute of a catalog (optionally as of a time), without writing."""
    snapshot = read_snapshot(store, catalog_node_id(catalog_id))
    try:
        return derive(snapshot.truth, as_of=as_of)
    except NodeNotFoundError:
        if as_of is not None:
            return {}
        raise
