""" "As of time t" reads: the tree and its derived values as they were at a timestamp.

Everything is recomputed from the immutable history (settings versions, enable/disable edges,
node creation times), so an as-of read equals replaying the changes up to ``t`` into an empty
graph and recomputing it.
"""

from __future__ import annotations

from dataclasses import dataclass

from trend.catalog_graph.model import DerivedState, NodeNotFoundError, NodeSettings, parse_node_id
from trend.catalog_graph.operations import settings_history, toggle_history
from trend.catalog_graph.recompute import expected_states
from trend.catalog_graph.store import GraphStore


@dataclass(frozen=True)
class NodeHistoryEntry:
    timestamp: int
    kind: str  # "settings" | "enabled" | "disabled"
    settings: NodeSettings | None = None


def catalog_as_of(store: GraphStore, catalog_id: str, at: int) -> dict[str, DerivedState]:
    """Derived state of every node that existed at ``at`` (empty before the catalog existed)."""
    return expected_states(store, catalog_id, as_of=at)


def node_as_of(store: GraphStore, node_id: str, at: int) -> DerivedState:
    catalog_id, _ = parse_node_id(node_id)
    states = catalog_as_of(store, catalog_id, at)
    if node_id not in states:
        raise NodeNotFoundError(node_id, f"node did not exist at {at}")
    return states[node_id]


def node_history(store: GraphStore, node_id: str) -> list[NodeHistoryEntry]:
    """Settings versions and enable/disable events of one node, oldest first."""
    entries = [NodeHistoryEntry(ts, "settings", s) for ts, s in settings_history(store, node_id)]
    entries += [NodeHistoryEntry(ts, "enabled" if on else "disabled") for ts, on in toggle_history(store, node_id)]
    if not entries:
        raise NodeNotFoundError(node_id, "no history for this node")
    return sorted(entries, key=lambda e: (e.timestamp, e.kind))
