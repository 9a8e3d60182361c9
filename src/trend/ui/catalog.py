"""The one adapter between the UI and trend.catalog_graph (its public read functions only).

If catalog_graph's read API moves, only this module changes. Everything returned is plain JSON
(timestamps are the graph's microseconds since the epoch, plus an ISO rendering).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

from trend.catalog_graph.airflow_tasks import open_graph
from trend.catalog_graph.history import catalog_as_of, node_history
from trend.catalog_graph.model import (
    TOP_LEVEL_CATEGORY_ID,
    CatalogGraphError,
    DerivedState,
    NodeNotFoundError,
    NodeSettings,
    VertexLabel,
    catalog_node_id,
    parse_node_id,
)
from trend.catalog_graph.snapshot import read_catalog
from trend.catalog_graph.store import GraphStore

__all__ = ["CatalogGraphError", "NodeNotFoundError", "catalogs", "history", "open_graph", "tree", "tree_as_of"]


def iso_us(us: int | None) -> str | None:
    if us is None:
        return None
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC).isoformat(timespec="seconds")


def _settings(settings: NodeSettings | None) -> dict | None:
    if settings is None:
        return None
    return {
        key: (value.value if isinstance(value, Enum) else list(value) if isinstance(value, tuple) else value)
        for key, value in vars(settings).items()
    }


def _state(state: DerivedState | None) -> dict[str, Any]:
    if state is None:
        return {"computed": False}
    return {
        "computed": True,
        "search_type": state.final.search_type,
        "filter": state.final.filter,
        "required_data": list(state.final.required_data),
        "enabled": state.enabled,
        "combined_filter": list(state.combined_filter),
        "version": state.version,
        "version_at": iso_us(state.version),
    }


def _parent(node_id: str) -> str | None:
    _, path = parse_node_id(node_id)
    return node_id.rsplit("/", 1)[0] if path else None


def _category(node_id: str) -> str:
    _, path = parse_node_id(node_id)
    return path[-1] if path else TOP_LEVEL_CATEGORY_ID


def catalogs(store: GraphStore) -> list[str]:
    return sorted(str(c) for c in store.run(store.g.V().has_label(VertexLabel.CATALOG_NODE.value).values("catalogId")))


def tree(store: GraphStore, catalog_id: str) -> list[dict]:
    """Every node of the catalog with its stored final settings and combined filter, by path."""
    snapshot = read_catalog(store, catalog_id)
    nodes = []
    for node_id, record in snapshot.truth.nodes.items():
        stored = snapshot.stored.get(node_id)
        nodes.append(
            {
                "node_id": node_id,
                "category_id": record.category_id,
                "parent_id": record.parent_id,
                "created_at": iso_us(record.created_at),
            }
            | _state(stored.state if stored else None)
        )
    return sorted(nodes, key=lambda n: n["node_id"])


def tree_as_of(store: GraphStore, catalog_id: str, at_us: int) -> list[dict]:
    """The tree as it was at ``at_us``: nodes that existed then, with the values derived then."""
    catalog_node_id(catalog_id)  # validates the id
    states = catalog_as_of(store, catalog_id, at_us)
    nodes = [
        {"node_id": node_id, "category_id": _category(node_id), "parent_id": _parent(node_id)} | _state(state)
        for node_id, state in states.items()
    ]
    return sorted(nodes, key=lambda n: n["node_id"])


def history(store: GraphStore, node_id: str) -> list[dict]:
    """Settings versions and enable/disable events of one node, oldest first."""
    parse_node_id(node_id)  # a malformed id is InvalidIdError, not "no history"
    return [
        {"timestamp": e.timestamp, "at": iso_us(e.timestamp), "kind": e.kind, "settings": _settings(e.settings)}
        for e in node_history(store, node_id)
    ]
