"""The shared schema is a contract: the design document's tables, fields and writes work as written.

The document (dataset workflow, "Key Database Tables" and "Detailed Data Changes") names every
table.field below; trend-viewer-api writes Phase 1, the Crawler Service writes analyzer_v2. Their
statements are replayed here verbatim, values filled in, against the migrated schema.
"""

from __future__ import annotations

import numpy as np

from trend import embeddings
from trend.config import db_name
from trend.db import connect, fetch_all

CONTRACT: dict[str, dict[str, tuple[str, ...]]] = {
    "gb_console": {
        "wishlist_to_groups": ("name", "group_id", "subscription_id", "status"),
        "summary_wishlist_products": ("wishlist_to_group_id", "input", "input_type", "mall_id", "crawl_status"),
        "summary_wishlist_product_reviews": ("summary_wishlist_product_id", "schedule_id", "crawl_status"),
        "summary_wishlist_categories": ("category_id", "mall_id", "wishlist_to_group_id", "crawl_status"),
        "summary_wishlist_search_queries": ("keyword", "mall_id", "wishlist_to_group_id", "crawl_status"),
        "wishlist_dataset_histories": ("wishlist_to_group_id", "dataset_id", "config", "status", "spvp_status"),
    },
    "analyzer_v2": {
        "products": ("name", "description", "price", "mall_id"),
        "reviews": ("product_id", "content", "rating"),
        "review_sentences": ("review_id", "sentence", "embedding"),
    },
    "ds_analyzer": {
        "datasets": ("name", "group_id", "viewpoint_category_id", "settings", "status", "progress", "error_code"),
        "products": ("dataset_id", "crawler_product_id", "processed_name"),
        "product_details": ("product_id", "specifications", "metadata"),
        "product_similarities": ("dataset_id", "mall_product_id_a", "mall_product_id_b", "similarity_score"),
        "ai_viewpoints": ("dataset_id", "cluster_id", "name", "description"),
        "review_sentence_aivp": ("sentence_id", "dataset_id", "ai_viewpoint_id", "mall_product_id"),
        "reviews": ("dataset_id", "product_id", "sentiment_overall"),
        "review_sentences": ("dataset_id", "ai_viewpoint_id", "cluster_id", "is_noise"),
        "specific_viewpoints": ("viewpoint_category_id", "last_object_id"),
        "viewpoint_categories": ("category_name", "description"),
        "review_sentence_spvp": ("sentence_id", "viewpoint_ordinal_number", "mall_product_id", "viewpoint_category_id"),
    },
}


def _columns() -> set[tuple[str, str, str]]:
    conn = connect()
    try:
        rows = fetch_all(
            conn,
            "SELECT table_schema AS s, table_name AS t, column_name AS c FROM information_schema.columns "
            f"WHERE table_schema IN ({', '.join(['%s'] * len(CONTRACT))})",
            [db_name(logical) for logical in CONTRACT],
        )
    finally:
        conn.close()
    logical = {db_name(name): name for name in CONTRACT}
    return {(logical[r["s"]], r["t"], r["c"]) for r in rows}


def test_every_contract_field_exists(databases):
    present = _columns()
    wanted = [(db, t, f) for db, tables in CONTRACT.items() for t, fields in tables.items() for f in fields]
    missing = [f"{db}.{t}.{f}" for db, t, f in wanted if (db, t, f) not in present]
    assert not missing, f"{len(missing)} of {len(wanted)} contract fields missing: {missing}"


def _q(sql: str) -> str:
    """The document writes ``gb_console.table``; our databases may carry a prefix (tests, demo)."""
    for name in CONTRACT:
        sql = sql.replace(f"{name}.", f"`{db_name(name)}`.")
    return sql


class _Replay:
    """Runs each statement on its own (autocommit) and records which ones the schema refused."""

    def __init__(self, conn):
        self.conn, self.failures = conn, []

    def run(self, label: str, sql: str, params: tuple) -> int | None:
        cur = self.conn.cursor()
        try:
            cur.execute(_q(sql), params)
        except Exception as exc:  # record and go on: the report lists every refused write
            self.failures.append(f"{label}: {exc.args[-1] if exc.args else exc}")
            return None
        return int(cur.lastrowid)


def test_external_writes_succeed_verbatim(db):
    """Phase 1 (trend-viewer-api → gb_console) and the Crawler Service's analyzer_v2 inserts."""
    conn = connect(autocommit=True)
    replay = _Replay(conn)
    try:
        # Phase 1: Wishlist Creation
        wishlist = replay.run(
            "wishlist_to_groups",
            "INSERT INTO gb_console.wishlist_to_groups (name, group_id, subscription_id, status) "
            "VALUES (%s, %s, %s, %s)",
            ("Headphones 2026", 41, 7, 1),
        )
        item = replay.run(
            "summary_wishlist_products",
            "INSERT INTO gb_console.summary_wishlist_products "
            "(wishlist_to_group_id, input, input_type, mall_id, crawl_status) VALUES (%s, %s, %s, %s, %s)",
            (wishlist or 1, "SYN-HEA-0001", 1, 99, 0),
        )
        replay.run(
            "summary_wishlist_product_reviews",
            "INSERT INTO gb_console.summary_wishlist_product_reviews "
            "(summary_wishlist_product_id, schedule_id, crawl_status) VALUES (%s, %s, %s)",
            (item or 1, 3, 0),
        )
        replay.run(
            "summary_wishlist_categories",
            "INSERT INTO gb_console.summary_wishlist_categories "
            "(category_id, mall_id, wishlist_to_group_id, crawl_status) VALUES (%s, %s, %s, %s)",
            ("speakers", 99, wishlist or 1, 0),
        )
        replay.run(
            "summary_wishlist_search_queries",
            "INSERT INTO gb_console.summary_wishlist_search_queries "
            "(keyword, mall_id, wishlist_to_group_id, crawl_status) VALUES (%s, %s, %s, %s)",
            ("noise cancelling", 99, wishlist or 1, 0),
        )
        # Phase 2: raw data from the Crawler Service
        product = replay.run(
            "analyzer_v2.products",
            "INSERT INTO analyzer_v2.products (name, description, price, mall_id) VALUES (%s, %s, %s, %s)",
            ("Acme Headphones", "Over-ear, 30 h battery", 129.0, 99),
        )
        review = replay.run(
            "analyzer_v2.reviews",
            "INSERT INTO analyzer_v2.reviews (product_id, content, rating) VALUES (%s, %s, %s)",
            (product or 1, "Great sound. The battery lasts for days.", 5),
        )
        vector = embeddings.to_blob(np.full(embeddings.DIMENSION, 0.05, dtype=np.float32))
        for text in ("Great sound.", "The battery lasts for days."):
            replay.run(
                "analyzer_v2.review_sentences",
                "INSERT INTO analyzer_v2.review_sentences (review_id, sentence, embedding) VALUES (%s, %s, %s)",
                (review or 1, text, vector),
            )
    finally:
        conn.close()
    assert not replay.failures, "external writes refused by the schema:\n" + "\n".join(replay.failures)


def test_externally_written_rows_flow_into_our_pipeline(db):
    """Rows written exactly as the document shows are claimed for crawling and pass the analyzer's input checks."""
    from trend.analyzer.extract import validate_input
    from trend.crawl.claims import claim_items
    from trend.crawl.items import CrawlKind

    conn = connect(autocommit=True)
    try:
        cur = conn.cursor()
        cur.execute(
            _q(
                "INSERT INTO gb_console.wishlist_to_groups (name, group_id, subscription_id, status) "
                "VALUES (%s, %s, %s, %s)",
            ),
            ("Audio", 3, 9, 1),
        )
        wishlist = cur.lastrowid
        cur.execute(
            _q(
                "INSERT INTO gb_console.summary_wishlist_products "
                "(wishlist_to_group_id, input, input_type, mall_id, crawl_status) VALUES (%s, %s, %s, %s, %s)",
            ),
            (wishlist, "SYN-HEA-0001", 1, 99, 0),
        )
        cur.execute(
            _q(
                "INSERT INTO gb_console.summary_wishlist_product_reviews "
                "(summary_wishlist_product_id, schedule_id, crawl_status) VALUES (%s, %s, %s)",
            ),
            (cur.lastrowid, 1, 0),
        )
        cur.execute(
            _q("INSERT INTO analyzer_v2.products (name, description, price, mall_id) VALUES (%s, %s, %s, %s)"),
            ("Acme", None, 10.0, 99),
        )
        product = cur.lastrowid
        cur.execute(
            _q("INSERT INTO analyzer_v2.reviews (product_id, content, rating) VALUES (%s, %s, %s)"),
            (product, "Loud.", 4),
        )
        cur.execute(
            _q("INSERT INTO analyzer_v2.review_sentences (review_id, sentence, embedding) VALUES (%s, %s, %s)"),
            (cur.lastrowid, "Loud.", embeddings.to_blob(np.ones(embeddings.DIMENSION, dtype=np.float32))),
        )
    finally:
        conn.close()
    claimed = claim_items(db["gb_console"]).claimed
    assert sorted((i.kind, i.wishlist_id, i.target) for i in claimed) == [
        (CrawlKind.PRODUCT, wishlist, "SYN-HEA-0001"),
        (CrawlKind.PRODUCT_REVIEWS, wishlist, "SYN-HEA-0001"),
    ]
    summary = validate_input(db["analyzer_v2"], 1, [product])
    assert summary.sentence_count == 1
