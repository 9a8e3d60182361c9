"""Crawl sync figures: claim throughput under concurrency, and local-source ingest speed."""

from __future__ import annotations

import os
import tempfile
import threading
import time

os.environ.setdefault("TP_DB_PREFIX", f"bench{os.getpid()}_")

from trend import schema
from trend.crawl.claims import claim_items, record_outcomes
from trend.crawl.items import CrawlOutcome
from trend.crawl.local_source import MarketplaceDump, crawl_all_reviews
from trend.db import connect, table
from trend_dev import synthetic


def _claims(items: int, workers: int, batch: int) -> None:
    conn = connect()
    cur = conn.cursor()
    cur.execute(f"TRUNCATE {table('gb_console', 'summary_wishlist_products')}")
    cur.execute(
        f"INSERT INTO {table('gb_console', 'wishlist_to_groups')} (name, group_id, status) VALUES ('bench', 1, 1)"
    )
    wishlist = cur.lastrowid
    cur.executemany(
        f"INSERT INTO {table('gb_console', 'summary_wishlist_products')} "
        "(wishlist_to_group_id, input, input_type, mall_id) VALUES (%s, %s, 1, 99)",
        [(wishlist, f"P{i}") for i in range(items)],
    )
    conn.commit()
    conn.close()
    claimed: list[int] = []

    def worker():
        c = connect("gb_console")
        while True:
            got = claim_items(c, limit_per_kind=batch).claimed
            if not got:
                break
            record_outcomes(c, [CrawlOutcome.success(i, []) for i in got])
            claimed.extend(i.item_id for i in got)
        c.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    dupes = len(claimed) - len(set(claimed))
    print(
        f"claim+record {items} items, {workers} workers, batch {batch}: {elapsed:.2f} s "
        f"({items / elapsed:.0f} items/s), duplicates {dupes}"
    )


def _ingest() -> None:
    market = synthetic.generate(seed=3, products_per_category=4, reviews_per_product=40)
    with tempfile.TemporaryDirectory() as folder:
        dump = MarketplaceDump.load(market.write_dump(folder))
        connect("analyzer_v2").close()
        from trend import embeddings

        embeddings.encode(["warm up"])
        started = time.perf_counter()
        stats = crawl_all_reviews(dump, lambda: connect("analyzer_v2"))
        elapsed = time.perf_counter() - started
    print(
        f"local source ingest: {stats.reviews_added} reviews, {stats.sentences_added} sentences in "
        f"{elapsed:.1f} s ({stats.sentences_added / elapsed:.0f} sentences/s incl. MiniLM embedding)"
    )


def main() -> None:
    schema.migrate()
    try:
        _claims(10_000, 1, 200)
        _claims(10_000, 4, 200)
        _ingest()
    finally:
        schema.drop_databases()


if __name__ == "__main__":
    main()
