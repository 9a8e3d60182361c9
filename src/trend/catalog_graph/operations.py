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

from gremlin_python.process.graph_traversal import __
from gremlin_python.process.traversal import Cardinality, P

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


def _new_vertex_props(store: GraphStore, t, items):
    """Properties of a vertex created in this traversal. On gremlite, list cardinality skips the
    look-up for an existing value (there is none on a new vertex: same result, ~2x faster);
    Gremlin Server/Neptune get the usual single cardinality."""
    cardinality = Cardinality.list_ if store.embedded else Cardinality.single
    for key, value in items:
        t = t.property(cardinality, key, value)
    return t


def now_us() -> int:
    return time.time_ns() // 1000


def _find_node(store: GraphStore, node_id: str) -> NodeInfo | None:
    rows = store.run(store.g.V().has("uid", node_id).project("vid", "createdAt").by(__.id_()).by("createdAt"))
    return NodeInfo(rows[0]["vid"], node_id, rows[0]["createdAt"]) if rows else None


def _require_node(store: GraphStore, node_id: str) -> NodeInfo:
    info = _find_node(store, node_id)
    if info is None:
        raise NodeNotFoundError(node_id, "no such catalog or category node")
    return info


def _get_or_create(store: GraphStore, label: VertexLabel, uid: str) -> object:
    t = (
        store.g.V()
        .has(label.value, "uid", uid)
        .fold()
        .coalesce(__.unfold(), __.add_v(label.value).property("uid", uid))
        .id_()
    )
    return store.run(t)[0]


def _tick(store: GraphStore, catalog_id: str, at: int | None) -> tuple[object, int, int]:
    """(catalog vertex id, clock read, new timestamp) for the next event of a catalog."""
    cid = catalog_node_id(catalog_id)
    rows = store.run(
        store.g.V().has(VertexLabel.CATALOG_NODE.value, "uid", cid).project("vid", "clock").by(__.id_()).by("clock")
    )
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


def _add_settings(store: GraphStore, t, node_id: str, catalog_id: str, settings: NodeSettings, at: int, node_step: str):
    t = _new_vertex_props(
        store,
        t.add_v(VertexLabel.SETTINGS.value),
        [
            ("uid", settings_id(node_id, at)),
            ("nodeId", node_id),
            ("catalogId", catalog_id),
            ("timestamp", at),
            *settings.to_properties().items(),
        ],
    )
    t = t.as_("s").add_e(EdgeLabel.HAS_SETTINGS.value).from_(node_step).to("s")
    return t.property("timestamp", at).property("catalogId", catalog_id).property("nodeId", node_id)


def create_catalog(
    store: GraphStore, catalog_id: str, settings: NodeSettings, user_id: str, at: int | None = None
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
    t = _add_settings(store, t.as_("n"), node_id, catalog_id, root, at, "n")
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
    at: int | None = None,
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
    t = _new_vertex_props(
        store,
        t.V(parent.vid).as_("p").add_v(VertexLabel.CATEGORY_NODE.value),
        [
            ("uid", node_id),
            ("nodeId", node_id),
            ("catalogId", catalog_id),
            ("categoryId", category_id),
            ("parentNodeId", parent_node_id),
            ("createdAt", at),
            *INITIAL_DERIVED.items(),
        ],
    )
    t = t.as_("n").add_e(EdgeLabel.HAS_CHILD.value).from_("p").to("n")
    t = t.property("timestamp", at).property("catalogId", catalog_id).property("childNodeId", node_id)
    t = _add_settings(store, t, node_id, catalog_id, settings, at, "n")
    t = t.V(user_vid).as_("u").add_e(EdgeLabel.CREATED_BY.value).from_("n").to("u").property("timestamp", at)
    t = t.V(category_vid).as_("c").add_e(EdgeLabel.IS_CATEGORY.value).from_("n").to("c")
    _commit_or_conflict(store, t.select("n").id_(), node_id)
    return RecomputeMessage(catalog_id, node_id, at, ChangeKind.NODE_ADDED)


def settings_history(store: GraphStore, node_id: str) -> list[tuple[int, NodeSettings]]:
    """Every settings version of a node, oldest first."""
    rows = store.run(store.g.V().has(VertexLabel.SETTINGS.value, "nodeId", node_id).element_map())
    return sorted((row["timestamp"], NodeSettings.from_properties(row)) for row in rows)


def change_settings(
    store: GraphStore, node_id: str, settings: NodeSettings, user_id: str, at: int | None = None
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
    t = _add_settings(store, t, node_id, catalog_id, settings, at, "n")
    t = t.V(user_vid).as_("u").add_e(EdgeLabel.CREATED_BY.value).from_("s").to("u").property("timestamp", at)
    _commit_or_conflict(store, t.select("s").id_(), node_id)
    return RecomputeMessage(catalog_id, node_id, at, ChangeKind.SETTINGS_CHANGED)


def rollback_settings(
    store: GraphStore, node_id: str, to_timestamp: int, user_id: str, at: int | None = None
) -> RecomputeMessage:
    """Make the settings that were current at ``to_timestamp`` current again (a new vertex)."""
    history = settings_history(store, node_id)
    earlier = [s for ts, s in history if ts <= to_timestamp]
    if not earlier:
        raise NodeNotFoundError(node_id, f"no settings version at or before {to_timestamp}")
    return change_settings(store, node_id, earlier[-1], user_id, at)


def toggle_history(store: GraphStore, node_id: str) -> list[tuple[int, bool]]:
    rows = store.run(
        store.g.E()
        .has_label(EdgeLabel.HAS_CHILD.value, EdgeLabel.HAS_DISABLED_CHILD.value)
        .has("childNodeId", node_id)
        .project("ts", "label")
        .by("timestamp")
        .by(__.label())
    )
    return sorted((row["ts"], row["label"] == EdgeLabel.HAS_CHILD.value) for row in rows)


def set_enabled(
    store: GraphStore, node_id: str, enabled: bool, user_id: str, at: int | None = None
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


BULK_BATCH_SIZE = 8  # nodes per traversal: gremlite builds one Python frame per step


@dataclass(frozen=True)
class NewNode:
    parent_node_id: str
    category_id: str
    settings: NodeSettings


def add_category_nodes_bulk(
    store: GraphStore, catalog_id: str, new_nodes: list[NewNode], user_id: str, at: int | None = None
) -> list[RecomputeMessage]:
    """Import many nodes as one event (same timestamp), writing the same vertices and edges as
    ``add_category_node`` but several nodes per traversal. Parents must come before children.
    Returns one message per imported subtree root. Nodes that already exist are skipped."""
    root_id = catalog_node_id(catalog_id)
    ids = [child_node_id(n.parent_node_id, n.category_id) for n in new_nodes]
    for node_id, node in zip(ids, new_nodes):
        if parse_node_id(node.parent_node_id)[0] != catalog_id:
            raise InvalidSettingsError(node_id, f"parent is not in catalog {catalog_id}")
        if node.category_id in parse_node_id(node.parent_node_id)[1] or node.category_id == "0":
            raise DuplicateNodeError(node_id, "category is already an ancestor (cycle) or reserved")
        node.settings.validate(node_id)
    existing_rows = store.run(
        store.g.V()
        .has_label(VertexLabel.CATALOG_NODE.value, VertexLabel.CATEGORY_NODE.value)
        .has("catalogId", catalog_id)
        .project("vid", "nodeId")
        .by(__.id_())
        .by("nodeId")
    )
    vids = {row["nodeId"]: row["vid"] for row in existing_rows}
    todo = [(nid, n) for nid, n in zip(ids, new_nodes) if nid not in vids]
    if not todo:
        return []
    new_ids = {nid for nid, _ in todo}
    for nid, node in todo:
        if node.parent_node_id not in vids and node.parent_node_id not in new_ids:
            raise NodeNotFoundError(node.parent_node_id, f"parent of {nid} does not exist")
    catalog_vid, clock, at = _tick(store, catalog_id, at)
    if not store.run(store.g.V(catalog_vid).has("clock", clock).property("clock", at).id_()):
        raise VersionConflictError(root_id, "the catalog clock moved while importing; retry")
    user_vid = _get_or_create(store, VertexLabel.USER, user_uid(user_id))
    category_vids = _categories(store, sorted({n.category_id for _, n in todo}))
    for start in range(0, len(todo), BULK_BATCH_SIZE):
        batch = todo[start : start + BULK_BATCH_SIZE]
        t = store.g.V(user_vid).as_("u")
        labels: list[str] = []
        batch_labels: dict[str, str] = {}
        for i, (nid, node) in enumerate(batch):
            n = f"n{i}"
            parent_step = batch_labels.get(node.parent_node_id)
            if parent_step is None:  # the parent exists already (earlier batch or before)
                parent_step = f"p{i}"
                t = t.V(vids[node.parent_node_id]).as_(parent_step)
            t = _new_vertex_props(
                store,
                t.add_v(VertexLabel.CATEGORY_NODE.value),
                [
                    ("uid", nid),
                    ("nodeId", nid),
                    ("catalogId", catalog_id),
                    ("categoryId", node.category_id),
                    ("parentNodeId", node.parent_node_id),
                    ("createdAt", at),
                    *INITIAL_DERIVED.items(),
                ],
            )
            t = t.as_(n).add_e(EdgeLabel.HAS_CHILD.value).from_(parent_step).to(n)
            batch_labels[nid] = n
            t = t.property("timestamp", at).property("catalogId", catalog_id).property("childNodeId", nid)
            t = _add_settings(store, t, nid, catalog_id, node.settings, at, n)
            t = t.add_e(EdgeLabel.CREATED_BY.value).from_(n).to("u").property("timestamp", at)
            t = (
                t.V(category_vids[node.category_id])
                .as_(f"c{i}")
                .add_e(EdgeLabel.IS_CATEGORY.value)
                .from_(n)
                .to(f"c{i}")
            )
            labels.append(n)
        row = _selected(store, t, labels)
        for i, (nid, _) in enumerate(batch):
            vids[nid] = row[f"n{i}"]
    store.commit()
    return [
        RecomputeMessage(catalog_id, nid, at, ChangeKind.NODE_ADDED)
        for nid, node in todo
        if node.parent_node_id not in new_ids
    ]


def _categories(store: GraphStore, category_ids: list[str]) -> dict[str, object]:
    """Vertex ids of category vertices, creating the missing ones in batches."""
    uids = {category_uid(c): c for c in category_ids}
    found: dict[str, object] = {}
    chunk = 500
    keys = list(uids)
    for start in range(0, len(keys), chunk):
        rows = store.run(
            store.g.V()
            .has(VertexLabel.CATEGORY.value, "uid", P.within(keys[start : start + chunk]))
            .project("vid", "uid")
            .by(__.id_())
            .by("uid")
        )
        found.update({uids[r["uid"]]: r["vid"] for r in rows})
    missing = [c for c in category_ids if c not in found]
    for start in range(0, len(missing), 40):
        batch = missing[start : start + 40]
        t = store.g
        for i, c in enumerate(batch):
            t = t.add_v(VertexLabel.CATEGORY.value).property("uid", category_uid(c)).as_(f"c{i}")
        labels = [f"c{i}" for i in range(len(batch))]
        row = _selected(store, t, labels)
        found.update({c: row[f"c{i}"] for i, c in enumerate(batch)})
    return found


def _selected(store: GraphStore, t, labels: list[str]) -> dict[str, object]:
    """Vertex ids of the labelled steps (select without by(): no per-label path copies)."""
    if len(labels) == 1:
        return {labels[0]: store.run(t.select(labels[0]).id_())[0]}
    row = store.run(t.select(*labels))[0]
    return {label: vertex.id for label, vertex in row.items()}
