"""SPVP throughput: the Spark job (JDBC read, mapInPandas scoring, ordered batch commits)
on a larger synthetic marketplace, in its own databases (prefix bench_spvp_).

Embeddings are real MiniLM vectors; the synthetic texts repeat, so each distinct
text is embedded once and stored for every sentence that uses it.
"""

from __future__ import annotations

import json
import os
import sys
import time

SIZE = dict(seed=3, products_per_category=10, reviews_per_product=80)


def _load(market, encode) -> None:
    from trend import embeddings
    from trend.db import connect, transaction

    texts = sorted({s.text for r in market.reviews for s in r.sentences})
    vector = dict(zip(texts, encode(texts)))
    conn = connect("analyzer_v2")
    try:
        with transaction(conn) as cur:
            for p in market.products:
                cur.execute(
                    "INSERT INTO products (mall_id, mall_product_id, name) VALUES (%s, %s, %s)",
                    (p.mall_id, p.mall_product_id, p.name),
                )
                pid = cur.lastrowid
                for r in market.reviews_of(p.mall_product_id):
                    cur.execute(
                        "INSERT INTO reviews (product_id, mall_id, mall_review_id, content) VALUES (%s, %s, %s, %s)",
                        (pid, r.mall_id, r.mall_review_id, r.content),
                    )
                    rid = cur.lastrowid
                    cur.executemany(
                        "INSERT INTO review_sentences (review_id, sentence_index, sentence, embedding, "
                        "embedding_model) VALUES (%s, %s, %s, %s, %s)",
                        [
                            (rid, i, s.text, embeddings.to_blob(vector[s.text]), embeddings.MODEL_NAME)
                            for i, s in enumerate(r.sentences)
                        ],
                    )
    finally:
        conn.close()


def main() -> None:
    saved = os.environ.get("TP_DB_PREFIX")
    os.environ["TP_DB_PREFIX"] = "bench_spvp_"
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    try:
        _bench()
    finally:
        from trend import schema

        schema.drop_databases()
        if saved is None:
            os.environ.pop("TP_DB_PREFIX", None)
        else:
            os.environ["TP_DB_PREFIX"] = saved


def _bench() -> None:
    from trend import embeddings, schema
    from trend.config import REPO_ROOT
    from trend.db import connect, fetch_all, transaction
    from trend.spark import build_session
    from trend.spvp.runner import run
    from trend.spvp.settings import SpvpConfig
    from trend.spvp.viewpoints import read_file, save_category
    from trend.status import SpvpStatus
    from trend_dev import analysed, synthetic

    schema.drop_databases()
    schema.migrate()
    market = synthetic.generate(**SIZE)
    started = time.perf_counter()
    _load(market, embeddings.encode)
    print(f"loaded {market.sentence_count()} sentences in {time.perf_counter() - started:.1f} s")

    ds = connect("ds_analyzer")
    category = save_category(ds, read_file(REPO_ROOT / "include" / "viewpoints" / "synthetic.yaml"))
    product_ids = [int(r["id"]) for r in fetch_all(connect("analyzer_v2"), "SELECT id FROM products")]
    with transaction(ds) as cur:
        cur.execute(
            "INSERT INTO datasets (name, group_id, viewpoint_category_id, settings) VALUES ('bench', 1, %s, %s)",
            (category, json.dumps({"product_ids": product_ids})),
        )
        dataset = cur.lastrowid
        analysed.publish_sentences(cur, dataset, product_ids)
    gb = connect("gb_console")
    with transaction(gb) as cur:
        cur.execute(
            "INSERT INTO wishlist_dataset_histories (wishlist_to_group_id, dataset_id, spvp_status) VALUES (1, %s, %s)",
            (dataset, int(SpvpStatus.PROCESSING)),
        )

    spark = build_session("spvp-bench", master="local[2]", shuffle_partitions=2)
    try:
        report = run(spark, dataset, SpvpConfig(batch_size=1000))
    finally:
        spark.stop()
    print(report.summary())

    truth = {(r.mall_review_id, i): s.aspect for r in market.reviews for i, s in enumerate(r.sentences)}
    rows = fetch_all(
        connect("ds_analyzer"),
        "SELECT m.sentence_id, v.name FROM review_sentence_spvp m JOIN "
        "specific_viewpoints v ON v.viewpoint_category_id = m.viewpoint_category_id "
        "AND v.ordinal_number = m.viewpoint_ordinal_number",
    )
    keys = {
        int(r["id"]): (r["mall_review_id"], int(r["sentence_index"]))
        for r in fetch_all(
            connect("analyzer_v2"),
            "SELECT s.id, r.mall_review_id, s.sentence_index FROM review_sentences s "
            "JOIN reviews r ON r.id = s.review_id",
        )
    }
    predicted = {(r["sentence_id"], r["name"].lower()) for r in rows}
    actual = {(sid, truth[key]) for sid, key in keys.items() if truth[key]}
    tp = len(predicted & actual)
    print(
        f"F1 against synthetic truth {2 * tp / (len(predicted) + len(actual)):.4f} "
        f"({len(predicted)} mappings, {len(actual)} true aspect mentions)"
    )


if __name__ == "__main__":
    main()
