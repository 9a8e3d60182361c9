"""How a catalogNode / categoryNode vertex stores its data (one place for the property names).

Immutable: ``uid``, ``catalogId``, ``categoryId`` (categoryNode), ``parentNodeId`` and ``path``
(JSON list of ancestor ids, catalog first; categoryNode), ``createdAt``.

Current truth, rewritten (single cardinality) by the same traversal that adds the history:
``settings`` (JSON: timestamp, settings vertex id, the settings) and ``toggle`` (JSON:
timestamp, enabled; absent until the first enable/disable after creation: a node is created
enabled) — so a recompute reads one vertex per node instead of the whole history, which keeps
growing. The history itself (settings vertices, hasChild/hasDisabledChild edges)
is what as-of reads and rollbacks use. The catalogNode also holds ``clock``.

Derived, written by recomputes: ``derived`` (JSON: the finals searchType / filter / requiredData,
enabled, version, the combined-filter summary and ``r``, a write counter). One JSON property
instead of eight, because every property is a separate write on gremlite and on Neptune; and
it is its own compare-and-set condition: a recompute writes ``has(derived, text it read)`` — the
counter makes every written text unique, so a value can never come back and let a stale writer
through (no ABA).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from trend.catalog_graph.filters import Filter
from trend.catalog_graph.model import DerivedState, FinalSettings, InvalidIdError, NodeSettings
from trend.catalog_graph.rules import NodeRecord, SettingsVersion, ToggleEvent

UID, CATALOG_ID, CATEGORY_ID, PARENT, PATH, CREATED_AT = (
    "uid",
    "catalogId",
    "categoryId",
    "parentNodeId",
    "path",
    "createdAt",
)
SETTINGS, TOGGLE, CLOCK, DERIVED = "settings", "toggle", "clock", "derived"


def settings_json(at: int, settings_uid: str, settings: NodeSettings) -> str:
    return json.dumps({"at": at, "uid": settings_uid, "s": settings.to_properties()}, sort_keys=True)


def toggle_json(at: int, enabled: bool) -> str:
    return json.dumps({"at": at, "on": enabled}, sort_keys=True)


def state_json(state: DerivedState, rev: int) -> str:
    body = {
        "r": rev,
        "st": state.final.search_type,
        "f": state.final.filter.text,
        "rd": list(state.final.required_data),
        "e": state.enabled,
        "v": state.version,
        "g": list(state.group),
        "fr": [list(pair) for pair in state.frontier],
        "c": state.combined,
        "t": state.toggled_at,
        "n": state.size,
    }
    return json.dumps(body, separators=(",", ":"))


def parse_state(text: str) -> tuple[DerivedState | None, int]:
    """(state, write counter) of a ``derived`` text ("" before the first recompute)."""
    if not text:
        return None, 0
    body = json.loads(text)
    final = FinalSettings(body["st"], Filter(body["f"]), tuple(body["rd"]))
    frontier = tuple((a, b) for a, b in body["fr"])
    state = DerivedState(final, body["e"], body["v"], tuple(body["g"]), frontier, body["c"], body["t"], body["n"])
    return state, body["r"]


@dataclass(frozen=True)
class NodeRow:
    """A node vertex as read: immutable record, current truth and stored derived state."""

    vid: object
    record: NodeRecord
    path: tuple[str, ...]
    settings: SettingsVersion
    toggle: ToggleEvent | None
    derived_text: str  # as read: the compare-and-set condition of the next write
    state: DerivedState | None
    rev: int

    @property
    def node_id(self) -> str:
        return self.record.node_id

    @property
    def parent_id(self) -> str:
        """The parent of a categoryNode (a catalogNode has none)."""
        if self.record.parent_id is None:
            raise InvalidIdError(self.node_id, "a catalog has no parent")
        return self.record.parent_id


@lru_cache(maxsize=4096)
def _settings(items: tuple) -> NodeSettings:
    """Most nodes share a few settings (match everything): parse each one once."""
    return NodeSettings.from_properties(dict(items))


def parse_node_row(row: dict, vid: object) -> NodeRow:
    node_id = row[UID]
    current = json.loads(row[SETTINGS])
    settings = SettingsVersion(node_id, current["at"], _settings(tuple(sorted(current["s"].items()))))
    toggle = None
    if row.get(TOGGLE):
        t = json.loads(row[TOGGLE])
        toggle = ToggleEvent(node_id, t["at"], t["on"])
    path = tuple(json.loads(row[PATH]))
    record = NodeRecord(node_id, row.get(CATEGORY_ID), path[-1] if path else None, row[CREATED_AT])
    text = row.get(DERIVED, "")
    return NodeRow(vid, record, path, settings, toggle, text, *parse_state(text))
