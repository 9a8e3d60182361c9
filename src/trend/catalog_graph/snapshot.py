"""Reads: a catalog's (or a subtree's) truth and stored derived state in four round trips."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from gremlin_python.process.traversal import P, T, TextP

from trend.catalog_graph.model import (
    DerivedState,
    EdgeLabel,
    FinalSettings,
    NodeNotFoundError,
    NodeSettings,
    VertexLabel,
    ancestor_ids,
    catalog_node_id,
    parse_node_id,
)
from trend.catalog_graph.rules import CatalogTruth, NodeRecord, OpaqueChild, SettingsVersion, ToggleEvent
from trend.catalog_graph.store import GraphStore

NODE_LABELS = (VertexLabel.CATALOG_NODE.value, VertexLabel.CATEGORY_NODE.value)


@dataclass(frozen=True)
class StoredNode:
    """Derived values as currently stored on a node, plus its graph id and write counter."""

    vid: object
    rev: int
    state: DerivedState | None  # None until the first recompute


@dataclass
class Snapshot:
    truth: CatalogTruth
    root_id: str
    chain: list[str]  # ancestors of root_id, catalog first
    stored: dict[str, StoredNode] = field(default_factory=dict)
    opaque: dict[str, OpaqueChild] = field(default_factory=dict)


def _stored_state(row: dict) -> DerivedState | None:
    if row["version"] < 0:
        return None
    final = FinalSettings(row["searchType"], row["filter"], tuple(json.loads(row["requiredData"])))
    return DerivedState(final, bool(row["enabled"]), tuple(json.loads(row["combinedFilter"])), row["version"])


def read_snapshot(store: GraphStore, root_id: str) -> Snapshot:
    """Truth and stored state of ``root_id``'s subtree and of its ancestors, plus the stored
    combined filters of the ancestors' other children."""
    catalog_id, _ = parse_node_id(root_id)
    chain = ancestor_ids(root_id)
    exact = [*chain, root_id]
    prefix = root_id + "/"
    g = store.g

    # Filters are single has() steps so gremlite turns them into indexed SQL (a label filter
    # next to a text predicate would make it scan). uid prefixes cover nodes and their
    # settings vertices ({nodeId}@settings:{ts}); nodeId equality covers the path's.
    element_rows = store.run(g.V().has("nodeId", P.within(exact)).element_map())
    element_rows += store.run(g.V().has("uid", TextP.starting_with(prefix)).element_map())
    node_rows = [r for r in element_rows if r[T.label] in NODE_LABELS]
    settings_rows = [r for r in element_rows if r[T.label] == VertexLabel.SETTINGS.value]
    toggle_rows = []
    for condition in (P.within(exact), TextP.starting_with(prefix)):
        toggle_rows += [
            {"nodeId": r["childNodeId"], "timestamp": r["timestamp"], "label": r[T.label]}
            for r in store.run(g.E().has("childNodeId", condition).element_map("childNodeId", "timestamp"))
        ]

    snapshot = Snapshot(CatalogTruth(chain[0] if chain else root_id), root_id, chain)
    if catalog_node_id(catalog_id) not in {r["nodeId"] for r in node_rows}:
        raise NodeNotFoundError(catalog_node_id(catalog_id), "no such catalog")
    for row in node_rows:
        nid = row["nodeId"]
        parent = row.get("parentNodeId")
        snapshot.truth.add_node(NodeRecord(nid, str(row["categoryId"]), parent, row["createdAt"]))
        snapshot.stored[nid] = StoredNode(row[T.id], row["rev"], _stored_state(row))
    if root_id not in snapshot.truth.nodes:
        raise NodeNotFoundError(root_id, "no such catalog or category node")
    for row in settings_rows:
        snapshot.truth.add_settings(SettingsVersion(row["nodeId"], row["timestamp"], NodeSettings.from_properties(row)))
    for row in toggle_rows:
        snapshot.truth.add_toggle(
            ToggleEvent(row["nodeId"], row["timestamp"], row["label"] == EdgeLabel.HAS_CHILD.value)
        )
    if chain:
        sibling_rows = store.run(
            g.V()
            .has(VertexLabel.CATEGORY_NODE.value, "parentNodeId", P.within(chain))
            .project("nodeId", "parentNodeId", "enabled", "combinedFilter")
            .by("nodeId")
            .by("parentNodeId")
            .by("enabled")
            .by("combinedFilter")
        )
        for row in sibling_rows:
            if row["nodeId"] not in snapshot.truth.nodes:
                snapshot.opaque[row["nodeId"]] = OpaqueChild(
                    row["nodeId"],
                    row["parentNodeId"],
                    bool(row["enabled"]),
                    tuple(json.loads(row["combinedFilter"])),
                )
    return snapshot


def read_catalog(store: GraphStore, catalog_id: str) -> Snapshot:
    return read_snapshot(store, catalog_node_id(catalog_id))
