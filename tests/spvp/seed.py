"""Real test data for SPVP: a small synthetic marketplace in analyzer_v2 (real MiniLM
embeddings), the demo viewpoint file, and a dataset + history pointing at them."""

from __future__ import annotations

import json
from pathlib import Path

from trend.config import REPO_ROOT
from trend.crawl.local_source import MarketplaceDump, crawl_all_reviews
from trend.db import connect, fetch_all, transaction
from trend.spvp.viewpoints import read_file, save_category
from trend.status import SpvpStatus
from trend_dev import analysed, synthetic

VIEWPOINT_FILE = REPO_ROOT / "include" / "viewpoints" / "synthetic.yaml"


def load_market(
    tmp_path: Path,
    seed: int = 5,
    products_per_category: int = 1,
    reviews_per_product: int = 6,
    categories: list[str] | None = None,
) -> synthetic.Marketplace:
    market = synthetic.generate(
        seed=seed,
        products_per_category=products_per_category,
        reviews_per_product=reviews_per_product,
        categories=categories,
    )
    crawl_all_reviews(MarketplaceDump.load(market.write_dump(tmp_path / f"dump{seed}")), lambda: connect("analyzer_v2"))
    return market


def product_ids(db, mall_product_ids: list[str] | None = None) -> list[int]:
    rows = fetch_all(db["analyzer_v2"], "SELECT id, mall_product_id FROM products ORDER BY id")
    return [int(r["id"]) for r in rows if mall_product_ids is None or r["mall_product_id"] in mall_product_ids]


def make_dataset(
    db,
    category_id: int,
    products: list[int],
    dataset_id: int | None = None,
    spvp_status: SpvpStatus = SpvpStatus.PROCESSING,
) -> int:
    with transaction(db["ds_analyzer"]) as cur:
        cur.execute(
            "INSERT INTO datasets (name, group_id, viewpoint_category_id, settings, status) VALUES (%s, %s, %s, %s, 3)",
            ("test", 1, category_id, json.dumps({"product_ids": products})),
        )
        dataset_id = int(cur.lastrowid)
        analysed.publish_sentences(cur, dataset_id, products)
    with transaction(db["gb_console"]) as cur:
        cur.execute(
            "INSERT INTO wishlist_dataset_histories (wishlist_to_group_id, dataset_id, status, spvp_status) "
            "VALUES (1, %s, 3, %s)",
            (dataset_id, int(spvp_status)),
        )
    return dataset_id


def load_viewpoints(db) -> int:
    return save_category(db["ds_analyzer"], read_file(VIEWPOINT_FILE))


def history(db, dataset_id: int) -> dict:
    conn = db["gb_console"]
    conn.commit()  # end any snapshot so we see other connections' commits
    return fetch_all(
        conn, "SELECT spvp_status, spvp_error FROM wishlist_dataset_histories WHERE dataset_id = %s", (dataset_id,)
    )[0]


def mappings(db, category_id: int) -> list[tuple]:
    conn = db["ds_analyzer"]
    conn.commit()
    rows = fetch_all(
        conn,
        "SELECT sentence_id, viewpoint_ordinal_number, mall_product_id FROM review_sentence_spvp "
        "WHERE viewpoint_category_id = %s ORDER BY sentence_id, viewpoint_ordinal_number",
        (category_id,),
    )
    return [(r["sentence_id"], r["viewpoint_ordinal_number"], r["mall_product_id"]) for r in rows]


def last_ids(db, category_id: int) -> dict[int, int]:
    conn = db["ds_analyzer"]
    conn.commit()
    rows = fetch_all(
        conn,
        "SELECT ordinal_number, last_object_id FROM specific_viewpoints WHERE viewpoint_category_id = %s",
        (category_id,),
    )
    return {int(r["ordinal_number"]): int(r["last_object_id"]) for r in rows}


def sentence_ids(db) -> list[int]:
    conn = db["analyzer_v2"]
    conn.commit()
    return [int(r["id"]) for r in fetch_all(conn, "SELECT id FROM review_sentences ORDER BY id")]
