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
            snapshot.opaque[row.node_id] = OpaqueNode(row.node_id, row.parent_id, row.state)


def read_subtree(store: GraphStore, snapshot: Snapshot, full: bool, expand_root: bool, max_nodes: int | None) -> None:
    """Level by level below the root. ``full``: everything (a rebuild). Otherwise all-none nodes
    that have a stored state stay opaque, and with ``expand_root`` False (a toggle) the root's
    children are read but not expanded.

    ``max_nodes`` bounds the nodes one message reads. The root's children are admitted by their
    stored subtree size while the budget lasts; the others are deferred whole (a follow-up each,
    which splits again if it is still too big). Below, parents are read in chunks sized to what
    is left; if the budget runs out anyway (sizes not known yet), the parents whose children
    were not read are deferred. The root's children are always read: every message progresses."""
    budget = Budget(None if full else max_nodes)
    frontier, first = [snapshot.root_id], True
    while frontier:
        next_frontier: list[str] = []
        while frontier:
            if not first and budget.spent():
                _defer(snapshot, frontier + next_frontier)
                return
            size = budget.chunk()
            parents, frontier = frontier[:size], frontier[size:]
            next_frontier += _read_children(store, snapshot, parents, full, first and not expand_root, budget, first)
        first, frontier = False, next_frontier


@dataclass
class Budget:
    limit: int | None
    read: int = 0
    expanded: int = 0
    admitted: int = 0

    def spent(self) -> bool:
        return self.limit is not None and self.read >= self.limit

    def chunk(self) -> int:
        """Parents to read next so that their children about fill what is left."""
        if self.limit is None:
            return WITHIN_CHUNK
        children_per_parent = max(1.0, self.read / max(1, self.expanded))
        return max(1, min(WITHIN_CHUNK, int(max(0, self.limit - self.read) / children_per_parent)))

    def admit(self, row: NodeRow) -> bool:
        """A child of the root: expand it if its stored subtree still fits (the first always)."""
        size = row.state.size if row.state is not None else 1
        if self.limit is not None and self.admitted > 0 and self.admitted + size > self.limit:
            return False
        self.admitted += size
        return True


def _read_children(store, snapshot: Snapshot, parents: list[str], full, shallow, budget: Budget, first) -> list[str]:
    """Read the parents' children; returns those to expand next."""
    expand, deferred = [], []
    children = _read_nodes(store, PARENT, parents)
    budget.read += len(children)
    budget.expanded += len(parents)
    for row in sorted(children, key=lambda r: r.node_id):
        settled = row.settings.settings.all_none or shallow
        if not full and row.state is not None and settled:
            snapshot.rows[row.node_id] = row
            snapshot.opaque[row.node_id] = OpaqueNode(row.node_id, row.parent_id, row.state)
            continue
        _add(snapshot, row)
        if first and not budget.admit(row):
            deferred.append(row.node_id)
        else:
            expand.append(row.node_id)
    _defer(snapshot, deferred)
    return expand


def _defer(snapshot: Snapshot, frontier: list[str]) -> None:
    """Nodes whose children were not read become opaque (stored state) and get follow-ups."""
    for node_id in frontier:
        row = snapshot.rows[node_id]
        del snapshot.truth.nodes[node_id]
        snapshot.truth.settings.pop(node_id, None)
        snapshot.truth.toggles.pop(node_id, None)
        snapshot.opaque[node_id] = OpaqueNode(node_id, row.parent_id, row.state)
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
