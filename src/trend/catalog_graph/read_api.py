"""Read API of the catalog graph: what a UI or a browsing client calls. Reads only.

* ``catalog_tree(store, catalog_id)``   the tree as stored now: each node's finals, enabled flag,
                                        own settings and its expanded combined filter;
* ``catalog_as_of(store, catalog_id, t)`` the same tree as it was at time ``t`` (recomputed from
                                        the immutable history);
* ``node_history(store, node_id)``      settings versions and enable/disable events, oldest first;
* ``browse(store, node_id, client)``    what to search for when browsing a node: its finals and
                                        combined filter with a client's settings applied
                                        (``apply_client_settings``, also usable on a
                                        CategoryNode table row).

Client-submitted settings (the design): ``searchType`` overwrites the node's, ``filter`` is added
as an AND group, ``requiredData`` overwrites the node's when set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gremlin_python.process.graph_traversal import __
from gremlin_python.process.traversal import P

from trend.catalog_graph.combined import build_blocks, expand
from trend.catalog_graph.filters import MAX_FILTER_BYTES, Filter, canonical_json, digest, parse_filter
from trend.catalog_graph.model import (
    DerivedState,
    EdgeLabel,
    FinalSettings,
    InvalidSettingsError,
    NodeNotFoundError,
    NodeSettings,
    SearchType,
    VertexLabel,
    catalog_node_id,
    parse_node_id,
)
from trend.catalog_graph.operations import settings_history, toggle_history
from trend.catalog_graph.rules import CatalogTruth, SettingsVersion, ToggleEvent, derive
from trend.catalog_graph.snapshot import WITHIN_CHUNK, Snapshot, read_catalog, read_node
from trend.catalog_graph.store import GraphStore
from trend.catalog_graph.vertex import UID, parse_node_row


@dataclass(frozen=True)
class TreeNode:
    node_id: str
    category_id: str | None  # None for the catalog
    parent_id: str | None
    children: tuple[str, ...]
    settings: NodeSettings  # the node's own (editable) settings
    settings_at: int
    state: DerivedState | None  # finals etc.; None until the first recompute
    combined_filter: dict | None  # expanded; None when nothing is browsable


@dataclass(frozen=True)
class CatalogTree:
    catalog_id: str
    root_id: str
    nodes: dict[str, TreeNode]
    as_of: int | None = None

    def walk(self):
        """Nodes depth-first from the catalog, children in id order."""
        stack = [self.root_id] if self.root_id in self.nodes else []  # empty before the catalog existed
        while stack:
            node = self.nodes[stack.pop()]
            yield node
            stack.extend(reversed(node.children))


class BlockIndex:
    """Combined-filter blocks rebuilt from derived states (the graph holds no block texts)."""

    def __init__(self) -> None:
        self.blocks: dict[str, str] = {}

    def add(self, state: DerivedState | None) -> None:
        if state is not None:
            self.blocks.update(build_blocks(state.final.filter, state.group, (r for _, r in state.frontier)).blocks)

    def expand(self, state: DerivedState | None) -> dict | None:
        return None if state is None else expand(state.combined, self.blocks.__getitem__)


def _tree(
    catalog_id: str, snapshot_nodes: Mapping, states: Mapping[str, DerivedState | None], as_of=None
) -> CatalogTree:
    index = BlockIndex()
    for state in states.values():
        index.add(state)
    children: dict[str, list[str]] = {}
    for node_id, (record, _) in snapshot_nodes.items():
        if record.parent_id is not None:
            children.setdefault(record.parent_id, []).append(node_id)
    nodes = {}
    for node_id, (record, version) in snapshot_nodes.items():
        state = states.get(node_id)
        nodes[node_id] = TreeNode(
            node_id,
            record.category_id,
            record.parent_id,
            tuple(sorted(children.get(node_id, []))),
            version.settings,
            version.timestamp,
            state,
            index.expand(state),
        )
    return CatalogTree(catalog_id, catalog_node_id(catalog_id), nodes, as_of)


def catalog_tree(store: GraphStore, catalog_id: str) -> CatalogTree:
    """The whole catalog as stored now (derived values as the last recomputes left them)."""
    snapshot: Snapshot = read_catalog(store, catalog_id)
    nodes = {nid: (row.record, row.settings) for nid, row in snapshot.rows.items()}
    return _tree(catalog_id, nodes, {nid: row.state for nid, row in snapshot.rows.items()})


def history_truth(store: GraphStore, catalog_id: str) -> CatalogTruth:
    """A catalog's full history: every node, settings version and enable/disable event."""
    snapshot = read_catalog(store, catalog_id)
    truth = CatalogTruth(catalog_node_id(catalog_id))
    for row in snapshot.rows.values():
        truth.add_node(row.record)
    ids = sorted(truth.nodes)
    for start in range(0, len(ids), WITHIN_CHUNK):
        part = ids[start : start + WITHIN_CHUNK]
        for row in store.run(store.g.V().has(VertexLabel.SETTINGS.value, "nodeId", P.within(part)).element_map()):
            truth.add_settings(SettingsVersion(row["nodeId"], row["timestamp"], NodeSettings.from_properties(row)))
        edges = (
            store.g.V()
            .has(UID, P.within(part))
            .in_e(EdgeLabel.HAS_CHILD.value, EdgeLabel.HAS_DISABLED_CHILD.value)
            .project("node", "ts", "label")
            .by(__.in_v().values(UID))
            .by("timestamp")
            .by(__.label())
        )
        for row in store.run(edges):
            truth.add_toggle(ToggleEvent(row["node"], row["ts"], row["label"] == EdgeLabel.HAS_CHILD.value))
    return truth


def catalog_as_of(store: GraphStore, catalog_id: str, at: int) -> CatalogTree:
    """The catalog as it was at ``at``: nodes created by then, the settings and toggles
    current then, finals and combined filters recomputed from them. Empty before the catalog
    existed."""
    truth = history_truth(store, catalog_id)
    try:
        states = derive(truth, as_of=at)
    except NodeNotFoundError:
        return CatalogTree(catalog_id, catalog_node_id(catalog_id), {}, at)
    nodes = {}
    for node_id in states:
        versions = [v for v in truth.settings[node_id] if v.timestamp <= at]
        nodes[node_id] = (truth.nodes[node_id], max(versions, key=lambda v: v.timestamp))
    return _tree(catalog_id, nodes, states, as_of=at)


def node_as_of(store: GraphStore, node_id: str, at: int) -> DerivedState:
    catalog_id, _ = parse_node_id(node_id)
    tree = catalog_as_of(store, catalog_id, at)
    state = tree.nodes[node_id].state if node_id in tree.nodes else None
    if state is None:
        raise NodeNotFoundError(node_id, f"node did not exist at {at}")
    return state


@dataclass(frozen=True)
class NodeHistoryEntry:
    timestamp: int
    kind: str  # "settings" | "enabled" | "disabled"
    settings: NodeSettings | None = None


def node_history(store: GraphStore, node_id: str) -> list[NodeHistoryEntry]:
    """Settings versions and enable/disable events of one node, oldest first."""
    entries = [NodeHistoryEntry(ts, "settings", s) for ts, s in settings_history(store, node_id)]
    entries += [NodeHistoryEntry(ts, "enabled" if on else "disabled") for ts, on in toggle_history(store, node_id)]
    if not entries:
        raise NodeNotFoundError(node_id, "no history for this node")
    return sorted(entries, key=lambda e: (e.timestamp, e.kind))


# --- browsing with client-submitted settings ---------------------------------------------


@dataclass(frozen=True)
class ClientSettings:
    """Settings a client (or requesting service) submits with a browse request."""

    search_type: SearchType | str | None = None  # overwrites the node's
    filter: Filter | dict | str | None = None  # added as an AND group
    required_data: tuple[str, ...] | list[str] | None = None  # overwrites the node's if set
    request_id: str = "client"

    def validated(self) -> ValidClientSettings:
        """Parsed and checked; ``InvalidSettingsError`` naming ``request_id`` otherwise."""
        search_type = None
        if self.search_type is not None:
            raw = self.search_type.value if isinstance(self.search_type, SearchType) else str(self.search_type)
            try:
                search_type = SearchType(raw)
            except ValueError:
                allowed = "|".join(s.value for s in SearchType)
                raise InvalidSettingsError(self.request_id, f"searchType {raw!r} is not one of {allowed}") from None
        filter_ = None if self.filter in (None, "") else parse_filter(self.filter, self.request_id, MAX_FILTER_BYTES)
        required = None
        if self.required_data is not None:
            values = self.required_data
            if isinstance(values, str) or any(not isinstance(v, str) or not v.strip() for v in values):
                raise InvalidSettingsError(self.request_id, "requiredData must be a list of non-empty strings")
            required = tuple(sorted(set(values))) or None  # an empty list is "not set"
        return ValidClientSettings(search_type, filter_, required)


@dataclass(frozen=True)
class ValidClientSettings:
    search_type: SearchType | None
    filter: Filter | None
    required_data: tuple[str, ...] | None


@dataclass(frozen=True)
class BrowseQuery:
    """What to search for when browsing a node."""

    node_id: str
    search_type: str
    filter: dict | None  # combined filter AND client filter; None: nothing is browsable
    required_data: tuple[str, ...]
    filter_digest: str | None = field(default=None)  # cache key of ``filter``


def apply_client_settings(
    node_id: str, final: FinalSettings, combined: dict | None, client: ClientSettings | None
) -> BrowseQuery:
    """The design's rules: searchType overwrites, filter is ANDed as a group, requiredData
    overwrites when set. Pure: works on graph states and on table rows alike."""
    valid = (client or ClientSettings()).validated()
    search_type = valid.search_type.value if valid.search_type is not None else final.search_type
    required = valid.required_data if valid.required_data is not None else final.required_data
    filter_ = combined
    if combined is not None and valid.filter is not None:
        filter_ = {"and": [combined, valid.filter.tree]}
    text = None if filter_ is None else canonical_json(filter_)
    return BrowseQuery(node_id, search_type, filter_, tuple(required), None if text is None else digest(text))


def browse(store: GraphStore, node_id: str, client: ClientSettings | None = None) -> BrowseQuery:
    """Browse one node from the graph (disabled nodes and nodes never recomputed are refused)."""
    row = read_node(store, node_id)
    if row.state is None:
        raise NodeNotFoundError(node_id, "node has not been recomputed yet")
    if not row.state.enabled:
        raise NodeNotFoundError(node_id, "node is disabled")
    index = BlockIndex()
    index.add(row.state)
    pending = [nid for nid, _ in row.state.frontier]
    while pending:  # the frontier nodes' own blocks, level by level
        part, pending = pending[:WITHIN_CHUNK], pending[WITHIN_CHUNK:]
        for found in store.run(store.g.V().has(UID, P.within(part)).element_map()):
            state = parse_node_row(found, None).state
            index.add(state)
            pending += [nid for nid, _ in (state.frontier if state else ())]
    return apply_client_settings(node_id, row.state.final, index.expand(row.state), client)
