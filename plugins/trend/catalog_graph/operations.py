"""Changes to the catalog graph's truth. Every change adds vertices/edges (history is kept)
and returns the RecomputeMessage to publish. Operations are idempotent: repeating one that is
already in effect adds nothing and returns the same message.

Timestamps are integer microseconds from a per-catalog clock stored on the catalogNode
(``clock``): every change moves it forward with a conditional write, so event timestamps of one
catalog are strictly increasing in commit order (the stale-message check relies on that).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Optional

from gremlin_python.process.graph_traversal import __

from trend.catalog_graph.messages import ChangeKind, RecomputeMessage
from trend.catalog_graph.model import (
    CatalogGraphError,
    DuplicateNodeError,
    EdgeLabel,
    InvalidSettingsError,
    NodeNotFoundError,
    NodeSettings,
    VersionConflictError,
    VertexLabel,
    catalog_node_id,
    category_uid,
    check_id_part,
    child_node_id,
    parse_node_id,
    settings_id,
    user_uid,
)
from trend.catalog_graph.store import GraphStore


class StaleTimestampError(CatalogGraphError):
    """An explicit timestamp is not after the catalog's last event."""


# Derived properties every node starts with (a recompute fills them in).
INITIAL_DERIVED = {
    "searchType": "",
    "filter": "",
    "requiredData": "[]",
    "combinedFilter": "[]",
    "enabled": True,
    "version": -1,
    "rev": 0,
}


@dataclass(frozen=True)
class NodeInfo:
    vid: object
    node_id: str
    created_at: int


def now_us() -> int:
    return time.time_ns() // 1000


def _find_node(store: GraphStore, node_id: str) -> Optional[NodeInfo]:
    rows = store.run(
        store.g.V().has("uid", node_id).project("vid", "createdAt").by(__.id_()).by("createdAt")
    )
    return NodeInfo(rows[0]["vid"], node_id, rows[0]["createdAt"]) if rows else None


def _require_node(store: GraphStore, node_id: str) -> NodeInfo:
    info = _find_node(store, node_id)
    if info is None:
        raise NodeNotFoundError(node_id, "no such catalog or category node")
    return info


def _get_or_create(store: GraphStore, label: VertexLabel, uid: str) -> object:
    t = (
        store.g.V().has(label.value, "uid", uid).fold()
        .coalesce(__.unfold(), __.add_v(label.value).property("uid", uid))
        .id_()
    )
    return store.run(t)[0]


def _tick(store: GraphStore, catalog_id: str, at: Optional[int]) -> tuple[object, int, int]:
    """(catalog vertex id, clock read, new timestamp) for the next event of a catalog."""
    cid = catalog_node_id(catalog_id)
    rows = store.run(store.g.V().has(VertexLabel.CATALOG_NODE.value, "uid", cid)
                     .project("vid", "clock").by(__.id_()).by("clock"))
    if not rows:
        raise NodeNotFoundError(cid, "no such catalog")
    clock = rows[0]["clock"]
    if at is None:
        at = max(now_us(), clock + 1)
    elif at <= clock:
        raise StaleTimestampError(cid, f"timestamp {at} is not after the catalog's last event {clock}")
    return rows[0]["vid"], clock, at


def _commit_or_conflict(store: GraphStore, t, what: str) -> None:
    if not store.run(t):
        store.rollback()
        raise VersionConflictError(what, "the catalog clock moved while writing; retry")
    store.commit()


def _add_settings(t, node_id: str, catalog_id: str, settings: NodeSettings, at: int, node_step: str):
    t = t.add_v(VertexLabel.SETTINGS.value).property("uid", settings_id(node_id, at))
    t = t.property("nodeId", node_id).property("catalogId", catalog_id).property("timestamp", at)
    for key, value in settings.to_properties().items():
        t = t.property(key, value)
    t = t.as_("s").add_e(EdgeLabel.HAS_SETTINGS.value).from_(node_step).to("s")
    return t.property("timestamp", at).property("catalogId", catalog_id).property("nodeId", node_id)


def create_catalog(
    store: GraphStore, catalog_id: str, settings: NodeSettings, user_id: str, at: Optional[int] = None
) -> RecomputeMessage:
    """A catalogNode with its own searchType/filter/requiredData (all modes none)."""
    node_id = catalog_node_id(catalog_id)
    root = NodeSettings.root(settings.search_type, settings.filter, settings.required_data).validate(node_id)
    existing = _find_node(store, node_id)
    if existing is not None:
        return RecomputeMessage(catalog_id, node_id, existing.created_at, ChangeKind.CATALOG_CREATED)
    at = now_us() if at is None else at
    user_vid = _get_or_create(store, VertexLabel.USER, user_uid(user_id))
    t = store.g.add_v(VertexLabel.CATALOG_NODE.value).property("uid", node_id).property("nodeId", node_id)
    t = t.property("catalogId", catalog_id).property("categoryId", "0").property("createdAt", at)
    t = t.property("clock", at)
    for key, value in INITIAL_DERIVED.items():
        t = t.property(key, value)
    t = _add_settings(t.as_("n"), node_id, catalog_id, root, at, "n")
    t = t.V(user_vid).as_("u").add_e(EdgeLabel.CREATED_BY.value).from_("n").to("u").property("timestamp", at)
    store.run(t.select("n").id_())
    store.commit()
    return RecomputeMessage(catalog_id, node_id, at, ChangeKind.CATALOG_CREATED)


def add_category_node(
    store: GraphStore,
    parent_node_id: str,
    category_id: str,
    settings: NodeSettings,
    user_id: str,
    at: Optional[int] = None,
) -> RecomputeMessage:
    """A categoryNode for ``category_id`` under a catalog or category node (enabled)."""
    catalog_id, path = parse_node_id(parent_node_id)
    check_id_part(category_id, "categoryId")
    node_id = child_node_id(parent_node_id, category_id)
    if category_id == "0":
        raise InvalidSettingsError(node_id, "categoryId 0 is reserved for the catalog's own record")
    if category_id in path:
        raise DuplicateNodeError(node_id, f"category {category_id} is already an ancestor (cycle)")
    settings.validate(node_id)
    existing = _find_node(store, node_id)
    if existing is not None:
        return RecomputeMessage(catalog_id, node_id, existing.created_at, ChangeKind.NODE_ADDED)
    parent = _require_node(store, parent_node_id)
    catalog_vid, clock, at = _tick(store, catalog_id, at)
    user_vid = _get_or_create(store, VertexLabel.USER, user_uid(user_id))
    category_vid = _get_or_create(store, VertexLabel.CATEGORY, category_uid(category_id))
    t = store.g.V(catalog_vid).has("clock", clock).property("clock", at)
    t = t.V(parent.vid).as_("p").add_v(VertexLabel.CATEGORY_NODE.value)
    for key, value in (
        ("uid", node_id), ("nodeId", node_id), ("catalogId", catalog_id), ("categoryId", category_id),
        ("parentNodeId", parent_node_id), ("createdAt", at), *INITIAL_DERIVED.items(),
    ):
        t = t.property(key, value)
    t = t.as_("n").add_e(EdgeLabel.HAS_CHILD.value).from_("p").to("n")
    t = t.property("timestamp", at).property("catalogId", catalog_id).property("childNodeId", node_id)
    t = _add_settings(t, node_id, catalog_id, settings, at, "n")
    t = t.V(user_vid).as_("u").add_e(EdgeLabel.CREATED_BY.value).from_("n").to("u").property("timestamp", at)
    t = t.V(category_vid).as_("c").add_e(EdgeLabel.IS_CATEGORY.value).from_("n").to("c")
    _commit_or_conflict(store, t.select("n").id_(), node_id)
    return RecomputeMessage(catalog_id, node_id, at, ChangeKind.NODE_ADDED)


def settings_history(store: GraphStore, node_id: str) -> list[tuple[int, NodeSettings]]:
    """Every settings version of a node, oldest first."""
    rows = store.run(
        store.g.V().has(VertexLabel.SETTINGS.value, "nodeId", node_id).element_map()
    )
    return sorted((row["timestamp"], NodeSettings.from_properties(row)) for row in rows)


def change_settings(
    store: GraphStore, node_id: str, settings: NodeSettings, user_id: str, at: Optional[int] = None
) -> RecomputeMessage:
    """A new immutable settings vertex; the latest hasSettings edge wins."""
    catalog_id, path = parse_node_id(node_id)
    if not path:
        settings = NodeSettings.root(settings.search_type, settings.filter, settings.required_data)
    settings.validate(node_id)
    node = _require_node(store, node_id)
    history = settings_history(store, node_id)
    if history and history[-1][1] == settings:
        return RecomputeMessage(catalog_id, node_id, history[-1][0], ChangeKind.SETTINGS_CHANGED)
    catalog_vid, clock, at = _tick(store, catalog_id, at)
    user_vid = _get_or_create(store, VertexLabel.USER, user_uid(user_id))
    t = store.g.V(catalog_vid).has("clock", clock).property("clock", at).V(node.vid).as_("n")
    t = _add_settings(t, node_id, catalog_id, settings, at, "n")
    t = t.V(user_vid).as_("u").add_e(EdgeLabel.CREATED_BY.value).from_("s").to("u").property("timestamp", at)
    _commit_or_conflict(store, t.select("s").id_(), node_id)
    return RecomputeMessage(catalog_id, node_id, at, ChangeKind.SETTINGS_CHANGED)


def rollback_settings(
    store: GraphStore, node_id: str, to_timestamp: int, user_id: str, at: Optional[int] = None
) -> RecomputeMessage:
    """Make the settings that were current at ``to_timestamp`` current again (a new vertex)."""
    history = settings_history(store, node_id)
    earlier = [s for ts, s in history if ts <= to_timestamp]
    if not earlier:
        raise NodeNotFoundError(node_id, f"no settings version at or before {to_timestamp}")
    return change_settings(store, node_id, earlier[-1], user_id, at)


def toggle_history(store: GraphStore, node_id: str) -> list[tuple[int, bool]]:
    rows = store.run(
        store.g.E().has_label(EdgeLabel.HAS_CHILD.value, EdgeLabel.HAS_DISABLED_CHILD.value)
        .has("childNodeId", node_id).project("ts", "label").by("timestamp").by(__.label())
    )
    return sorted((row["ts"], row["label"] == EdgeLabel.HAS_CHILD.value) for row in rows)


def set_enabled(
    store: GraphStore, node_id: str, enabled: bool, user_id: str, at: Optional[int] = None
) -> RecomputeMessage:
    """Enable or disable a child by a new edge from its parent (the latest edge wins)."""
    catalog_id, path = parse_node_id(node_id)
    kind = ChangeKind.ENABLED if enabled else ChangeKind.DISABLED
    if not path:
        raise InvalidSettingsError(node_id, "a catalog cannot be enabled or disabled")
    node = _require_node(store, node_id)
    history = toggle_history(store, node_id)
    if history and history[-1][1] == enabled:
        return RecomputeMessage(catalog_id, node_id, history[-1][0], kind)
    parent = _require_node(store, node_id.rsplit("/", 1)[0])
    catalog_vid, clock, at = _tick(store, catalog_id, at)
    user_vid = _get_or_create(store, VertexLabel.USER, user_uid(user_id))
    edge = EdgeLabel.HAS_CHILD if enabled else EdgeLabel.HAS_DISABLED_CHILD
    by_edge = EdgeLabel.ENABLED_BY if enabled else EdgeLabel.DISABLED_BY
    t = store.g.V(catalog_vid).has("clock", clock).property("clock", at)
    t = t.V(parent.vid).as_("p").V(node.vid).as_("n").add_e(edge.value).from_("p").to("n")
    t = t.property("timestamp", at).property("catalogId", catalog_id).property("childNodeId", node_id)
    t = t.V(user_vid).as_("u").add_e(by_edge.value).from_("n").to("u").property("timestamp", at)
    _commit_or_conflict(store, t.select("n").id_(), node_id)
    return RecomputeMessage(catalog_id, node_id, at, kind)


def settings_as_json(settings: NodeSettings) -> str:
    return json.dumps(settings.to_properties(), sort_keys=True)
