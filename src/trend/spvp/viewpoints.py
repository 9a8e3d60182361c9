"""Viewpoint categories and their specific viewpoints: file format, validation, DB access.

File format (YAML or JSON)::

    category: {name: ..., description: ...}
    viewpoints:
      - ordinal: 1
        name: Battery
        description: ...
        keywords: [battery, charge]        # optional
        examples: ["Battery lasts days."]  # optional, few-shot

A wishlist gets its category with ``assign_to_wishlist`` (``make load-viewpoints
VIEWPOINTS=file.yaml ASSIGN_WISHLIST=id``): dataset_create copies it into every dataset
it creates for that wishlist, and spvp_batch maps the dataset's sentences to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from trend.datasets import UnknownWishlist
from trend.db import fetch_all, table, transaction


class ViewpointFileError(ValueError):
    """A viewpoint file is malformed; the message names the file and the field."""


class UnknownCategory(LookupError):
    """No viewpoint category with that id or name (or it has no viewpoints)."""


@dataclass(frozen=True)
class Viewpoint:
    ordinal: int
    name: str
    description: str = ""
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    id: int | None = None
    last_object_id: int = 0


@dataclass(frozen=True)
class ViewpointCategory:
    name: str
    description: str = ""
    viewpoints: tuple[Viewpoint, ...] = field(default_factory=tuple)
    id: int | None = None
    # Sentences that carry none of the viewpoints: negative examples for the offline mapper
    # (stored in spvp_examples with ordinal 0, source 'file'; file key ``negative_examples``).
    negative_examples: tuple[str, ...] = ()

    @property
    def stored_id(self) -> int:
        """The id of a category loaded from the database; an unsaved one has none."""
        if self.id is None:
            raise ValueError(f"viewpoint category {self.name!r} is not stored yet")
        return self.id

    @property
    def ordinals(self) -> list[int]:
        return [v.ordinal for v in self.viewpoints]

    def by_ordinal(self, ordinal: int) -> Viewpoint:
        for v in self.viewpoints:
            if v.ordinal == ordinal:
                return v
        raise KeyError(ordinal)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(s, str) and s.strip() for s in value):
        raise ViewpointFileError(f"{where} must be a list of non-empty strings")
    return tuple(s.strip() for s in value)


def parse_category(data: Any, source: str = "<data>") -> ViewpointCategory:
    """Validate a parsed YAML/JSON document into a ViewpointCategory."""
    if not isinstance(data, dict):
        raise ViewpointFileError(f"{source}: top level must be a mapping with category and viewpoints")
    category = data.get("category")
    if isinstance(category, str):
        category = {"name": category}
    if not isinstance(category, dict) or not str(category.get("name") or "").strip():
        raise ViewpointFileError(f"{source}: category.name is required")
    items = data.get("viewpoints")
    if not isinstance(items, list) or not items:
        raise ViewpointFileError(f"{source}: viewpoints must be a non-empty list")
    viewpoints, seen = [], set()
    for n, item in enumerate(items, 1):
        where = f"{source}: viewpoints[{n}]"
        if not isinstance(item, dict):
            raise ViewpointFileError(f"{where} must be a mapping")
        ordinal = item.get("ordinal", item.get("ordinal_number"))
        if isinstance(ordinal, bool) or not isinstance(ordinal, int) or ordinal < 1:
            raise ViewpointFileError(f"{where}.ordinal must be a positive integer, got {ordinal!r}")
        if ordinal in seen:
            raise ViewpointFileError(f"{where}.ordinal {ordinal} is used twice")
        seen.add(ordinal)
        name = str(item.get("name") or "").strip()
        if not name:
            raise ViewpointFileError(f"{where}.name is required")
        description = item.get("description") or ""
        if not isinstance(description, str):
            raise ViewpointFileError(f"{where}.description must be a string")
        viewpoints.append(
            Viewpoint(
                ordinal=ordinal,
                name=name,
                description=description.strip(),
                keywords=_strings(item.get("keywords"), f"{where}.keywords"),
                examples=_strings(item.get("examples"), f"{where}.examples"),
            )
        )
    return ViewpointCategory(
        name=str(category["name"]).strip(),
        description=str(category.get("description") or "").strip(),
        viewpoints=tuple(sorted(viewpoints, key=lambda v: v.ordinal)),
        negative_examples=_strings(data.get("negative_examples"), f"{source}: negative_examples"),
    )


def read_file(path: Path | str) -> ViewpointCategory:
    path = Path(path)
    if not path.is_file():
        raise ViewpointFileError(f"viewpoint file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ViewpointFileError(f"{path}: cannot parse ({exc})") from None
    return parse_category(data, str(path))


def save_category(conn, category: ViewpointCategory) -> int:
    """Upsert the category by name and its viewpoints by ordinal, in one transaction.

    An existing viewpoint keeps its last_object_id (its text may be refined);
    a new one starts at 0 and catches up on the next run. Viewpoints missing
    from the file are left alone (their mappings stay valid). The category's
    ``negative_examples`` are added to ``spvp_examples`` (source 'file'), idempotently.
    """
    from trend.spvp import examples

    with transaction(conn) as cur:
        cur.execute(
            "INSERT INTO viewpoint_categories (category_name, description) VALUES (%s, %s) "
            "ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), description = VALUES(description)",
            (category.name, category.description or None),
        )
        category_id = int(cur.lastrowid)
        for v in category.viewpoints:
            cur.execute(
                "INSERT INTO specific_viewpoints (viewpoint_category_id, ordinal_number, name, "
                "description, examples, keywords) VALUES (%s, %s, %s, %s, %s, %s) "
                "ON DUPLICATE KEY UPDATE name = VALUES(name), description = VALUES(description), "
                "examples = VALUES(examples), keywords = VALUES(keywords)",
                (
                    category_id,
                    v.ordinal,
                    v.name,
                    v.description or None,
                    json.dumps(list(v.examples), ensure_ascii=False) if v.examples else None,
                    json.dumps(list(v.keywords), ensure_ascii=False) if v.keywords else None,
                ),
            )
    if category.negative_examples:
        examples.store_negatives(conn, category_id, category.negative_examples)
    return category_id


def _json_list(value: Any) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    parsed = json.loads(value) if isinstance(value, (str, bytes)) else value
    return tuple(str(s) for s in parsed)


def load_category(conn, category_id: int | None = None, name: str | None = None) -> ViewpointCategory:
    """Read a category with its viewpoints (and their last_object_id) by id or name."""
    if category_id is None and name is None:
        raise ValueError("give a category id or name")
    where, param = ("id = %s", category_id) if category_id is not None else ("category_name = %s", name)
    rows = fetch_all(
        conn, f"SELECT id, category_name AS name, description FROM viewpoint_categories WHERE {where}", (param,)
    )
    if not rows:
        raise UnknownCategory(f"viewpoint category {category_id if category_id is not None else name!r} not found")
    head = rows[0]
    vps = fetch_all(
        conn,
        "SELECT id, ordinal_number, name, description, examples, keywords, last_object_id "
        "FROM specific_viewpoints WHERE viewpoint_category_id = %s ORDER BY ordinal_number",
        (head["id"],),
    )
    if not vps:
        raise UnknownCategory(f"viewpoint category {head['id']} ({head['name']}) has no specific viewpoints")
    return ViewpointCategory(
        id=int(head["id"]),
        name=head["name"],
        description=head["description"] or "",
        viewpoints=tuple(
            Viewpoint(
                id=int(r["id"]),
                ordinal=int(r["ordinal_number"]),
                name=r["name"],
                description=r["description"] or "",
                keywords=_json_list(r["keywords"]),
                examples=_json_list(r["examples"]),
                last_object_id=int(r["last_object_id"]),
            )
            for r in vps
        ),
    )


@dataclass(frozen=True)
class CategoryAssignment:
    wishlist_id: int  # gb_console.wishlist_to_groups.id
    category_id: int
    groups: int  # wishlist_to_groups rows now on this category (1: a wishlist is one row)
    datasets: int  # datasets of the wishlist created without a category that got this one


def check_wishlist(conn, wishlist_id: int) -> int:
    """1 when the wishlist (a wishlist_to_groups row) exists; UnknownWishlist when not."""
    rows = fetch_all(
        conn, f"SELECT COUNT(*) AS n FROM {table('gb_console', 'wishlist_to_groups')} WHERE id = %s", (wishlist_id,)
    )
    if not rows[0]["n"]:
        raise UnknownWishlist(f"wishlist {wishlist_id} does not exist (wishlist_to_groups): nothing to assign")
    return int(rows[0]["n"])


def assign_to_wishlist(conn, wishlist_id: int, category_id: int) -> CategoryAssignment:
    """Give a wishlist this viewpoint category, in one transaction.

    dataset_create copies ``wishlist_to_groups.viewpoint_category_id`` into each dataset it
    creates. Datasets of the wishlist created earlier without a category get it too (SPVP
    could not map them); datasets that already have a category keep theirs (their mappings
    belong to it). Idempotent. ``conn`` must reach gb_console and ds_analyzer (one server).
    """
    with transaction(conn) as cur:
        cur.execute(f"SELECT id FROM {table('ds_analyzer', 'viewpoint_categories')} WHERE id = %s", (category_id,))
        if cur.fetchone() is None:
            raise UnknownCategory(f"viewpoint category {category_id} not found")
        cur.execute(
            f"SELECT id FROM {table('gb_console', 'wishlist_to_groups')} WHERE id = %s FOR UPDATE", (wishlist_id,)
        )
        groups = len(cur.fetchall())
        if not groups:
            raise UnknownWishlist(f"wishlist {wishlist_id} does not exist (wishlist_to_groups): nothing to assign")
        cur.execute(
            f"UPDATE {table('gb_console', 'wishlist_to_groups')} SET viewpoint_category_id = %s WHERE id = %s",
            (category_id, wishlist_id),
        )
        cur.execute(
            f"UPDATE {table('ds_analyzer', 'datasets')} d "
            f"JOIN {table('gb_console', 'wishlist_dataset_histories')} h ON h.dataset_id = d.id "
            "SET d.viewpoint_category_id = %s WHERE h.wishlist_to_group_id = %s AND d.viewpoint_category_id IS NULL",
            (category_id, wishlist_id),
        )
        datasets = cur.rowcount
    return CategoryAssignment(wishlist_id, category_id, groups, datasets)
