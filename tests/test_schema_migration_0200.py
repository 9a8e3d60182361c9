"""Migrations 0200 move databases of the old layout forward: every row survives, renamed and re-keyed.

Builds the three databases at the last version before 0200 (own prefix), fills them with rows of
the old layout, applies the rest and checks each row where it must be now.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from trend import embeddings, schema
from trend.db import connect, fetch_all


@pytest.fixture
def old_layout(databases, monkeypatch):
    monkeypatch.setenv("TP_DB_PREFIX", os.environ["TP_DB_PREFIX"] + "m0200_")
    schema.drop_databases()
    schema.migrate(target=199)
    conns = {logical: connect(logical) for logical in databases}
    yield conns
    for conn in conns.values():
        conn.close()
    schema.drop_databases()


def _exec(conn, sql: str, rows: list[tuple]) -> list[int]:
    cur, ids = conn.cursor(), []
    for row in rows:
        cur.execute(sql, row)
        ids.append(int(cur.lastrowid))
    conn.commit()
    return ids


def _seed_gb(gb) -> None:
    _exec(
        gb,
        "INSERT INTO wishlist_to_groups (wishlist_id, group_id, wishlist_name, viewpoint_category_id) "
        "VALUES (%s, %s, %s, %s)",
        [(7, 1, "Audio", 5), (7, 2, "Audio (team B)", None), (8, 1, "Solo", None)],
    )
    _exec(
        gb,
        "INSERT INTO summary_wishlist_products (wishlist_id, mall_id, mall_product_id, crawl_status) "
        "VALUES (%s, 99, %s, %s)",
        [(7, "P1", 2), (8, "P9", 0), (9, "ORPHAN", 0)],
    )
    _exec(
        gb,
        "INSERT INTO summary_wishlist_product_reviews (wishlist_id, mall_id, mall_product_id, max_reviews, "
        "crawl_status, crawl_error) VALUES (7, 99, %s, %s, %s, %s)",
        [("P1", 100, 2, None), ("P2", 50, 3, "boom")],
    )
    (category,) = _exec(
        gb,
        "INSERT INTO summary_wishlist_categories (wishlist_id, mall_id, category_code, max_products, crawl_status) "
        "VALUES (7, 99, %s, 3, 2)",
        [("speakers",)],
    )
    _exec(
        gb,
        "INSERT INTO summary_wishlist_search_queries (wishlist_id, mall_id, keyword, crawl_status) "
        "VALUES (7, 99, %s, 0)",
        [("acme",)],
    )
    _exec(
        gb,
        "INSERT INTO summary_wishlist_found_products (wishlist_id, source_table, source_id, mall_id, mall_product_id) "
        "VALUES (7, 'summary_wishlist_categories', %s, 99, %s)",
        [(category, "S1"), (category, "S2")],
    )
    _exec(
        gb,
        "INSERT INTO wishlist_dataset_histories (wishlist_id, group_id, dataset_id, snapshot_key, status, "
        "spvp_status) VALUES (7, %s, %s, %s, %s, %s)",
        [(1, 100, "a" * 64, 3, 2), (3, 101, "b" * 64, 1, 1)],
    )


def test_gb_console_rows_survive_rekeyed_per_wishlist(old_layout):
    gb = old_layout["gb_console"]
    _seed_gb(gb)
    schema.migrate(("gb_console",))
    gb.commit()
    groups = fetch_all(gb, "SELECT id, name, group_id, status, viewpoint_category_id FROM wishlist_to_groups")
    by_key = {(g["name"], g["group_id"]): g for g in groups}
    assert set(by_key) == {
        ("Audio", 1),
        ("Audio (team B)", 2),
        ("Solo", 1),
        ("wishlist 9 (no group)", 0),
        ("wishlist 7 (group no longer linked)", 3),
    }
    audio, team_b, solo = by_key[("Audio", 1)], by_key[("Audio (team B)", 2)], by_key[("Solo", 1)]
    assert (audio["status"], audio["viewpoint_category_id"]) == (1, 5)
    assert by_key[("wishlist 9 (no group)", 0)]["status"] == 0

    products = fetch_all(
        gb, "SELECT id, wishlist_to_group_id AS w, input, input_type, crawl_status FROM summary_wishlist_products"
    )
    assert sorted((p["w"], p["input"], p["crawl_status"]) for p in products) == sorted(
        [
            (audio["id"], "P1", 2),
            (team_b["id"], "P1", 2),
            (audio["id"], "P2", 3),  # derived from the review item that had no product item
            (team_b["id"], "P2", 3),
            (solo["id"], "P9", 0),
            (by_key[("wishlist 9 (no group)", 0)]["id"], "ORPHAN", 0),
        ]
    )
    assert {p["input_type"] for p in products} == {1}
    reviews = fetch_all(
        gb,
        "SELECT p.wishlist_to_group_id AS w, p.input, r.max_reviews, r.crawl_status, r.crawl_error "
        "FROM summary_wishlist_product_reviews r "
        "JOIN summary_wishlist_products p ON p.id = r.summary_wishlist_product_id",
    )
    assert sorted(
        (r["w"], r["input"], r["max_reviews"], r["crawl_status"], r["crawl_error"]) for r in reviews
    ) == sorted(
        [(w, "P1", 100, 2, None) for w in (audio["id"], team_b["id"])]
        + [(w, "P2", 50, 3, "boom") for w in (audio["id"], team_b["id"])]
    )
    categories = fetch_all(gb, "SELECT wishlist_to_group_id AS w, category_id FROM summary_wishlist_categories")
    assert sorted((c["w"], c["category_id"]) for c in categories) == [
        (audio["id"], "speakers"),
        (team_b["id"], "speakers"),
    ]
    queries = fetch_all(gb, "SELECT wishlist_to_group_id AS w, keyword FROM summary_wishlist_search_queries")
    assert sorted((q["w"], q["keyword"]) for q in queries) == [(audio["id"], "acme"), (team_b["id"], "acme")]
    found = fetch_all(
        gb, "SELECT wishlist_to_group_id AS w, source_table, mall_product_id FROM summary_wishlist_found_products"
    )
    for w in (audio["id"], team_b["id"]):
        assert sorted((f["source_table"], f["mall_product_id"]) for f in found if f["w"] == w) == [
            ("summary_wishlist_categories", "S1"),
            ("summary_wishlist_categories", "S2"),
            ("summary_wishlist_product_reviews", "P1"),
            ("summary_wishlist_products", "P1"),
        ]
    histories = fetch_all(
        gb,
        "SELECT wishlist_to_group_id AS w, dataset_id, config, snapshot_key, status, spvp_status "
        "FROM wishlist_dataset_histories ORDER BY dataset_id",
    )
    assert [(h["w"], h["dataset_id"], h["snapshot_key"], h["status"], h["spvp_status"]) for h in histories] == [
        (audio["id"], 100, "a" * 64, 3, 2),
        (by_key[("wishlist 7 (group no longer linked)", 3)]["id"], 101, "b" * 64, 1, 1),
    ]
    assert json.loads(histories[0]["config"]) == {"snapshot_key": "a" * 64}


def test_analyzer_v2_rows_survive_renamed_with_derived_dimension(old_layout):
    av = old_layout["analyzer_v2"]
    (product,) = _exec(
        av, "INSERT INTO products (mall_id, mall_product_id, name) VALUES (99, %s, %s)", [("P1", "Acme")]
    )
    (review,) = _exec(
        av,
        "INSERT INTO reviews (product_id, mall_id, mall_review_id, body, rating) VALUES (%s, 99, 'R1', %s, 4)",
        [(product, "Good sound. Weak battery.")],
    )
    blob = embeddings.to_blob(np.ones(embeddings.DIMENSION, dtype=np.float32))
    _exec(
        av,
        "INSERT INTO review_sentences (review_id, product_id, sentence_index, text, embedding, embedding_model, "
        "embedding_dim) VALUES (%s, %s, %s, %s, %s, 'all-MiniLM-L6-v2', 384)",
        [(review, product, 0, "Good sound.", blob), (review, product, 1, "Weak battery.", None)],
    )
    schema.migrate(("analyzer_v2",))
    av.commit()
    assert fetch_all(av, "SELECT content, rating FROM reviews") == [
        {"content": "Good sound. Weak battery.", "rating": 4}
    ]
    rows = fetch_all(
        av,
        "SELECT review_id, sentence_index, sentence, embedding_model, embedding_dim FROM review_sentences ORDER BY id",
    )
    assert [(r["review_id"], r["sentence_index"], r["sentence"], r["embedding_dim"]) for r in rows] == [
        (review, 0, "Good sound.", 384),
        (review, 1, "Weak battery.", None),
    ]
    assert rows[0]["embedding_model"] == "all-MiniLM-L6-v2"


def test_ds_analyzer_rows_survive_with_document_names(old_layout):
    ds = old_layout["ds_analyzer"]
    _exec(ds, "INSERT INTO viewpoint_categories (name, description) VALUES (%s, %s)", [("Audio", "headphones")])
    (dataset,) = _exec(
        ds, "INSERT INTO datasets (name, group_id, settings) VALUES ('d', 1, %s)", [('{"product_ids": [11, 12]}',)]
    )
    _exec(
        ds,
        "INSERT INTO products (dataset_id, product_id, mall_id, mall_product_id, name) VALUES (%s, %s, 99, %s, %s)",
        [(dataset, 11, "P1", "Acme One"), (dataset, 12, "P2", "Acme Two")],
    )
    _exec(
        ds,
        "INSERT INTO product_details (dataset_id, product_id, processed_name, specifications) VALUES (%s, %s, %s, %s)",
        [(dataset, 11, "acme one", '{"color": "red"}'), (dataset, 12, "acme two", None)],
    )
    _exec(
        ds,
        "INSERT INTO product_similarities (dataset_id, product_id, similar_product_id, score, rank_no, method) "
        "VALUES (%s, %s, %s, %s, 1, 'exact')",
        [(dataset, 11, 12, 0.9), (dataset, 12, 11, 0.9)],
    )
    _exec(
        ds,
        "INSERT INTO review_sentence_aivp (dataset_id, sentence_id, product_id, ai_viewpoint_id) VALUES (%s, 5, 12, 1)",
        [(dataset,)],
    )
    schema.migrate(("ds_analyzer",))
    ds.commit()
    assert fetch_all(ds, "SELECT category_name, description FROM viewpoint_categories") == [
        {"category_name": "Audio", "description": "headphones"}
    ]
    products = fetch_all(ds, "SELECT id, crawler_product_id, processed_name FROM products ORDER BY crawler_product_id")
    assert [(p["crawler_product_id"], p["processed_name"]) for p in products] == [(11, "acme one"), (12, "acme two")]
    details = fetch_all(ds, "SELECT product_id, specifications FROM product_details ORDER BY product_id")
    assert [(d["product_id"], d["specifications"]) for d in details] == [
        (products[0]["id"], '{"color": "red"}'),
        (products[1]["id"], None),
    ]
    sims = fetch_all(
        ds,
        "SELECT mall_product_id_a AS a, mall_product_id_b AS b, similarity_score FROM product_similarities ORDER BY id",
    )
    assert [(s["a"], s["b"], s["similarity_score"]) for s in sims] == [("P1", "P2", 0.9), ("P2", "P1", 0.9)]
    assert fetch_all(ds, "SELECT mall_product_id FROM review_sentence_aivp") == [{"mall_product_id": "P2"}]
