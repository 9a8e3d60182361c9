"""Stored training examples of a category's offline mapper (``ds_analyzer.spvp_examples``).

* ``source='llm'``: sentences the router sent to the LLM backend with the viewpoints it decided
  (none decided: ordinal 0, a negative example). The next fit of the category's mapper learns
  from them, so fewer sentences are uncertain and the share sent to the LLM falls run over run.
* ``source='file'``: labelled sentences loaded with the category that carry none of its
  viewpoints (``ViewpointCategory.negative_examples``, e.g. a training file's other sentences).

One row per (category, sentence hash, ordinal): storing the same decision again adds nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from trend.config import quote_identifier
from trend.db import fetch_all, transaction
from trend.embeddings import DIMENSION, EmbeddingError, from_blob
from trend.spvp.offline import Example

NONE = 0  # viewpoint_ordinal_number of a "none of the viewpoints" example


@dataclass(frozen=True)
class Decided:
    """A sentence and the viewpoints a backend decided for it."""

    text: str
    ordinals: frozenset[int]
    sentence_id: int | None = None


def sentence_hash(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def store(conn, category_id: int, decided: Iterable[Decided], source: str, viewpoint_ids: dict[int, int]) -> int:
    """Insert the decisions (``INSERT IGNORE`` on the unique key); returns the rows added."""
    rows = []
    for d in decided:
        h = sentence_hash(d.text)
        for ordinal in sorted(d.ordinals) or [NONE]:
            rows.append((category_id, ordinal, viewpoint_ids.get(ordinal), h, d.sentence_id, d.text.strip(), source))
    if not rows:
        return 0
    with transaction(conn) as cur:
        cur.executemany(
            "INSERT IGNORE INTO spvp_examples (viewpoint_category_id, viewpoint_ordinal_number, "
            "specific_viewpoint_id, sentence_hash, sentence_id, sentence, source) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
        added = cur.rowcount
    return int(added)


def store_negatives(conn, category_id: int, texts: Sequence[str]) -> int:
    """The category's "none of them" example sentences from its file (source 'file')."""
    return store(conn, category_id, (Decided(t, frozenset()) for t in texts), "file", {})


def load(conn, category_id: int, analyzer_db: str | None = None) -> list[Example]:
    """The category's stored examples, one per sentence with all its ordinals (none: empty), and
    the stored embedding of the sentence when ``analyzer_db`` is given and it still exists."""
    if analyzer_db:
        sql = (
            "SELECT e.sentence_hash, e.sentence, e.viewpoint_ordinal_number AS ordinal, e.source, s.embedding "
            f"FROM spvp_examples e LEFT JOIN {quote_identifier(analyzer_db)}.review_sentences s "
            f"ON s.id = e.sentence_id AND s.embedding_dim = {DIMENSION} "
            "WHERE e.viewpoint_category_id = %s ORDER BY e.id"
        )
    else:
        sql = (
            "SELECT sentence_hash, sentence, viewpoint_ordinal_number AS ordinal, source, NULL AS embedding "
            "FROM spvp_examples WHERE viewpoint_category_id = %s ORDER BY id"
        )
    merged: dict[str, dict] = {}
    for r in fetch_all(conn, sql, (category_id,)):
        e = merged.setdefault(r["sentence_hash"], {"text": r["sentence"], "ordinals": set(), "source": r["source"]})
        if int(r["ordinal"]) != NONE:
            e["ordinals"].add(int(r["ordinal"]))
        if r["embedding"] is not None and "vector" not in e:
            try:
                e["vector"] = from_blob(r["embedding"])
            except EmbeddingError:
                pass
    return [Example(e["text"], frozenset(e["ordinals"]), e.get("vector"), e["source"]) for e in merged.values()]


def counts(conn, category_id: int) -> dict[str, int]:
    """Distinct example sentences by source."""
    rows = fetch_all(
        conn,
        "SELECT source, COUNT(DISTINCT sentence_hash) AS n FROM spvp_examples WHERE viewpoint_category_id = %s "
        "GROUP BY source",
        (category_id,),
    )
    return {r["source"]: int(r["n"]) for r in rows}
