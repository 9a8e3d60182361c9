"""Structured filters: JSON trees of ``and`` / ``or`` groups and leaves, validated and
canonicalised, never built by string concatenation.

    {"and": [F, ...]}      all must hold          {"or": [F, ...]}   any must hold
    {"field": "brand", "op": "eq", "value": "acme"}
    {"field": "categoryId", "op": "in", "value": ["12", "13"]}

Ops: eq, ne, lt, lte, gt, gte (scalar value), in, not_in (non-empty list of scalars),
contains (string). Field names: a letter, then letters, digits, ``_`` or ``.``.

A ``Filter`` holds the canonical form: groups flattened (an ``and`` inside an ``and`` merges),
children de-duplicated and sorted, ``in`` lists sorted, one-child groups collapsed, keys sorted.
Equal meaning up to that normalisation gives equal text and an equal ``digest`` (a SHA-256
prefix) — the content hash that combined-filter blocks are stored and cached under.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from functools import cached_property

from trend.catalog_graph.model import InvalidSettingsError

FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,63}$")
SCALAR_OPS = frozenset({"eq", "ne", "lt", "lte", "gt", "gte", "contains"})
LIST_OPS = frozenset({"in", "not_in"})
GROUP_OPS = ("and", "or")
CATEGORY_FIELD = "categoryId"
MAX_DEPTH = 8
MAX_LEAVES = 200
MAX_LIST = 1000
MAX_FILTER_BYTES = 16_384  # a user-supplied filter (node settings, client settings)
DIGEST_CHARS = 32  # 128 bits of SHA-256, hex


class InvalidFilterError(InvalidSettingsError):
    """A filter that is not a valid structured filter; names the node (or request) it came with."""


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_CHARS]


@dataclass(frozen=True)
class Filter:
    """A validated, canonical filter. Compare, hash and store it by ``text``."""

    text: str

    @cached_property
    def tree(self) -> dict:
        return json.loads(self.text)

    @cached_property
    def digest(self) -> str:
        return digest(self.text)

    def __str__(self) -> str:
        return self.text


def parse_filter(value: object, where: str, max_bytes: int = MAX_FILTER_BYTES) -> Filter:
    """A ``Filter`` from JSON text, a dict or a ``Filter``; ``InvalidFilterError`` naming
    ``where`` (a node id or request id) if it is not a valid structured filter."""
    if isinstance(value, Filter):
        return value
    if isinstance(value, str):
        if len(value.encode()) > max_bytes:
            raise InvalidFilterError(where, f"filter is over {max_bytes} bytes")
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InvalidFilterError(where, f"filter is not JSON ({exc.msg} at {exc.pos})") from None
    tree = _normalise(value, where, depth=0, leaves=[0])
    text = canonical_json(tree)
    if len(text.encode()) > max_bytes:
        raise InvalidFilterError(where, f"filter is over {max_bytes} bytes")
    return Filter(text)


def _normalise(node: object, where: str, depth: int, leaves: list[int]) -> dict:
    if depth > MAX_DEPTH:
        raise InvalidFilterError(where, f"filter is nested deeper than {MAX_DEPTH}")
    if not isinstance(node, dict):
        raise InvalidFilterError(where, f"filter node must be an object, not {type(node).__name__}")
    group = [op for op in GROUP_OPS if op in node]
    if group:
        if len(node) != 1:
            raise InvalidFilterError(where, f"a group has exactly one key (and|or), got {sorted(node)}")
        children = node[group[0]]
        if not isinstance(children, list) or not children:
            raise InvalidFilterError(where, f"{group[0]} needs a non-empty list")
        return _group(group[0], [_normalise(c, where, depth + 1, leaves) for c in children])
    leaves[0] += 1
    if leaves[0] > MAX_LEAVES:
        raise InvalidFilterError(where, f"filter has more than {MAX_LEAVES} conditions")
    return _leaf(node, where)


def _leaf(node: dict, where: str) -> dict:
    if set(node) != {"field", "op", "value"}:
        raise InvalidFilterError(where, f"a condition has keys field, op, value; got {sorted(node)}")
    field, op, value = node["field"], node["op"], node["value"]
    if not isinstance(field, str) or not FIELD_NAME.match(field):
        raise InvalidFilterError(where, f"bad field name {field!r}")
    if op in SCALAR_OPS:
        _check_scalar(value, where)
        if op == "contains" and not isinstance(value, str):
            raise InvalidFilterError(where, "contains needs a string value")
        return {"field": field, "op": op, "value": value}
    if op in LIST_OPS:
        if not isinstance(value, list) or not value or len(value) > MAX_LIST:
            raise InvalidFilterError(where, f"{op} needs a list of 1..{MAX_LIST} values")
        for item in value:
            _check_scalar(item, where)
        return {"field": field, "op": op, "value": sorted(set(value), key=canonical_json)}
    raise InvalidFilterError(where, f"unknown op {op!r}")


def _check_scalar(value: object, where: str) -> None:
    if isinstance(value, bool) or isinstance(value, int | str):
        return
    if isinstance(value, float) and math.isfinite(value):
        return
    raise InvalidFilterError(where, f"value {value!r} is not a string, number or boolean")


def _group(op: str, children: list[dict]) -> dict:
    flat: dict[str, dict] = {}
    for child in children:
        for item in child[op] if op in child else [child]:
            flat[canonical_json(item)] = item
    if len(flat) == 1:
        return next(iter(flat.values()))
    return {op: [flat[key] for key in sorted(flat)]}


def and_(*filters: Filter) -> Filter:
    """All of ``filters`` (flattened, canonical)."""
    return Filter(canonical_json(_group("and", [f.tree for f in filters])))


def category_in(category_ids: list[str] | tuple[str, ...]) -> dict:
    """The leaf that scopes a block to its categories."""
    return {"field": CATEGORY_FIELD, "op": "in", "value": sorted(set(category_ids))}
