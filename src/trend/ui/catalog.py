"""The one adapter between the UI and trend.catalog_graph (its public read functions only).

If catalog_graph's read API moves, only this module changes. Everything returned is plain JSON
(timestamps are the graph's microseconds since the epoch, plus an ISO rendering).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from trend.catalog_graph.airflow_tasks import open_graph
from trend.catalog_graph.combined import flatten
from trend.catalog_graph.model import (
    CatalogGraphError,
    NodeNotFoundError,
    NodeSettings,
    VertexLabel,
    catalog_node_id,
    parse_node_id,
)
from trend.catalog_graph.read_api import CatalogTree, TreeNode, catalog_as_of, catalog_tree, node_history
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
        "search_type": settings.search_type.value if settings.search_type else None,
        "search_type_mode": settings.search_type_mode.value,
        "filter": settings.filter.text if settings.filter else None,
        "filter_mode": settings.filter_mode.value,
        "required_data": list(settings.required_data),
        "required_data_mode": settings.required_data_mode.value,
    }


def _blocks(combined: dict | None) -> list[str]:
    """The combined filter as readable OR-ed blocks: a filter and the categories it scopes."""
    return [f"{text} AND categoryId IN ({', '.join(sorted(cats))})" for text, cats in sorted(flatten(combined).items())]


def _node(node: TreeNode) -> dict[str, Any]:
    out: dict[str, Any] = {"node_id": node.node_id, "category_id": node.category_id, "parent_id": node.parent_id}
    state = node.state
    if state is None:
        return out | {"computed": False}
    return out | {
        "computed": True,
        "search_type": state.final.search_type,
        "filter": state.final.filter.text,
        "required_data": list(state.final.required_data),
        "enabled": state.enabled,
        "combined_filter": _blocks(node.combined_filter),
        "combined_filter_json": node.combined_filter,
        "version": state.version,
        "version_at": iso_us(state.version),
    }


def _nodes(found: CatalogTree) -> list[dict]:
    return sorted((_node(n) for n in found.walk()), key=lambda n: n["node_id"])


def catalogs(store: GraphStore) -> list[str]:
    return sorted(str(c) for c in store.run(store.g.V().has_label(VertexLabel.CATALOG_NODE.value).values("catalogId")))


def tree(store: GraphStore, catalog_id: str) -> list[dict]:
    """Every node of the catalog with its stored final settings and combined filter."""
    return _nodes(catalog_tree(store, catalog_id))


def tree_as_of(store: GraphStore, catalog_id: str, at_us: int) -> list[dict]:
    """The tree as it was at ``at_us``: nodes that existed then, with the values derived then."""
    catalog_node_id(catalog_id)  # validates the id
    return _nodes(catalog_as_of(store, catalog_id, at_us))


def history(store: GraphStore, node_id: str) -> list[dict]:
    """Settings versions and enable/disable events of one node, oldest first."""
    parse_node_id(node_id)  # a malformed id is InvalidIdError, not "no history"
    return [
        {"timestamp": e.timestamp, "at": iso_us(e.timestamp), "kind": e.kind, "settings": _settings(e.settings)}
        for e in node_history(store, node_id)
    ]
