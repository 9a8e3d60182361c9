"""Bulk import: many new categoryNodes as one event, several per traversal.

Resumable rather than atomic, because Neptune commits each request by itself: node ids are
derived from ``(catalogId, import_id, ref)``, so running the same import again after a failure
skips the nodes that exist, writes the rest and returns the messages of ALL imported subtree
roots — those created before the failure included, so none is lost. On embedded gremlite the
whole import is also one SQLite transaction (committed at the end).

Everything is validated before the first write: refs, parents (an existing node of the catalog
or the ref of an earlier new node), category ids, settings, and category-level cycles across
the whole catalog.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from gremlin_python.process.graph_traversal import __
from gremlin_python.process.traversal import P

from trend.catalog_graph.messages import ChangeKind, RecomputeMessage
from trend.catalog_graph.model import (
    CategoryCycleError,
    InvalidSettingsError,
    NodeNotFoundError,
    NodeSettings,
    VersionConflictError,
    VertexLabel,
    catalog_node_id,
    category_node_id,
    category_uid,
    check_id_part,
    parse_node_id,
    user_uid,
)
from trend.catalog_graph.operations import _add_settings, _cas, _get_or_create, _link_new_node, _tick
from trend.catalog_graph.snapshot import WITHIN_CHUNK
from trend.catalog_graph.store import GraphStore, new_vertex_properties
from trend.catalog_graph.vertex import (
    CATALOG_ID,
    CATEGORY_ID,
    CLOCK,
    CREATED_AT,
    DERIVED,
    PARENT,
    PATH,
    SETTINGS,
    UID,
    settings_json,
)

IMPORT_NAMESPACE = uuid.UUID("5b0c7f4e-3d0a-4b53-9a52-6c1f3f0b2a11")
BULK_BATCH_SIZE = 25  # nodes per traversal, one union branch each (short step chains for gremlite)


@dataclass(frozen=True)
class NewNode:
    ref: str  # unique within the import
    parent: str  # an existing node id of the catalog, or the ref of an earlier NewNode
    category_id: str
    settings: NodeSettings = field(default_factory=NodeSettings)


@dataclass
class _Plan:
    catalog_id: str
    ids: dict[str, str]  # ref -> node id
    paths: dict[str, list[str]]  # node id -> ancestors, catalog first
    parents: dict[str, str]  # node id -> parent node id
    vids: dict[str, object]  # node id -> vertex id (existing parents, existing/new imported nodes)
    created: dict[str, int]  # imported node id -> createdAt, for those that exist


def imported_node_id(catalog_id: str, import_id: str, node: NewNode) -> str:
    node_uuid = uuid.uuid5(IMPORT_NAMESPACE, f"{catalog_id}/{import_id}/{node.ref}")
    return category_node_id(catalog_id, node.category_id, str(node_uuid))


def _read(store: GraphStore, key: str, values: Sequence[str], *fields: str) -> list[dict]:
    rows = []
    for start in range(0, len(values), WITHIN_CHUNK):
        t = store.g.V().has(key, P.within(list(values[start : start + WITHIN_CHUNK]))).project("vid", *fields)
        t = t.by(__.id_())
        for name in fields:
            t = t.by(name)
        rows += store.run(t)
    return rows


def _validate(catalog_id: str, import_id: str, nodes: Sequence[NewNode]) -> dict[str, str]:
    check_id_part(import_id, "import_id")
    ids: dict[str, str] = {}
    for node in nodes:
        node_id = imported_node_id(catalog_id, import_id, node)
        if node.ref in ids:
            raise InvalidSettingsError(node_id, f"ref {node.ref!r} appears twice in the import")
        if node.category_id == "0":
            raise InvalidSettingsError(node_id, "categoryId 0 is reserved for the catalog's own record")
        node.settings.validate(node_id)
        if node.parent not in ids:
            parent_catalog, _ = parse_node_id(node.parent)
            if parent_catalog != catalog_id:
                raise InvalidSettingsError(node_id, f"parent {node.parent} is not in catalog {catalog_id}")
        ids[node.ref] = node_id
    return ids


def _plan(store: GraphStore, catalog_id: str, ids: dict[str, str], nodes: Sequence[NewNode]) -> _Plan:
    external = sorted({n.parent for n in nodes if n.parent not in ids})
    found = {r[UID]: r for r in _read(store, UID, external, UID, PATH, CATALOG_ID)}
    for parent in external:
        if parent not in found or found[parent][CATALOG_ID] != catalog_id:
            raise NodeNotFoundError(parent, "parent of an imported node does not exist in this catalog")
    plan = _Plan(catalog_id, ids, {}, {}, {p: r["vid"] for p, r in found.items()}, {})
    for parent, row in found.items():
        plan.paths[parent] = json.loads(row[PATH])
    for node in nodes:
        node_id, parent_id = ids[node.ref], ids.get(node.parent, node.parent)
        plan.parents[node_id] = parent_id
        plan.paths[node_id] = [*plan.paths[parent_id], parent_id]
    for row in _read(store, UID, list(ids.values()), UID, CREATED_AT):
        plan.vids[row[UID]] = row["vid"]
        plan.created[row[UID]] = row[CREATED_AT]
    return plan


def _check_cycles(store: GraphStore, plan: _Plan, nodes: Sequence[NewNode]) -> None:
    """Category-level: the catalog's existing parent->child category pairs plus the new ones
    must stay acyclic."""
    rows = store.run(
        store.g.V()
        .has(VertexLabel.CATEGORY_NODE.value, CATALOG_ID, plan.catalog_id)
        .project("id", "c", "p")
        .by(UID)
        .by(CATEGORY_ID)
        .by(PARENT)
    )
    category_of = {r["id"]: r["c"] for r in rows}
    category_of.update({plan.ids[n.ref]: n.category_id for n in nodes})
    below: dict[str, set[str]] = defaultdict(set)
    for node_id, parent_id in [(r["id"], r["p"]) for r in rows] + list(plan.parents.items()):
        if parent_id in category_of:
            below[category_of[parent_id]].add(category_of[node_id])
    state: dict[str, int] = {}  # 1 visiting, 2 done
    for start in list(below):
        stack = [(start, iter(sorted(below[start])))]
        state[start] = state.get(start, 0) or 1
        if state[start] == 2:
            continue
        while stack:
            category, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[category] = 2
                stack.pop()
            elif state.get(child) == 1:
                culprit = next((plan.ids[n.ref] for n in nodes if n.category_id == child), child)
                raise CategoryCycleError(culprit, f"category {child} would become its own ancestor")
            elif state.get(child) is None:
                state[child] = 1
                stack.append((child, iter(sorted(below.get(child, ())))))


def _categories(store: GraphStore, category_ids: list[str]) -> dict[str, object]:
    """Vertex ids of category vertices, creating the missing ones in batches (idempotent)."""
    uids = {category_uid(c): c for c in category_ids}
    found = {uids[r[UID]]: r["vid"] for r in _read(store, UID, list(uids), UID)}
    missing = [c for c in category_ids if c not in found]
    for start in range(0, len(missing), 40):
        batch = missing[start : start + 40]
        t = store.g
        for i, c in enumerate(batch):
            t = new_vertex_properties(store, t.add_v(VertexLabel.CATEGORY.value), [(UID, category_uid(c))]).as_(f"c{i}")
        row = store.run(t.select(*[f"c{i}" for i in range(len(batch))]))[0] if len(batch) > 1 else None
        if row is None:
            found[batch[0]] = store.run(t.id_())[0]
        else:
            found.update({c: row[f"c{i}"].id for i, c in enumerate(batch)})
    return found


def add_category_nodes_bulk(
    store: GraphStore,
    catalog_id: str,
    nodes: Sequence[NewNode],
    user_id: str,
    import_id: str,
    at: int | None = None,
) -> list[RecomputeMessage]:
    """Import ``nodes`` (parents before children). Returns one message per imported subtree
    root, or one ``childrenAdded`` message per existing parent that got several."""
    ids = _validate(catalog_id, import_id, nodes)
    user = user_uid(user_id)
    plan = _plan(store, catalog_id, ids, nodes)
    todo = [n for n in nodes if ids[n.ref] not in plan.created]
    if todo:
        _check_cycles(store, plan, todo)
        category_vids = _categories(store, sorted({n.category_id for n in todo}))
        catalog_vid, clock, at = _tick(store, catalog_id, at)
        tick = _get_or_create(_cas(store, catalog_vid, clock, at), VertexLabel.USER, user, "u")
        user_vids = store.run(tick.id_())
        if not user_vids:
            raise VersionConflictError(catalog_node_id(catalog_id), "the catalog clock moved; retry the import")
        for batch in _ready_batches(plan, todo):
            _write_batch(store, plan, batch, catalog_vid, category_vids, user_vids[0], user, at)
        store.commit()
    return _messages(plan, nodes)


def _write_batch(
    store, plan: _Plan, batch: Sequence[NewNode], catalog_vid, category_vids, user_vid, user: str, at: int
) -> None:
    """One traversal, one ``union`` branch per node (parents exist already). It first checks
    that no other event of the catalog happened since the import's tick (the clock still reads
    ``at``), so the imported nodes' timestamps stay in order."""
    branches = []
    for node in batch:
        node_id = plan.ids[node.ref]
        parent_id = plan.parents[node_id]
        settings_uid = str(uuid.uuid4())
        props = [
            (UID, node_id),
            (CATALOG_ID, plan.catalog_id),
            (CATEGORY_ID, node.category_id),
            (PARENT, parent_id),
            (PATH, json.dumps(plan.paths[node_id])),
            (CREATED_AT, at),
            (SETTINGS, settings_json(at, settings_uid, node.settings)),
            (DERIVED, ""),
        ]
        t = __.V(plan.vids[parent_id]).as_("p").V(category_vids[node.category_id]).as_("c").V(user_vid).as_("u")
        t = new_vertex_properties(store, t.add_v(VertexLabel.CATEGORY_NODE.value), props).as_("n")
        t = _link_new_node(t, parent_id, node_id, node.category_id, at, user)
        t = _add_settings(store, t, node_id, node.settings, settings_uid, at, user)
        branches.append(t.select("n").id_())
    vids = store.run(store.g.V(catalog_vid).has(CLOCK, at).union(*branches))
    if len(vids) != len(batch):
        store.rollback()
        raise VersionConflictError(
            catalog_node_id(plan.catalog_id), "another change of the catalog ran during the import; retry it"
        )
    for node, vid in zip(batch, vids, strict=True):
        plan.vids[plan.ids[node.ref]] = vid
        plan.created[plan.ids[node.ref]] = at


def _ready_batches(plan: _Plan, todo: Sequence[NewNode]):
    """Batches of nodes whose parents exist, parents' batches first."""
    pending = list(todo)
    while pending:
        ready = [n for n in pending if plan.parents[plan.ids[n.ref]] in plan.vids]
        for start in range(0, len(ready), BULK_BATCH_SIZE):
            yield ready[start : start + BULK_BATCH_SIZE]
        done = {n.ref for n in ready}
        pending = [n for n in pending if n.ref not in done]


def _messages(plan: _Plan, nodes: Sequence[NewNode]) -> list[RecomputeMessage]:
    roots: dict[str, list[str]] = defaultdict(list)
    for node in nodes:
        if node.parent not in plan.ids:
            roots[node.parent].append(plan.ids[node.ref])
    messages = []
    for parent, children in sorted(roots.items()):
        if len(children) == 1:
            messages.append(
                RecomputeMessage(plan.catalog_id, children[0], plan.created[children[0]], ChangeKind.NODE_ADDED)
            )
        else:
            version = max(plan.created[c] for c in children)
            messages.append(RecomputeMessage(plan.catalog_id, parent, version, ChangeKind.CHILDREN_ADDED))
    return messages
