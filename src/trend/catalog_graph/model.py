"""Catalog graph model: labels, enums, id patterns, settings and errors, defined once.

Vertex ids follow the design (stored in the ``uid`` property, because engines assign their own
vertex ids):

* catalogNode          ``catalogNode_{catalogId}``
* categoryNode         ``categoryNode_{catalogId}_{categoryId}_{uuid}`` (one placement of a
                       category under a parent; the uuid lets the same category sit under the
                       same parent twice, e.g. with different filters)
* categoryNodeSettings a random uuid
* user                 ``user_{userId}``
* category             ``category_{categoryId}``

Edge ids (``uid`` property of the edge), as the design writes them:

* hasChildCategoryNode / hasDisabledChildCategoryNode
                       ``{timestamp}_{parent}_hasChild_{child}`` / ``..._hasDisabledChild_...``
* hasSettings          ``{node}_hasSettings_{settings}``
* createdBy            ``{node or settings}_createdBy_{user}``
* enabledBy/disabledBy ``{timestamp}_{node}_enabledBy_{user}`` (the design has no timestamp in
                       these two, but a user toggles the same node many times: the prefix keeps
                       the ids unique, as in hasChild)
* isCategory           ``{node}_isCategory_{category}``

Catalog and category ids are 1-64 letters, digits or ``-`` (no ``_``: it separates the parts
of an id); ``0`` is reserved for the catalog's own record. User ids may also hold ``_ . @``.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trend.catalog_graph.filters import Filter

TOP_LEVEL_CATEGORY_ID = "0"  # the catalog's own record in the CategoryNode table
_ID_PART = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_USER_ID = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
CATALOG_PREFIX = "catalogNode_"
CATEGORY_NODE_PREFIX = "categoryNode_"
# Timestamps are integer microseconds since the epoch; an explicit ``at`` outside this window is
# in the wrong unit (seconds ~1.7e9, milliseconds ~1.7e12, nanoseconds ~1.7e18).
MIN_TIMESTAMP_US = 10**15  # 2001-09-09
MAX_TIMESTAMP_US = 10**17  # year 5138


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


class CatalogGraphError(Exception):
    """Base class; every subclass names the id that failed."""

    def __init__(self, item_id: str, message: str):
        self.item_id = item_id
        super().__init__(f"{item_id}: {message}")


class NodeNotFoundError(CatalogGraphError):
    pass


class DuplicateNodeError(CatalogGraphError):
    pass


class CategoryCycleError(DuplicateNodeError):
    """Placing the category there would make a category its own ancestor."""


class InvalidSettingsError(CatalogGraphError):
    pass


class InvalidIdError(CatalogGraphError):
    pass


class InvalidTimestampError(CatalogGraphError):
    """An explicit timestamp in the wrong unit, or not after the catalog's last event."""


class VersionConflictError(CatalogGraphError):
    """A conditional write found a different version than the one it read."""


class SearchType(str, Enum):
    SELL_OFFER = "sellOffer"
    PRODUCT = "product"
    VARIANT_PRODUCT = "variantProduct"


class MatchMode(str, Enum):
    """How a node's value relates to its parent's final value."""

    NONE = "none"  # own value (must be non-empty)
    MATCH = "match"  # the parent's final value
    APPEND = "append"  # the parent's final value combined with the own one

    @classmethod
    def parse(cls, value: object, item_id: str, what: str) -> MatchMode:
        try:
            return cls(value.value if isinstance(value, Enum) else str(value))
        except ValueError:
            raise InvalidSettingsError(item_id, f"{what} {value!r} is not one of none|match|append") from None


def check_id_part(value: object, what: str) -> str:
    text = str(value)
    if not _ID_PART.match(text):
        raise InvalidIdError(text, f"{what} must be 1-64 letters, digits or '-'")
    return text


def check_timestamp(at: int, item_id: str) -> int:
    if isinstance(at, bool) or not isinstance(at, int) or not MIN_TIMESTAMP_US <= at < MAX_TIMESTAMP_US:
        raise InvalidTimestampError(item_id, f"at={at!r} is not integer microseconds since the epoch (wrong unit?)")
    return at


def catalog_node_id(catalog_id: str) -> str:
    return f"{CATALOG_PREFIX}{check_id_part(catalog_id, 'catalogId')}"


def category_node_id(catalog_id: str, category_id: str, node_uuid: str | None = None) -> str:
    check_id_part(catalog_id, "catalogId")
    check_id_part(category_id, "categoryId")
    return f"{CATEGORY_NODE_PREFIX}{catalog_id}_{category_id}_{node_uuid or uuid.uuid4()}"


def user_uid(user_id: str) -> str:
    if not _USER_ID.match(str(user_id)):
        raise InvalidIdError(str(user_id), "userId must be 1-128 letters, digits or _ . @ -")
    return f"user_{user_id}"


def category_uid(category_id: str) -> str:
    return f"category_{check_id_part(category_id, 'categoryId')}"


def parse_node_id(node_id: str) -> tuple[str, str | None]:
    """(catalogId, categoryId) of a categoryNode id, (catalogId, None) for a catalogNode id."""
    if node_id.startswith(CATALOG_PREFIX):
        return check_id_part(node_id[len(CATALOG_PREFIX) :], "catalogId"), None
    parts = node_id[len(CATEGORY_NODE_PREFIX) :].split("_") if node_id.startswith(CATEGORY_NODE_PREFIX) else []
    if len(parts) != 3 or not _UUID.match(parts[2]):
        raise InvalidIdError(
            node_id, "node ids look like catalogNode_{catalogId} or categoryNode_{catalogId}_{categoryId}_{uuid}"
        )
    return check_id_part(parts[0], "catalogId"), check_id_part(parts[1], "categoryId")


def node_uuid(node_id: str) -> str:
    return node_id.rsplit("_", 1)[1]


class EdgeIds:
    """The design's edge id patterns."""

    @staticmethod
    def child(at: int, parent: str, child: str, enabled: bool) -> str:
        return f"{at}_{parent}_{'hasChild' if enabled else 'hasDisabledChild'}_{child}"

    @staticmethod
    def has_settings(node: str, settings: str) -> str:
        return f"{node}_hasSettings_{settings}"

    @staticmethod
    def created_by(subject: str, user: str) -> str:
        return f"{subject}_createdBy_{user}"

    @staticmethod
    def toggled_by(at: int, node: str, user: str, enabled: bool) -> str:
        return f"{at}_{node}_{'enabledBy' if enabled else 'disabledBy'}_{user}"

    @staticmethod
    def is_category(node: str, category: str) -> str:
        return f"{node}_isCategory_{category}"


def _coerce_search_type(value: object) -> Any:
    if value is None or value == "" or isinstance(value, SearchType):
        return value or None
    try:
        return SearchType(str(value))
    except ValueError:
        return value  # validate() names the node


def _coerce_mode(value: object) -> Any:
    if isinstance(value, bool):  # the design's searchTypeMatchParent is a boolean
        return MatchMode.MATCH if value else MatchMode.NONE
    try:
        return MatchMode(value.value if isinstance(value, Enum) else str(value))
    except ValueError:
        return value  # validate() names the node


@dataclass(frozen=True)
class NodeSettings:
    """One immutable categoryNodeSettings vertex (the catalog uses NONE everywhere).

    The fields are typed as what they hold once parsed. Construction also takes what a request
    sends — modes as strings (``"append"``) or booleans (the design's searchTypeMatchParent), the
    search type as a string, the filter as JSON text or a dict — and parses it here;
    ``validate(node_id)`` rejects what did not parse, naming the node. With mode ``match`` a
    value is ignored and not stored (the design: match stores nothing)."""

    search_type: SearchType | None = None
    search_type_mode: MatchMode = MatchMode.MATCH  # none|match (searchTypeMatchParent)
    filter: Filter | None = None
    filter_mode: MatchMode = MatchMode.MATCH
    required_data: tuple[str, ...] = ()
    required_data_mode: MatchMode = MatchMode.MATCH
    errors: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "search_type_mode", _coerce_mode(self.search_type_mode))
        set_(self, "filter_mode", _coerce_mode(self.filter_mode))
        set_(self, "required_data_mode", _coerce_mode(self.required_data_mode))
        set_(self, "search_type", _coerce_search_type(self.search_type))
        raw: Any = self.required_data
        if isinstance(raw, list | tuple | set | frozenset):
            set_(self, "required_data", tuple(sorted({str(v) for v in raw})))
        set_(self, "errors", tuple(self._parse_filter()))
        if self.search_type_mode is MatchMode.MATCH:
            set_(self, "search_type", None)
        if self.filter_mode is MatchMode.MATCH:
            set_(self, "filter", None)
        if self.required_data_mode is MatchMode.MATCH:
            set_(self, "required_data", ())

    def _parse_filter(self) -> list[str]:
        from trend.catalog_graph.filters import parse_filter

        raw: Any = self.filter
        if raw is None or raw == "":
            object.__setattr__(self, "filter", None)
            return []
        try:
            object.__setattr__(self, "filter", parse_filter(raw, "?"))
        except InvalidSettingsError as exc:
            return [str(exc).split(": ", 1)[1]]
        return []

    def validate(self, node_id: str) -> NodeSettings:
        """Raise ``InvalidSettingsError(node_id, ...)`` unless these are valid settings."""
        for what, mode in (
            ("searchTypeMatchParent", self.search_type_mode),
            ("filterMatchParent", self.filter_mode),
            ("requiredDataMatchParent", self.required_data_mode),
        ):
            MatchMode.parse(mode, node_id, what)
        if self.errors:
            raise InvalidSettingsError(node_id, self.errors[0])
        if self.search_type_mode is MatchMode.APPEND:
            raise InvalidSettingsError(node_id, "searchType supports none|match only")
        if self.search_type_mode is MatchMode.NONE and not isinstance(self.search_type, SearchType):
            allowed = "|".join(s.value for s in SearchType)
            raise InvalidSettingsError(node_id, f"searchType {self.search_type!r} is not one of {allowed}")
        if self.filter_mode is not MatchMode.MATCH and self.filter is None:
            raise InvalidSettingsError(node_id, f"filter mode {self.filter_mode.value} needs a non-empty filter")
        if not isinstance(self.required_data, tuple):
            raise InvalidSettingsError(node_id, "requiredData must be a list of strings")
        if self.required_data_mode is not MatchMode.MATCH and not self.required_data:
            raise InvalidSettingsError(
                node_id, f"requiredData mode {self.required_data_mode.value} needs non-empty requiredData"
            )
        if any(not item.strip() or len(item) > 128 for item in self.required_data):
            raise InvalidSettingsError(node_id, "requiredData items must be non-empty and at most 128 characters")
        return self

    @property
    def all_none(self) -> bool:
        """All modes none: the node ignores its parent, so changes above stop propagating here."""
        return all(m is MatchMode.NONE for m in (self.search_type_mode, self.filter_mode, self.required_data_mode))

    def to_properties(self) -> dict[str, object]:
        """The settings vertex's properties (design names); match modes store no value."""
        props: dict[str, object] = {
            "searchTypeMatchParent": self.search_type_mode is MatchMode.MATCH,
            "filterMatchParent": self.filter_mode.value,
            "requiredDataMatchParent": self.required_data_mode.value,
        }
        if self.search_type is not None:
            props["searchType"] = self.search_type.value
        if self.filter is not None:
            props["filter"] = self.filter.text
        if self.required_data:
            props["requiredData"] = json.dumps(list(self.required_data))
        return props

    @classmethod
    def from_properties(cls, props: dict[str, Any]) -> NodeSettings:
        """Settings as stored (a stored filter is canonical already: not parsed again)."""
        from trend.catalog_graph.filters import Filter

        stored_filter = props.get("filter")
        return cls(
            search_type=props.get("searchType"),
            search_type_mode=bool(props["searchTypeMatchParent"]),  # type: ignore[arg-type]  # parsed
            filter=Filter(str(stored_filter)) if stored_filter else None,
            filter_mode=props["filterMatchParent"],
            required_data=tuple(json.loads(str(props.get("requiredData") or "[]"))),
            required_data_mode=props["requiredDataMatchParent"],
        )

    def to_json(self) -> str:
        return json.dumps(self.to_properties(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> NodeSettings:
        return cls.from_properties(json.loads(text))

    @classmethod
    def root(cls, search_type: Any, filter: Any, required_data: Any) -> NodeSettings:
        """Settings of a catalogNode: its own values, no parent to match (raw values accepted)."""
        return cls(search_type, MatchMode.NONE, filter, MatchMode.NONE, tuple(required_data), MatchMode.NONE)


@dataclass(frozen=True)
class FinalSettings:
    search_type: str
    filter: Filter
    required_data: tuple[str, ...]


@dataclass(frozen=True)
class DerivedState:
    """What a recompute stores on a node (and, as a row, in the CategoryNode table).

    ``group``, ``frontier`` and ``combined`` describe the node's combined filter (see
    ``combined.py``): the categories browsed under the node's own final filter, the enabled
    descendants with a different filter (node id, their combined root), and the content hash of
    the root block."""

    final: FinalSettings
    enabled: bool  # the node's own latest enable/disable edge
    version: int  # newest truth timestamp on the path catalog..node that the finals reflect
    group: tuple[str, ...] = ()
    frontier: tuple[tuple[str, str], ...] = ()
    combined: str | None = None
    toggled_at: int = 0  # timestamp of the enable/disable event ``enabled`` reflects
    size: int = 1  # nodes in the subtree, the node included (sizes the reads of later recomputes)
