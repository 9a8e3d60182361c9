"""Catalog graph model: labels, modes, id patterns, settings and errors, defined once.

Id patterns (stored in the ``uid`` property because engines assign their own vertex ids):

* catalogNode          ``catalog:{catalogId}``
* categoryNode         ``catalog:{catalogId}/{categoryId}/.../{categoryId}`` (the path from the
                       catalog; one vertex per parent-child relationship, so a category with
                       several parents has several categoryNodes)
* categoryNodeSettings ``{nodeId}@settings:{timestamp}``
* user                 ``user:{userId}``
* category             ``category:{categoryId}``
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum

TOP_LEVEL_CATEGORY_ID = "0"  # the catalog's own record in the CategoryNode table
_ID_PART = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class VertexLabel(str, Enum):
    CATALOG_NODE = "catalogNode"
    CATEGORY_NODE = "categoryNode"
    SETTINGS = "categoryNodeSettings"
    USER = "user"
    CATEGORY = "category"


class EdgeLabel(str, Enum):
    HAS_CHILD = "hasChildCategoryNode"
    HAS_DISABLED_CHILD = "hasDisabledChildCategoryNode"
    HAS_SETTINGS = "hasSettings"
    CREATED_BY = "createdBy"
    DISABLED_BY = "disabledBy"
    ENABLED_BY = "enabledBy"
    IS_CATEGORY = "isCategory"


class MatchMode(str, Enum):
    """How a node's value relates to its parent's final value."""

    NONE = "none"  # own value (must be non-empty)
    MATCH = "match"  # the parent's final value
    APPEND = "append"  # the parent's final value combined with the own one

    @classmethod
    def parse(cls, value: object, field: str) -> MatchMode:
        try:
            return cls(str(value))
        except ValueError:
            raise InvalidSettingsError("?", f"{field} mode {value!r} is not one of none|match|append") from None


class CatalogGraphError(Exception):
    """Base class; every subclass names the id that failed."""

    def __init__(self, item_id: str, message: str):
        self.item_id = item_id
        super().__init__(f"{item_id}: {message}")


class NodeNotFoundError(CatalogGraphError):
    pass


class DuplicateNodeError(CatalogGraphError):
    pass


class InvalidSettingsError(CatalogGraphError):
    pass


class InvalidIdError(CatalogGraphError):
    pass


class VersionConflictError(CatalogGraphError):
    """A conditional write found a different version than the one it read."""


def check_id_part(value: object, what: str) -> str:
    text = str(value)
    if not _ID_PART.match(text):
        raise InvalidIdError(text, f"{what} must be 1-64 letters, digits, '_' or '-'")
    return text


def catalog_node_id(catalog_id: str) -> str:
    return f"catalog:{check_id_part(catalog_id, 'catalogId')}"


def child_node_id(parent_node_id: str, category_id: str) -> str:
    return f"{parent_node_id}/{check_id_part(category_id, 'categoryId')}"


def settings_id(node_id: str, timestamp: int) -> str:
    return f"{node_id}@settings:{timestamp}"


def user_uid(user_id: str) -> str:
    return f"user:{check_id_part(user_id, 'userId')}"


def category_uid(category_id: str) -> str:
    return f"category:{check_id_part(category_id, 'categoryId')}"


def parse_node_id(node_id: str) -> tuple[str, list[str]]:
    """(catalogId, [categoryId, ...]) for a catalogNode or categoryNode id."""
    if not node_id.startswith("catalog:"):
        raise InvalidIdError(node_id, "node ids look like catalog:{catalogId}/{categoryId}/...")
    catalog_id, *path = node_id[len("catalog:") :].split("/")
    check_id_part(catalog_id, "catalogId")
    for part in path:
        check_id_part(part, "categoryId")
    return catalog_id, path


def ancestor_ids(node_id: str) -> list[str]:
    """Ids from the catalogNode down to the parent of ``node_id`` (empty for a catalog)."""
    catalog_id, path = parse_node_id(node_id)
    ids = [catalog_node_id(catalog_id)]
    for part in path[:-1]:
        ids.append(child_node_id(ids[-1], part))
    return ids if path else []


@dataclass(frozen=True)
class NodeSettings:
    """One immutable categoryNodeSettings vertex (the catalog uses NONE everywhere)."""

    search_type: str = ""
    search_type_mode: MatchMode = MatchMode.MATCH  # none|match only (searchTypeMatchParent)
    filter: str = ""
    filter_mode: MatchMode = MatchMode.MATCH
    required_data: tuple[str, ...] = ()
    required_data_mode: MatchMode = MatchMode.MATCH

    def validate(self, node_id: str) -> NodeSettings:
        if self.search_type_mode is MatchMode.APPEND:
            raise InvalidSettingsError(node_id, "searchType supports none|match only")
        if self.search_type_mode is MatchMode.NONE and not self.search_type.strip():
            raise InvalidSettingsError(node_id, "searchType mode none needs a non-empty searchType")
        if self.filter_mode is not MatchMode.MATCH and not self.filter.strip():
            raise InvalidSettingsError(node_id, f"filter mode {self.filter_mode.value} needs a non-empty filter")
        if self.required_data_mode is not MatchMode.MATCH and not self.required_data:
            raise InvalidSettingsError(
                node_id, f"requiredData mode {self.required_data_mode.value} needs non-empty requiredData"
            )
        if any(not item or "," in item for item in self.required_data):
            raise InvalidSettingsError(node_id, "requiredData items must be non-empty and contain no ','")
        return self

    def to_properties(self) -> dict[str, object]:
        return {
            "searchType": self.search_type,
            "searchTypeMatchParent": self.search_type_mode is MatchMode.MATCH,
            "filter": self.filter,
            "filterMatchParent": self.filter_mode.value,
            "requiredData": json.dumps(list(self.required_data)),
            "requiredDataMatchParent": self.required_data_mode.value,
        }

    @classmethod
    def from_properties(cls, props: dict[str, object]) -> NodeSettings:
        return cls(
            search_type=str(props["searchType"]),
            search_type_mode=MatchMode.MATCH if props["searchTypeMatchParent"] else MatchMode.NONE,
            filter=str(props["filter"]),
            filter_mode=MatchMode(props["filterMatchParent"]),
            required_data=tuple(json.loads(str(props["requiredData"]))),
            required_data_mode=MatchMode(props["requiredDataMatchParent"]),
        )

    @classmethod
    def root(cls, search_type: str, filter: str, required_data: tuple[str, ...]) -> NodeSettings:
        """Settings of a catalogNode: its own values, no parent to match."""
        return cls(search_type, MatchMode.NONE, filter, MatchMode.NONE, tuple(required_data), MatchMode.NONE)


@dataclass(frozen=True)
class FinalSettings:
    search_type: str
    filter: str
    required_data: tuple[str, ...]


@dataclass(frozen=True)
class DerivedState:
    """What a recompute stores on a node (and in the CategoryNode table)."""

    final: FinalSettings
    enabled: bool  # the node's own latest enable/disable edge
    combined_filter: tuple[str, ...]  # blocks OR-ed together
    version: int  # newest truth timestamp on the path catalog..node that the finals reflect
