"""The recompute engine: pure Python over a snapshot of the graph's truth.

Truth is immutable history (nodes, settings versions, enable/disable events). Derived state
(finals, combined filter, version) is a function of truth and a time ``as_of``, so replaying a
message any number of times, in any order, converges on the from-scratch result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from trend.catalog_graph.model import (
    DerivedState,
    FinalSettings,
    MatchMode,
    NodeNotFoundError,
    NodeSettings,
)


@dataclass(frozen=True)
class NodeRecord:
    """The immutable part of a categoryNode (catalogNode: parent_id None)."""

    node_id: str
    category_id: str
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
class OpaqueChild:
    """A child outside the snapshot: its stored derived values stand in for recomputing it."""

    node_id: str
    parent_id: str
    enabled: bool
    combined_filter: tuple[str, ...]


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


def combine_filter(parent: str, own: str) -> str:
    return f"({parent}) AND ({own})" if parent else own


def resolve(parent: FinalSettings | None, settings: NodeSettings) -> FinalSettings:
    """Final values of one node from its parent's finals and its own settings."""
    if parent is None:  # the catalog: own values only
        return FinalSettings(settings.search_type, settings.filter, tuple(sorted(settings.required_data)))
    search_type = parent.search_type if settings.search_type_mode is MatchMode.MATCH else settings.search_type
    if settings.filter_mode is MatchMode.MATCH:
        filter_ = parent.filter
    elif settings.filter_mode is MatchMode.APPEND:
        filter_ = combine_filter(parent.filter, settings.filter)
    else:
        filter_ = settings.filter
    if settings.required_data_mode is MatchMode.MATCH:
        required = parent.required_data
    elif settings.required_data_mode is MatchMode.APPEND:
        required = tuple(sorted(set(parent.required_data) | set(settings.required_data)))
    else:
        required = tuple(sorted(set(settings.required_data)))
    return FinalSettings(search_type, filter_, required)


def depends_on_parent(settings: NodeSettings) -> bool:
    """A node whose modes are all none ignores its parent: changes stop propagating there."""
    return any(
        mode is not MatchMode.NONE
        for mode in (settings.search_type_mode, settings.filter_mode, settings.required_data_mode)
    )


def _latest(items: Iterable, as_of: int | None):
    best = None
    for item in items:
        if as_of is not None and item.timestamp > as_of:
            continue
        if best is None or item.timestamp > best.timestamp:
            best = item
    return best


def _dedupe(blocks: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(b for b in blocks if b))


def derive(
    truth: CatalogTruth,
    as_of: int | None = None,
    opaque: Mapping[str, OpaqueChild] | None = None,
) -> dict[str, DerivedState]:
    """Derived state of every node in ``truth`` that exists at ``as_of`` (None = now).

    Finals flow top-down from the catalog; combined filters are rebuilt bottom-up: a node's
    combined filter is its own final filter followed by each enabled child's combined blocks,
    de-duplicated (a child that matches its parent adds nothing; custom filters stay as their
    own blocks). The catalog's combined filter combines its enabled top-level children only.
    """
    opaque = opaque or {}
    alive = {nid: rec for nid, rec in truth.nodes.items() if as_of is None or rec.created_at <= as_of}
    if truth.catalog_node_id not in alive:
        raise NodeNotFoundError(truth.catalog_node_id, "catalog does not exist at that time")
    children: dict[str, list[str]] = {}
    for nid, rec in alive.items():
        if rec.parent_id is not None:
            children.setdefault(rec.parent_id, []).append(nid)
    for child in opaque.values():
        if child.node_id not in alive:
            children.setdefault(child.parent_id, []).append(child.node_id)
    for kids in children.values():
        kids.sort()

    finals: dict[str, FinalSettings] = {}
    versions: dict[str, int] = {}
    enabled: dict[str, bool] = {}
    order: list[str] = []  # top-down
    stack: list[tuple[str, FinalSettings | None, int]] = [(truth.catalog_node_id, None, 0)]
    while stack:
        nid, parent_final, parent_version = stack.pop()
        rec = alive[nid]
        current = _latest(truth.settings.get(nid, ()), as_of)
        if current is None:
            raise NodeNotFoundError(nid, "node has no settings at that time")
        toggle = _latest(truth.toggles.get(nid, ()), as_of)
        enabled[nid] = True if toggle is None else toggle.enabled
        finals[nid] = resolve(parent_final, current.settings)
        inherited = parent_version if depends_on_parent(current.settings) else 0
        versions[nid] = max(inherited, rec.created_at, current.timestamp, toggle.timestamp if toggle else 0)
        order.append(nid)
        for kid in reversed(children.get(nid, [])):
            if kid in alive:
                stack.append((kid, finals[nid], versions[nid]))

    combined: dict[str, tuple[str, ...]] = {}
    for nid in reversed(order):
        blocks: list[str] = [] if nid == truth.catalog_node_id else [finals[nid].filter]
        for kid in children.get(nid, []):
            if kid in alive:
                if enabled[kid]:
                    blocks.extend(combined[kid])
            elif opaque[kid].enabled:
                blocks.extend(opaque[kid].combined_filter)
        combined[nid] = _dedupe(blocks)

    return {nid: DerivedState(finals[nid], enabled[nid], combined[nid], versions[nid]) for nid in order}
