"""The recompute engine: pure Python over a snapshot of the graph's truth.

Truth is immutable history (nodes, settings versions, enable/disable events). Derived state
(finals, combined filter, version) is a function of truth and a time ``as_of``, so replaying a
message any number of times, in any order, converges on the from-scratch result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TypeVar

from trend.catalog_graph.combined import build_blocks
from trend.catalog_graph.filters import and_
from trend.catalog_graph.model import (
    DerivedState,
    FinalSettings,
    InvalidSettingsError,
    MatchMode,
    NodeNotFoundError,
    NodeSettings,
)

T = TypeVar("T")


@dataclass(frozen=True)
class NodeRecord:
    """The immutable part of a node (catalogNode: category_id and parent_id None)."""

    node_id: str
    category_id: str | None
    parent_id: str | None
    created_at: int


@dataclass(frozen=True)
class SettingsVersion:
    node_id: str
    timestamp: int
    settings: NodeSettings


@dataclass(frozen=True)
class ToggleEvent:
    node_id: str
    timestamp: int
    enabled: bool


@dataclass(frozen=True)
class OpaqueNode:
    """A node whose subtree was not read: its stored derived state stands in for it."""

    node_id: str
    parent_id: str
    state: DerivedState | None  # None: never computed yet (contributes nothing until it is)


@dataclass
class CatalogTruth:
    """Truth for a catalog, or for the part of it a recompute needs (path + subtree)."""

    catalog_node_id: str
    nodes: dict[str, NodeRecord] = field(default_factory=dict)
    settings: dict[str, list[SettingsVersion]] = field(default_factory=dict)
    toggles: dict[str, list[ToggleEvent]] = field(default_factory=dict)

    def add_node(self, record: NodeRecord) -> None:
        self.nodes[record.node_id] = record

    def add_settings(self, version: SettingsVersion) -> None:
        self.settings.setdefault(version.node_id, []).append(version)

    def add_toggle(self, event: ToggleEvent) -> None:
        self.toggles.setdefault(event.node_id, []).append(event)


def _own(value: T | None, what: str) -> T:
    """A value validated settings always have for a non-match mode."""
    if value is None:
        raise InvalidSettingsError("settings", f"{what} missing for a mode that needs it (unvalidated settings?)")
    return value


def resolve(parent: FinalSettings | None, settings: NodeSettings) -> FinalSettings:
    """Final values of one node from its parent's finals and its own settings."""
    if parent is None:  # the catalog: own values only
        own_type = _own(settings.search_type, "searchType").value
        return FinalSettings(own_type, _own(settings.filter, "filter"), settings.required_data)
    if settings.search_type_mode is MatchMode.MATCH:
        search_type = parent.search_type
    else:
        search_type = _own(settings.search_type, "searchType").value
    if settings.filter_mode is MatchMode.MATCH:
        filter_ = parent.filter
    elif settings.filter_mode is MatchMode.APPEND:
        filter_ = and_(parent.filter, _own(settings.filter, "filter"))
    else:
        filter_ = _own(settings.filter, "filter")
    if settings.required_data_mode is MatchMode.MATCH:
        required = parent.required_data
    elif settings.required_data_mode is MatchMode.APPEND:
        required = tuple(sorted(set(parent.required_data) | set(settings.required_data)))
    else:
        required = settings.required_data
    return FinalSettings(search_type, filter_, required)


def _latest(items: Iterable, as_of: int | None):
    best = None
    for item in items:
        if as_of is not None and item.timestamp > as_of:
            continue
        if best is None or item.timestamp > best.timestamp:
            best = item
    return best


def with_combined(
    state: DerivedState, category_id: str | None, children: list[tuple[str, DerivedState]]
) -> DerivedState:
    """``state`` with its group, frontier and combined root rebuilt from its enabled children
    (and its subtree size from all of them)."""
    own = state.final.filter.digest
    group = {category_id} if category_id is not None else set()
    frontier: dict[str, str] = {}
    for child_id, child in children:
        if not child.enabled:
            continue
        if child.final.filter.digest == own:
            group.update(child.group)
            frontier.update(child.frontier)
        elif child.combined is not None:
            frontier[child_id] = child.combined
    ordered = tuple(sorted(frontier.items()))
    root = build_blocks(state.final.filter, sorted(group), (r for _, r in ordered)).root
    size = 1 + sum(child.size for _, child in children)
    return replace(state, group=tuple(sorted(group)), frontier=ordered, combined=root, size=size)


def derive(
    truth: CatalogTruth,
    as_of: int | None = None,
    opaque: Mapping[str, OpaqueNode] | None = None,
    frozen: Mapping[str, DerivedState] | None = None,
) -> dict[str, DerivedState]:
    """Derived state of every node in ``truth`` that exists at ``as_of`` (None = now).

    Finals flow top-down from the catalog; combined filters are rebuilt bottom-up from each
    node's enabled children. ``opaque`` nodes (read, but their subtree not) contribute their
    stored state; ``frozen`` nodes (the path above a message's node) keep their stored finals,
    enabled flag and version, which belong to their own messages, and only get a new combined
    filter.
    """
    opaque, frozen = opaque or {}, frozen or {}
    alive = {nid: rec for nid, rec in truth.nodes.items() if as_of is None or rec.created_at <= as_of}
    if truth.catalog_node_id not in alive:
        raise NodeNotFoundError(truth.catalog_node_id, "catalog does not exist at that time")
    children: dict[str, list[str]] = {}
    for nid, rec in alive.items():
        if rec.parent_id is not None:
            children.setdefault(rec.parent_id, []).append(nid)
    for node in opaque.values():
        if node.node_id not in alive:
            children.setdefault(node.parent_id, []).append(node.node_id)
    states, order = _finals_top_down(truth, alive, children, as_of, frozen)
    for nid in reversed(order):
        kids: list[tuple[str, DerivedState]] = []
        for kid in sorted(children.get(nid, [])):
            kid_state = states[kid] if kid in alive else opaque[kid].state
            if kid_state is not None:
                kids.append((kid, kid_state))
        states[nid] = with_combined(states[nid], alive[nid].category_id, kids)
    return {nid: states[nid] for nid in order}


def _finals_top_down(truth, alive, children, as_of, frozen) -> tuple[dict[str, DerivedState], list[str]]:
    states: dict[str, DerivedState] = {}
    order: list[str] = []
    stack: list[tuple[str, FinalSettings | None, int]] = [(truth.catalog_node_id, None, 0)]
    while stack:
        nid, parent_final, parent_version = stack.pop()
        if nid in frozen:
            states[nid] = frozen[nid]
        else:
            states[nid] = _own_state(truth, alive[nid], parent_final, parent_version, as_of)
        order.append(nid)
        for kid in children.get(nid, []):
            if kid in alive:
                stack.append((kid, states[nid].final, states[nid].version))
    return states, order


def _own_state(truth, rec: NodeRecord, parent_final, parent_version, as_of) -> DerivedState:
    current = _latest(truth.settings.get(rec.node_id, ()), as_of)
    if current is None:
        raise NodeNotFoundError(rec.node_id, "node has no settings at that time")
    toggle = _latest(truth.toggles.get(rec.node_id, ()), as_of)
    inherited = 0 if current.settings.all_none else parent_version
    version = max(inherited, rec.created_at, current.timestamp)
    final = resolve(parent_final, current.settings)
    if toggle is None:
        return DerivedState(final, True, version, toggled_at=rec.created_at)
    return DerivedState(final, toggle.enabled, version, toggled_at=toggle.timestamp)
