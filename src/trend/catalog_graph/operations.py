"""Changes to the catalog graph's truth. Every change adds vertices/edges (history is kept)
and returns the RecomputeMessage to publish.

Each change is validated completely first and then written by ONE traversal, so it is atomic on
every engine (Neptune and Gremlin Server commit each request by itself) and a rejected change
writes nothing. The traversal starts with a compare-and-set on the catalog's ``clock`` (integer
microseconds): two concurrent changes of one catalog cannot both pass it, and the event
timestamps of a catalog are strictly increasing in commit order (the stale-message check relies
on that). An explicit ``at`` must be microseconds (``check_timestamp``) and after the clock.

Idempotency: changing settings to the current ones or toggling to the current state adds
nothing and returns the message of the change already in effect; an add with an explicit
``node_uuid`` that exists returns that node's message; a bulk import with the same
``import_id`` resumes (deterministic node ids) and returns every message again.
"""

from __future__ import annotations

import time
import uuid

from gremlin_python.process.graph_traversal import GraphTraversal, __
from gremlin_python.process.traversal import P

from trend.catalog_graph.messages import ChangeKind, RecomputeMessage
from trend.catalog_graph.model import (
    CategoryCycleError,
    EdgeIds,
    EdgeLabel,
    InvalidIdError,
    InvalidSettingsError,
    InvalidTimestampError,
    NodeNotFoundError,
    NodeSettings,
    VersionConflictError,
    VertexLabel,
    catalog_node_id,
    category_node_id,
    category_uid,
    check_id_part,
    check_timestamp,
    parse_node_id,
    user_uid,
)
from trend.catalog_graph.snapshot import read_node
from trend.catalog_graph.store import GraphStore, new_vertex_properties, vertex_property
from trend.catalog_graph.vertex import (
    CATALOG_ID,
    CATEGORY_ID,
    CLOCK,
    CREATED_AT,
    DERIVED,
    PARENT,
    PATH,
    SETTINGS,
    TOGGLE,
    UID,
    NodeRow,
    settings_json,
    toggle_json,
)

StaleTimestampError = InvalidTimestampError  # an ``at`` not after the catalog's last event


def now_us() -> int:
    return time.time_ns() // 1000


def _tick(store: GraphStore, catalog_id: str, at: int | None) -> tuple[object, int, int]:
    """(catalog vertex id, clock read, new timestamp) for the next event of a catalog."""
    cid = catalog_node_id(catalog_id)
    if at is not None:
        check_timestamp(at, cid)
    rows = store.run(
        store.g.V().has(VertexLabel.CATALOG_NODE.value, UID, cid).project("vid", "clock").by(__.id_()).by(CLOCK)
    )
    if not rows:
        raise NodeNotFoundError(cid, "no such catalog")
    clock = rows[0]["clock"]
    if at is None:
        at = max(now_us(), clock + 1)
    elif at <= clock:
        raise InvalidTimestampError(cid, f"timestamp {at} is not after the catalog's last event {clock}")
    return rows[0]["vid"], clock, at


def _cas(store: GraphStore, catalog_vid: object, clock: int, at: int) -> GraphTraversal:
    """Start of every change: moves the clock only if nobody else did since it was read."""
    return vertex_property(store.g.V(catalog_vid).has(CLOCK, clock), CLOCK, at)


def _get_or_create(t: GraphTraversal, label: VertexLabel, uid: str, step: str) -> GraphTraversal:
    found = __.V().has(label.value, UID, uid)
    return t.coalesce(found, vertex_property(__.add_v(label.value), UID, uid)).as_(step)


def _run_change(store: GraphStore, t: GraphTraversal, item_id: str) -> None:
    if not store.run(t):
        store.rollback()
        raise VersionConflictError(item_id, "the catalog clock moved while writing; retry")
    store.commit()


def _add_settings(store, t, node_id: str, settings: NodeSettings, settings_uid: str, at: int, user: str, n="n", s="s"):
    """A settings vertex linked from the node labelled ``n``, created by the user labelled ``u``."""
    items = [(UID, settings_uid), ("nodeId", node_id), ("timestamp", at), *settings.to_properties().items()]
    t = new_vertex_properties(store, t.add_v(VertexLabel.SETTINGS.value), items).as_(s)
    t = t.add_e(EdgeLabel.HAS_SETTINGS.value).from_(n).to(s)
    t = t.property(UID, EdgeIds.has_settings(node_id, settings_uid)).property("timestamp", at)
    t = t.add_e(EdgeLabel.CREATED_BY.value).from_(s).to("u")
    return t.property(UID, EdgeIds.created_by(settings_uid, user))


def _node_properties(node_id, catalog_id, category_id, parent: NodeRow, at, settings, settings_uid):
    return [
        (UID, node_id),
        (CATALOG_ID, catalog_id),
        (CATEGORY_ID, category_id),
        (PARENT, parent.node_id),
        (PATH, _path_json(parent)),
        (CREATED_AT, at),
        (SETTINGS, settings_json(at, settings_uid, settings)),
        (DERIVED, ""),
    ]


def _path_json(parent: NodeRow) -> str:
    import json

    return json.dumps([*parent.path, parent.node_id])


def create_catalog(
    store: GraphStore, catalog_id: str, settings: NodeSettings, user_id: str, at: int | None = None
) -> RecomputeMessage:
    """A catalogNode with its own searchType/filter/requiredData (all modes none)."""
    node_id = catalog_node_id(catalog_id)
    root = NodeSettings.root(settings.search_type, settings.filter, settings.required_data).validate(node_id)
    user = user_uid(user_id)
    at = now_us() if at is None else check_timestamp(at, node_id)
    existing = store.run(store.g.V().has(VertexLabel.CATALOG_NODE.value, UID, node_id).values(CREATED_AT))
    if existing:
        return RecomputeMessage(catalog_id, node_id, existing[0], ChangeKind.CATALOG_CREATED)
    settings_uid = str(uuid.uuid4())
    t = store.g.V().has(VertexLabel.USER.value, UID, user).fold()
    t = t.coalesce(__.unfold(), vertex_property(__.add_v(VertexLabel.USER.value), UID, user)).as_("u")
    t = t.not_(__.V().has(VertexLabel.CATALOG_NODE.value, UID, node_id))  # a concurrent create won
    props = [(UID, node_id), (CATALOG_ID, catalog_id), (PATH, "[]"), (CREATED_AT, at), (CLOCK, at)]
    props += [(SETTINGS, settings_json(at, settings_uid, root)), (DERIVED, "")]
    t = new_vertex_properties(store, t.add_v(VertexLabel.CATALOG_NODE.value), props).as_("n")
    t = t.add_e(EdgeLabel.CREATED_BY.value).from_("n").to("u").property(UID, EdgeIds.created_by(node_id, user))
    t = _add_settings(store, t, node_id, root, settings_uid, at, user)
    if not store.run(t.select("n").id_()):
        store.rollback()
        return create_catalog(store, catalog_id, settings, user_id, at)
    store.commit()
    return RecomputeMessage(catalog_id, node_id, at, ChangeKind.CATALOG_CREATED)


def add_category_node(
    store: GraphStore,
    parent_node_id: str,
    category_id: str,
    settings: NodeSettings,
    user_id: str,
    at: int | None = None,
    node_uuid: str | None = None,
) -> RecomputeMessage:
    """A new categoryNode (enabled) placing ``category_id`` under a catalog or category node.

    Every add is a new placement (the same category may sit under the same parent twice); pass
    ``node_uuid`` (e.g. a request id) to make a retried add return the node it created."""
    catalog_id, _ = parse_node_id(parent_node_id)
    check_id_part(category_id, "categoryId")
    node_id = category_node_id(catalog_id, category_id, _uuid(node_uuid) if node_uuid else None)
    if category_id == "0":
        raise InvalidSettingsError(node_id, "categoryId 0 is reserved for the catalog's own record")
    settings.validate(node_id)
    user = user_uid(user_id)
    if node_uuid:
        existing = store.run(store.g.V().has(VertexLabel.CATEGORY_NODE.value, UID, node_id).values(CREATED_AT))
        if existing:
            return RecomputeMessage(catalog_id, node_id, existing[0], ChangeKind.NODE_ADDED)
    parent = read_node(store, parent_node_id)
    check_category_cycle(store, catalog_id, parent.record.category_id, category_id, node_id)
    catalog_vid, clock, at = _tick(store, catalog_id, at)
    settings_uid = str(uuid.uuid4())
    t = _get_or_create(_cas(store, catalog_vid, clock, at), VertexLabel.USER, user, "u")
    t = _get_or_create(t, VertexLabel.CATEGORY, category_uid(category_id), "c")
    t = t.V(parent.vid).as_("p").add_v(VertexLabel.CATEGORY_NODE.value)
    t = new_vertex_properties(
        store, t, _node_properties(node_id, catalog_id, category_id, parent, at, settings, settings_uid)
    )
    t = _link_new_node(t.as_("n"), parent.node_id, node_id, category_id, at, user)
    t = _add_settings(store, t, node_id, settings, settings_uid, at, user)
    _run_change(store, t.select("n").id_(), node_id)
    return RecomputeMessage(catalog_id, node_id, at, ChangeKind.NODE_ADDED)


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise InvalidIdError(str(value), "node_uuid must be a UUID") from None


def _link_new_node(t, parent_id: str, node_id: str, category_id: str, at: int, user: str, p="p", n="n", c="c"):
    """Edges of a new node ``n`` under ``p``: hasChild (its creation), createdBy, isCategory."""
    t = t.add_e(EdgeLabel.HAS_CHILD.value).from_(p).to(n)
    t = t.property(UID, EdgeIds.child(at, parent_id, node_id, True)).property("timestamp", at)
    t = t.add_e(EdgeLabel.CREATED_BY.value).from_(n).to("u").property(UID, EdgeIds.created_by(node_id, user))
    t = t.add_e(EdgeLabel.IS_CATEGORY.value).from_(n).to(c)
    return t.property(UID, EdgeIds.is_category(node_id, category_uid(category_id)))


def check_category_cycle(
    store: GraphStore, catalog_id: str, parent_category: str | None, category_id: str, node_id: str
) -> None:
    """Reject a placement that would make a category its own ancestor anywhere in the catalog
    (category level: A under B in one branch and B under A in another is a cycle too)."""
    if parent_category is None:
        return
    seen, frontier = {category_id}, [category_id]
    while frontier:
        if parent_category in seen:
            raise CategoryCycleError(node_id, f"category {category_id} is already an ancestor of {parent_category}")
        below: set[str] = set()
        for start in range(0, len(frontier), 500):
            part = frontier[start : start + 500]
            t = store.g.V().has(CATEGORY_ID, P.within(part)).has(CATALOG_ID, catalog_id)
            below.update(store.run(t.out(EdgeLabel.HAS_CHILD.value).values(CATEGORY_ID)))
        frontier = sorted(below - seen)
        seen |= below
    if parent_category in seen:
        raise CategoryCycleError(node_id, f"category {category_id} is already an ancestor of {parent_category}")


def settings_history(store: GraphStore, node_id: str) -> list[tuple[int, NodeSettings]]:
    """Every settings version of a node, oldest first."""
    rows = store.run(store.g.V().has(VertexLabel.SETTINGS.value, "nodeId", node_id).element_map())
    return sorted(((row["timestamp"], NodeSettings.from_properties(row)) for row in rows), key=lambda v: v[0])


def toggle_history(store: GraphStore, node_id: str) -> list[tuple[int, bool]]:
    """Enable (hasChild) and disable (hasDisabledChild) events of a node, oldest first."""
    rows = store.run(
        store.g.V()
        .has(UID, node_id)
        .in_e(EdgeLabel.HAS_CHILD.value, EdgeLabel.HAS_DISABLED_CHILD.value)
        .project("ts", "label")
        .by("timestamp")
        .by(__.label())
    )
    return sorted((row["ts"], row["label"] == EdgeLabel.HAS_CHILD.value) for row in rows)


def change_settings(
    store: GraphStore, node_id: str, settings: NodeSettings, user_id: str, at: int | None = None
) -> RecomputeMessage:
    """A new immutable settings vertex; the node's ``settings`` pointer moves to it."""
    catalog_id, category_id = parse_node_id(node_id)
    if category_id is None:
        settings = NodeSettings.root(settings.search_type, settings.filter, settings.required_data)
    settings.validate(node_id)
    user = user_uid(user_id)
    if at is not None:
        check_timestamp(at, node_id)
    node = read_node(store, node_id)
    if node.settings.settings == settings:
        return RecomputeMessage(catalog_id, node_id, node.settings.timestamp, ChangeKind.SETTINGS_CHANGED)
    catalog_vid, clock, at = _tick(store, catalog_id, at)
    settings_uid = str(uuid.uuid4())
    t = _get_or_create(_cas(store, catalog_vid, clock, at), VertexLabel.USER, user, "u")
    t = _add_settings(store, t.V(node.vid).as_("n"), node_id, settings, settings_uid, at, user)
    t = vertex_property(t.select("n"), SETTINGS, settings_json(at, settings_uid, settings))
    _run_change(store, t.id_(), node_id)
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


def set_enabled(
    store: GraphStore, node_id: str, enabled: bool, user_id: str, at: int | None = None
) -> RecomputeMessage:
    """Enable or disable a child by a new edge from its parent (the latest edge wins)."""
    catalog_id, category_id = parse_node_id(node_id)
    kind = ChangeKind.ENABLED if enabled else ChangeKind.DISABLED
    if category_id is None:
        raise InvalidSettingsError(node_id, "a catalog cannot be enabled or disabled")
    user = user_uid(user_id)
    if at is not None:
        check_timestamp(at, node_id)
    node = read_node(store, node_id)
    current, since = (node.toggle.enabled, node.toggle.timestamp) if node.toggle else (True, node.record.created_at)
    if current == enabled:  # a new node is enabled by its creation edge
        return RecomputeMessage(catalog_id, node_id, since, kind)
    parent = read_node(store, node.parent_id)
    catalog_vid, clock, at = _tick(store, catalog_id, at)
    edge = EdgeLabel.HAS_CHILD if enabled else EdgeLabel.HAS_DISABLED_CHILD
    by_edge = EdgeLabel.ENABLED_BY if enabled else EdgeLabel.DISABLED_BY
    t = _get_or_create(_cas(store, catalog_vid, clock, at), VertexLabel.USER, user, "u")
    t = t.V(parent.vid).as_("p").V(node.vid).as_("n").add_e(edge.value).from_("p").to("n")
    t = t.property(UID, EdgeIds.child(at, parent.node_id, node_id, enabled)).property("timestamp", at)
    t = t.add_e(by_edge.value).from_("n").to("u")
    t = t.property(UID, EdgeIds.toggled_by(at, node_id, user, enabled)).property("timestamp", at)
    t = vertex_property(t.select("n"), TOGGLE, toggle_json(at, enabled))
    _run_change(store, t.id_(), node_id)
    return RecomputeMessage(catalog_id, node_id, at, kind)
