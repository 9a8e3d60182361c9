"""Seed the UI's tables straight through SQL: a dataset with results as analyzer_batch and spvp_batch
would leave them, of any size (the UI tests, screenshots and the 100k-sentence bench use it).

Not an analysis: sentences come from the synthetic marketplace's phrases, clusters are its aspects
(filler sentences are noise), map coordinates scatter around one point per aspect. What it is for is
the shape and volume of the rows the pages read, not their meaning.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path

from trend.catalog_graph import operations as ops
from trend.catalog_graph.model import MatchMode, NodeSettings
from trend.catalog_graph.recompute import full_rebuild
from trend.catalog_graph.store import open_file
from trend.db import table
from trend.status import DatasetStatus, ErrorCode, HistoryStatus, Mall, SpvpStatus
from trend_dev import catalog_demo
from trend_dev.synthetic import ADJECTIVES, ASPECTS, BRANDS, FILLER

CATEGORY_NAME = "ui-seed aspects"
BATCH = 5000


@dataclass(frozen=True)
class SeededDataset:
    dataset_id: int
    product_ids: list[int]  # analyzer_v2.products.id
    sentence_ids: list[int]  # analyzer_v2.review_sentences.id
    category_id: int
    wishlist_id: int


def _insert(cur, sql: str, rows: list[tuple]) -> None:
    for start in range(0, len(rows), BATCH):
        cur.executemany(sql, rows[start : start + BATCH])


def _next_id(cur, qualified: str) -> int:
    cur.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {qualified}")
    return int(cur.fetchone()[0])


def _category(cur) -> int:
    """The seed's viewpoint category (one specific viewpoint per synthetic aspect), created once."""
    cur.execute("SELECT id FROM viewpoint_categories WHERE category_name = %s", (CATEGORY_NAME,))
    found = cur.fetchone()
    if found:
        return int(found[0])
    cur.execute(
        "INSERT INTO viewpoint_categories (category_name, description) VALUES (%s, %s)", (CATEGORY_NAME, "seeded")
    )
    category_id = int(cur.lastrowid)
    cur.executemany(
        "INSERT INTO specific_viewpoints (viewpoint_category_id, ordinal_number, name, description) "
        "VALUES (%s, %s, %s, %s)",
        [(category_id, i + 1, aspect.title(), f"what reviews say about {aspect}") for i, aspect in enumerate(ASPECTS)],
    )
    return category_id


def _sentence(rng: random.Random) -> tuple[str, str | None, str]:
    """(text, aspect or None for filler, sentiment)."""
    if rng.random() < 0.12:
        return rng.choice(FILLER), None, "neutral"
    aspect = rng.choice(list(ASPECTS))
    subjects, positives, negatives = ASPECTS[aspect]
    positive = rng.random() < 0.6
    text = f"{rng.choice(subjects)} {rng.choice(positives if positive else negatives)}."
    return text, aspect, "positive" if positive else "negative"


def _analyzer_rows(cur, rng: random.Random, products: int, sentences: int) -> tuple[list, list]:
    """analyzer_v2 products, reviews (4 sentences each) and sentences; returns (products, sentences)."""
    pid0 = _next_id(cur, table("analyzer_v2", "products"))
    rid0 = _next_id(cur, table("analyzer_v2", "reviews"))
    sid0 = _next_id(cur, table("analyzer_v2", "review_sentences"))
    prods = [
        (
            pid0 + i,
            int(Mall.SYNTHETIC),
            f"UI-{pid0 + i:06d}",
            f"{rng.choice(BRANDS)} Speaker {rng.choice(ADJECTIVES)} {i + 1}",
        )
        for i in range(products)
    ]
    _insert(
        cur,
        f"INSERT INTO {table('analyzer_v2', 'products')} (id, mall_id, mall_product_id, name) VALUES (%s, %s, %s, %s)",
        prods,
    )
    sents, reviews = [], []
    for i in range(sentences):
        product = prods[i % products]
        review_id = rid0 + i // 4
        if i % 4 == 0:
            reviews.append(
                (review_id, product[0], int(Mall.SYNTHETIC), f"UI-R{review_id}", "seeded review", rng.randint(1, 5))
            )
        sents.append((sid0 + i, review_id, product[0], i % 4, *_sentence(rng)))
    _insert(
        cur,
        f"INSERT INTO {table('analyzer_v2', 'reviews')} (id, product_id, mall_id, mall_review_id, content, rating) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        reviews,
    )
    _insert(
        cur,
        f"INSERT INTO {table('analyzer_v2', 'review_sentences')} (id, review_id, sentence_index, sentence) "
        "VALUES (%s, %s, %s, %s)",
        [(s[0], s[1], s[3], s[4]) for s in sents],
    )
    return prods, sents


def _dataset(
    cur,
    name: str,
    wishlist_id: int,
    product_ids: list[int],
    category_id: int,
    status: DatasetStatus,
    progress: int,
    error: tuple[ErrorCode, str] | None,
) -> int:
    cur.execute(
        "INSERT INTO datasets (name, group_id, viewpoint_category_id, settings, status, progress, error_code, "
        "error_message, started_at, finished_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, NOW(3), %s)",
        (
            name,
            wishlist_id,
            category_id,
            json.dumps({"product_ids": product_ids, "wishlist_to_group_id": wishlist_id}),
            int(status),
            progress,
            int(error[0]) if error else None,
            error[1] if error else None,
            None if status in (DatasetStatus.PENDING, DatasetStatus.PROCESSING) else "2026-01-01 00:00:00",
        ),
    )
    dataset_id = int(cur.lastrowid)
    spvp = {DatasetStatus.COMPLETED: SpvpStatus.COMPLETED, DatasetStatus.FAILED: SpvpStatus.FAILED}.get(
        status, SpvpStatus.WAITING
    )
    cur.execute(
        f"INSERT IGNORE INTO {table('gb_console', 'wishlist_to_groups')} (id, name, group_id, status, "
        "viewpoint_category_id) VALUES (%s, %s, %s, 1, %s)",
        (wishlist_id, f"{name} wishlist", wishlist_id, category_id),
    )
    cur.execute(
        f"INSERT INTO {table('gb_console', 'wishlist_dataset_histories')} (wishlist_to_group_id, dataset_id, "
        "config, status, spvp_status) VALUES (%s, %s, %s, %s, %s)",
        (
            wishlist_id,
            dataset_id,
            json.dumps({"snapshot_key": f"{dataset_id:064d}"}),
            int(HistoryStatus(int(status))),
            int(spvp),
        ),
    )
    return dataset_id


def _sentence_results(dataset_id: int, sents: list, viewpoint_ids: dict[int, int], rng: random.Random) -> list[tuple]:
    aspects = list(ASPECTS)
    rows = []
    for sentence_id, review_id, product_id, _, _, aspect, sentiment in sents:
        noise = aspect is None or rng.random() < 0.03
        cluster = aspects.index(aspect) if aspect else rng.randrange(len(aspects))
        if noise:
            x, y = rng.uniform(-1.5, 1.5), rng.uniform(-1.5, 1.5)
        else:
            angle = 2 * math.pi * cluster / len(aspects)
            x, y = math.cos(angle) + rng.gauss(0, 0.18), math.sin(angle) + rng.gauss(0, 0.18)
        score = {"positive": rng.uniform(0.3, 1.0), "negative": rng.uniform(-1.0, -0.3)}.get(
            sentiment, rng.uniform(-0.2, 0.2)
        )
        rows.append(
            (
                dataset_id,
                sentence_id,
                review_id,
                product_id,
                cluster,
                int(noise),
                None if noise else viewpoint_ids[cluster],
                sentiment,
                round(score, 4),
                round(x, 4),
                round(y, 4),
            )
        )
    return rows


def _keywords(aspect: str) -> list[str]:
    words = [w.strip(".,!").lower() for phrase in ASPECTS[aspect][0] + ASPECTS[aspect][1] for w in phrase.split()]
    common = {"the", "this", "one", "its", "and", "for", "with", "is", "on", "it", "my", "of", "a", "me", "at", "any"}
    return list(dict.fromkeys([aspect, *(w for w in words if len(w) > 3 and w not in common)]))[:6]


def _viewpoints(cur, dataset_id: int, sents: list) -> dict[int, int]:
    aspects = list(ASPECTS)
    sizes = {i: sum(1 for s in sents if s[5] == a) for i, a in enumerate(aspects)}
    rows = [
        (dataset_id, i, f"{a.title()} experience", f"Sentences about {a}", json.dumps(_keywords(a)), sizes[i], "tfidf")
        for i, a in enumerate(aspects)
    ]
    _insert(
        cur,
        "INSERT INTO ai_viewpoints (dataset_id, cluster_id, name, description, keywords, sentence_count, label_source) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s)",
        rows,
    )
    cur.execute("SELECT cluster_id, id FROM ai_viewpoints WHERE dataset_id = %s", (dataset_id,))
    return {int(c): int(i) for c, i in cur.fetchall()}


def _product_rows(cur, dataset_id: int, prods: list, rows: list[tuple], rng: random.Random) -> None:
    per: dict[int, list[float]] = {p[0]: [] for p in prods}
    reviews: dict[int, tuple[int, list[float]]] = {}
    for r in rows:
        per[r[3]].append(r[8])
        reviews.setdefault(r[2], (r[3], []))[1].append(r[8])
    review_rows = [
        (
            dataset_id,
            rid,
            pid,
            rng.randint(1, 5),
            "positive" if sum(s) > 0.2 else "negative" if sum(s) < -0.2 else "neutral",
            round(sum(s) / len(s), 4),
        )
        for rid, (pid, s) in reviews.items()
    ]
    _insert(
        cur,
        "INSERT INTO reviews (dataset_id, review_id, product_id, rating, sentiment_overall, sentiment_score) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        review_rows,
    )
    _insert(
        cur,
        "INSERT INTO products (dataset_id, crawler_product_id, mall_id, mall_product_id, name, processed_name, "
        "review_count, sentence_count, average_rating, sentiment_score) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [
            (
                dataset_id,
                p[0],
                p[1],
                p[2],
                p[3],
                p[3].lower(),
                math.ceil(len(per[p[0]]) / 4),
                len(per[p[0]]),
                round(rng.uniform(2.5, 4.8), 2),
                round(sum(per[p[0]]) / max(1, len(per[p[0]])), 4),
            )
            for p in prods
        ],
    )
    sims = []
    mall_ids = {p[0]: p[2] for p in prods}
    for p in prods:
        others = sorted(((round(rng.uniform(0.4, 0.99), 4), q[0]) for q in prods if q[0] != p[0]), reverse=True)[:5]
        sims += [
            (dataset_id, p[0], q, mall_ids[p[0]], mall_ids[q], score, rank + 1, "exact")
            for rank, (score, q) in enumerate(others)
        ]
    _insert(
        cur,
        "INSERT INTO product_similarities (dataset_id, product_id, similar_product_id, mall_product_id_a, "
        "mall_product_id_b, similarity_score, rank_no, method) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        sims,
    )


def _spvp(cur, category_id: int, prods: list, sents: list, rng: random.Random) -> None:
    mall_ids = {p[0]: p[2] for p in prods}
    aspects = list(ASPECTS)
    rows = [
        (s[0], category_id, aspects.index(s[5]) + 1, mall_ids[s[2]], round(rng.uniform(0.5, 1.0), 4), "offline")
        for s in sents
        if s[5] is not None and rng.random() < 0.9
    ]
    _insert(
        cur,
        "INSERT IGNORE INTO review_sentence_spvp (sentence_id, viewpoint_category_id, viewpoint_ordinal_number, "
        "mall_product_id, score, backend) VALUES (%s, %s, %s, %s, %s, %s)",
        rows,
    )


def seed_dataset(
    conn,
    *,
    sentences: int = 2000,
    products: int = 12,
    name: str = "Speakers",
    wishlist_id: int = 1,
    status: DatasetStatus = DatasetStatus.COMPLETED,
    progress: int | None = None,
    error: tuple[ErrorCode, str] | None = None,
    with_results: bool = True,
    seed: int = 7,
) -> SeededDataset:
    """One dataset (a ds_analyzer connection; other databases are qualified) and, if asked, its results."""
    rng = random.Random(seed)
    cur = conn.cursor()
    category_id = _category(cur)
    prods, sents = _analyzer_rows(cur, rng, products, sentences)
    progress = (
        progress if progress is not None else {DatasetStatus.COMPLETED: 100, DatasetStatus.FAILED: -1}.get(status, 0)
    )
    dataset_id = _dataset(cur, name, wishlist_id, [p[0] for p in prods], category_id, status, progress, error)
    if with_results:
        viewpoint_ids = _viewpoints(cur, dataset_id, sents)
        rows = _sentence_results(dataset_id, sents, viewpoint_ids, rng)
        _insert(
            cur,
            "INSERT INTO review_sentences (dataset_id, sentence_id, review_id, product_id, cluster_id, is_noise, "
            "ai_viewpoint_id, sentiment, sentiment_score, map_x, map_y) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
        _product_rows(cur, dataset_id, prods, rows, rng)
        _spvp(cur, category_id, prods, sents, rng)
    conn.commit()
    return SeededDataset(dataset_id, [p[0] for p in prods], [s[0] for s in sents], category_id, wishlist_id)


def seed_showcase(conn, sentences: int = 3000) -> dict[str, SeededDataset]:
    """A completed dataset with results, one still running, one failed and one pending."""
    return {
        "completed": seed_dataset(conn, sentences=sentences, products=14, name="Bluetooth speakers", wishlist_id=11),
        "running": seed_dataset(
            conn,
            sentences=400,
            products=4,
            name="Smartwatches",
            wishlist_id=12,
            status=DatasetStatus.PROCESSING,
            progress=65,
            with_results=False,
            seed=8,
        ),
        "failed": seed_dataset(
            conn,
            sentences=200,
            products=3,
            name="Headphones",
            wishlist_id=12,
            status=DatasetStatus.FAILED,
            error=(ErrorCode.LLM_REQUEST_FAILED, "labelling: the LLM endpoint answered 503 five times for cluster 4"),
            with_results=False,
            seed=9,
        ),
        "pending": seed_dataset(
            conn,
            sentences=100,
            products=2,
            name="Earbuds",
            wishlist_id=13,
            status=DatasetStatus.PENDING,
            with_results=False,
            seed=10,
        ),
    }


@dataclass(frozen=True)
class SeededCatalog:
    path: str
    catalog_id: str
    changed_node: str
    before_change_us: int  # a time between the first settings and the change
    created_us: int


def seed_catalog(path: str | Path) -> SeededCatalog:
    """The catalog_demo tree (gremlite file at ``path``), recomputed, then one settings change."""
    store = open_file(path)
    try:
        catalog_demo.seed(store)
        full_rebuild(store, catalog_demo.CATALOG)
        created = ops.settings_history(store, catalog_demo.ROOT)[0][0]
        time.sleep(0.01)
        before = ops.now_us()
        time.sleep(0.01)
        ops.change_settings(
            store,
            catalog_demo.CHANGED_NODE,
            NodeSettings(filter=catalog_demo.eq("dept", "gadgets"), filter_mode=MatchMode.APPEND),
            "bob",
        )
        full_rebuild(store, catalog_demo.CATALOG)
    finally:
        store.close()
    return SeededCatalog(str(path), catalog_demo.CATALOG, catalog_demo.CHANGED_NODE, before, created)
