"""Reads for a recompute: a node, its path to the catalog, the path's other children, and its
subtree level by level — every traversal starts from an indexed look-up (``uid`` or
``parentNodeId`` equality / within), never a prefix scan.

The subtree read stops where nothing can have changed: a node whose modes are all ``none``
ignores its parent, so (once it has a stored state) its subtree is not read and it joins the
recompute as an *opaque* node with its stored state. A node-budget (``max_nodes``) can stop the
read early: the nodes whose children were not read yet are *deferred* and get follow-up
messages, so one message never runs past the queue's visibility timeout.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from gremlin_python.process.traversal import P, T

from trend.catalog_graph.model import DerivedState, NodeNotFoundError, catalog_node_id, parse_node_id
from trend.catalog_graph.rules import CatalogTruth, OpaqueNode
from trend.catalog_graph.store import GraphStore
from trend.catalog_graph.vertex import PARENT, UID, NodeRow, parse_node_row

WITHIN_CHUNK = 1000  # values per P.within (SQL parameters on gremlite, request size on Neptune)


@dataclass
class Snapshot:
    truth: CatalogTruth
    root_id: str
    chain: list[str]  # ancestors of root_id, catalog first
    rows: dict[str, NodeRow] = field(default_factory=dict)  # every node read, opaque ones included
    opaque: dict[str, OpaqueNode] = field(default_factory=dict)
    frozen: dict[str, DerivedState] = field(default_factory=dict)
    deferred: list[str] = field(default_factory=list)  # read, subtree not: need follow-ups


def _read_nodes(store: GraphStore, key: str, values: Iterable[str]) -> list[NodeRow]:
    values = list(values)
    rows: list[NodeRow] = []
    for start in range(0, len(values), WITHIN_CHUNK):
        part = values[start : start + WITHIN_CHUNK]
        condition = part[0] if len(part) == 1 else P.within(part)
        rows += [parse_node_row(r, r[T.id]) for r in store.run(store.g.V().has(key, condition).element_map())]
    return rows


def read_node(store: GraphStore, node_id: str) -> NodeRow:
    rows = _read_nodes(store, UID, [node_id])
    if not rows:
        raise NodeNotFoundError(node_id, "no such catalog or category node")
    return rows[0]


def start_snapshot(root: NodeRow) -> Snapshot:
    catalog_id, _ = parse_node_id(root.node_id)
    chain = list(root.path)
    snapshot = Snapshot(CatalogTruth(catalog_node_id(catalog_id)), root.node_id, chain)
    _add(snapshot, root)
    return snapshot


def _add(snapshot: Snapshot, row: NodeRow) -> None:
    snapshot.rows[row.node_id] = row
    snapshot.truth.add_node(row.record)
    snapshot.truth.add_settings(row.settings)
    if row.toggle is not None:
        snapshot.truth.add_toggle(row.toggle)


def read_path(store: GraphStore, snapshot: Snapshot) -> None:
    """The ancestors (frozen: their finals belong to their own messages) and their other
    children (opaque), in two round trips."""
    if not snapshot.chain:
        return
    catalog = _read_nodes(store, UID, [snapshot.chain[0]])
    if not catalog:
        raise NodeNotFoundError(snapshot.chain[0], "no such catalog")
    for row in catalog + _read_nodes(store, PARENT, snapshot.chain):
        if row.node_id in snapshot.chain:
            _add(snapshot, row)
            if row.state is not None:
                snapshot.frozen[row.node_id] = row.state
        elif row.node_id != snapshot.root_id:
            snapshot.rows[row.node_id] = row
            snapshot.opaque[row.node_id] = OpaqueNode(row.node_id, row.record.parent_id, row.state)


def read_subtree(store: GraphStore, snapshot: Snapshot, full: bool, expand_root: bool, max_nodes: int | None) -> None:
    """Level by level below the root. ``full``: everything (a rebuild). Otherwise all-none nodes
    that have a stored state stay opaque. ``expand_root`` False: the root's children are read
    but not expanded (a toggle changes nothing below the node). With ``max_nodes``, parents are
    read in chunks sized to what is left of the budget; once it is spent, the parents whose
    children were not read are deferred. The root's own children are always read, so every
    message (and every follow-up) makes progress."""
    frontier, first, expanded, read = [snapshot.root_id], True, 0, 0
    while frontier:
        next_frontier: list[str] = []
        while frontier:
            if max_nodes is not None and not first and read >= max_nodes:
                _defer(snapshot, frontier + next_frontier)
                return
            size = WITHIN_CHUNK if max_nodes is None or first else _chunk_size(max_nodes - read, read, expanded)
            parents, frontier = frontier[:size], frontier[size:]
            expanded += len(parents)
            found = _read_children(store, snapshot, parents, full, first and not expand_root)
            read += found[1]
            next_frontier += found[0]
        first, frontier = False, next_frontier


def _chunk_size(budget_left: int, read: int, expanded: int) -> int:
    """Parents to read next so that their children about fill what is left of the budget."""
    children_per_parent = max(1.0, read / max(1, expanded))
    return max(1, min(WITHIN_CHUNK, int(budget_left / children_per_parent)))


def _read_children(store, snapshot: Snapshot, parents: list[str], full: bool, shallow: bool) -> tuple[list[str], int]:
    """Read the parents' children; returns (those to expand next, how many were read)."""
    expand = []
    children = _read_nodes(store, PARENT, parents)
    for row in sorted(children, key=lambda r: r.node_id):
        settled = row.settings.settings.all_none or shallow
        if not full and row.state is not None and settled:
            snapshot.rows[row.node_id] = row
            snapshot.opaque[row.node_id] = OpaqueNode(row.node_id, row.record.parent_id, row.state)
            continue
        _add(snapshot, row)
        expand.append(row.node_id)
    return expand, len(children)


def _defer(snapshot: Snapshot, frontier: list[str]) -> None:
    """Nodes whose children were not read become opaque (stored state) and get follow-ups."""
    for node_id in frontier:
        row = snapshot.rows[node_id]
        del snapshot.truth.nodes[node_id]
        snapshot.truth.settings.pop(node_id, None)
        snapshot.truth.toggles.pop(node_id, None)
        snapshot.opaque[node_id] = OpaqueNode(node_id, row.record.parent_id, row.state)
        snapshot.deferred.append(node_id)


def read_snapshot(
    store: GraphStore,
    root_id: str,
    full: bool = True,
    expand_root: bool = True,
    max_nodes: int | None = None,
) -> Snapshot:
    """Root, path and subtree (see ``read_subtree``)."""
    snapshot = start_snapshot(read_node(store, root_id))
    read_path(store, snapshot)
    read_subtree(store, snapshot, full, expand_root, max_nodes)
    return snapshot


def read_catalog(store: GraphStore, catalog_id: str) -> Snapshot:
    return read_snapshot(store, catalog_node_id(catalog_id))
