"""Combined filters as content-hashed blocks (the design: "chain the parent categoryId and all
categoryIds of child nodes in a long OR, added to the shared filter as an AND block; children
with custom filters become separate blocks that group that child's categoryId with its filter";
"hash of filter exists for the full or any partial filter ... we cache results for each part").

A node N browses its own products and those of every enabled descendant (a disabled child
drops out with its subtree). Descendants reached through nodes with N's own final filter share
it: their categories join N's **group**, one block ``AND(filter, categoryId IN group)``. The first
descendant on each path whose final filter differs is a **frontier** node: its whole combined
filter is referenced as one block. So

    combined(N) = OR( AND(filter(N), categoryId IN group(N)), combined(d) for d in frontier(N) )

The catalog's own record works the same way: its group holds the top-level categories (and
their same-filter descendants) under the catalog's filter.

Blocks are canonical JSON, stored once under their digest (``filters.digest``), and refer to
each other as ``{"ref": digest}``; a node stores only its root digest. Long category lists and
long OR lists are cut into chunks at content-defined boundaries (an id whose hash is 0 modulo
the average size ends a chunk), so adding one category rewrites one chunk, not the whole list,
and every block stays far below DynamoDB's 400 KB item limit: at most ``MAX_IDS`` ids of up to
64 characters plus the 16 KB filter, or ``MAX_REFS`` refs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from trend.catalog_graph.filters import Filter, _group, canonical_json, category_in, digest

AVG_IDS, MAX_IDS = 256, 1024  # categories per block
AVG_REFS, MAX_REFS = 64, 256  # refs per OR block


@dataclass(frozen=True)
class Blocks:
    root: str | None  # digest of the root block; None when nothing is browsable
    blocks: dict[str, str]  # digest -> canonical JSON, every block this node's filter owns


def chunk(items: Sequence[str], average: int, maximum: int) -> list[list[str]]:
    """Content-defined chunks: a boundary after an item whose hash is 0 modulo ``average``, or
    when a chunk reaches ``maximum``. Inserting an item changes only its own chunk (and, rarely,
    the next one when the maximum cut moves)."""
    chunks: list[list[str]] = []
    current: list[str] = []
    for item in items:
        current.append(item)
        if len(current) >= maximum or _ends_chunk(item, average):
            chunks.append(current)
            current = []
    if current:
        chunks.append(current)
    return chunks


@lru_cache(maxsize=1 << 18)
def _ends_chunk(item: str, average: int) -> bool:
    return int(digest(item)[:8], 16) % average == 0


def _ref(block_digest: str) -> dict:
    return {"ref": block_digest}


def _or_tree(entries: list[str], out: dict[str, str]) -> str:
    """Digest of an OR over ``entries`` (digests), nested in chunks of at most MAX_REFS."""
    while True:
        if len(entries) == 1:
            return entries[0]
        if len(entries) <= MAX_REFS:
            text = canonical_json({"or": [_ref(e) for e in entries]})
            out[digest(text)] = text
            return digest(text)
        level = []
        for part in chunk(entries, AVG_REFS, MAX_REFS):
            if len(part) == 1:
                level.append(part[0])
                continue
            text = canonical_json({"or": [_ref(e) for e in part]})
            out[digest(text)] = text
            level.append(digest(text))
        entries = level


def build_blocks(final_filter: Filter, group: Sequence[str], frontier_roots: Iterable[str]) -> Blocks:
    """The blocks of one node's combined filter (``group`` sorted, frontier roots in node order)."""
    out: dict[str, str] = {}
    entries: list[str] = []
    for part in chunk(list(group), AVG_IDS, MAX_IDS):
        text = canonical_json(_group("and", [final_filter.tree, category_in(part)]))
        out[digest(text)] = text
        entries.append(digest(text))
    entries.extend(dict.fromkeys(frontier_roots))  # identical sub-filters are referenced once
    if not entries:
        return Blocks(None, out)
    return Blocks(_or_tree(list(dict.fromkeys(entries)), out), out)


def expand(root: str | None, lookup: Callable[[str], str]) -> dict | None:
    """The full filter tree behind ``root``, resolving every ``ref`` through ``lookup``
    (digest -> block JSON). None when nothing is browsable."""
    import json

    if root is None:
        return None

    def resolve(node):
        if isinstance(node, dict):
            if set(node) == {"ref"}:
                return resolve(json.loads(lookup(node["ref"])))
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(json.loads(lookup(root)))


def flatten(tree: dict | None) -> dict[str, set[str]]:
    """{filter text: categories} that an expanded combined filter browses (for comparisons)."""
    out: dict[str, set[str]] = {}
    if tree is None:
        return out
    parts = tree["or"] if set(tree) == {"or"} else [tree]
    for part in parts:
        if set(part) == {"or"}:
            for key, cats in flatten(part).items():
                out.setdefault(key, set()).update(cats)
            continue
        conditions = part["and"]
        scopes = [c for c in conditions if c.get("field") == "categoryId" and c.get("op") == "in"]
        rest = [c for c in conditions if c is not scopes[-1]]
        key = canonical_json(_group("and", rest))
        out.setdefault(key, set()).update(scopes[-1]["value"])
    return out
