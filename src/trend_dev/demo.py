"""`make demo` helpers: check the server, reset the demo databases, seed a wishlist, report.

The demo uses its own database prefix (``TP_DB_PREFIX``, default ``demo_`` set
by scripts/demo.sh), so it never touches real gb_console/analyzer_v2/ds_analyzer.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trend import schema
from trend.config import LOGICAL_DATABASES, MysqlSettings, db_name
from trend.crawl.items import CrawlKind, items_sql
from trend.db import DatabaseUnavailable, connect, fetch_all, table
from trend.status import CrawlStatus, DatasetStatus, SpvpStatus
from trend_dev import synthetic, wishlists

DEMO_WISHLIST = 1001  # gb_console.wishlist_to_groups.id of the demo's wishlists
BROKEN_WISHLIST = 1002
DEMO_GROUP = 1


def check() -> None:
    try:
        connect().close()
    except DatabaseUnavailable as exc:
        sys.exit(f"demo: {exc}")
    print(
        f"demo: MySQL server answers at {MysqlSettings.from_env()!r}; databases "
        + ", ".join(db_name(d) for d in LOGICAL_DATABASES)
    )


def reset() -> None:
    schema.drop_databases()
    applied = schema.migrate()
    print(f"demo: created databases and applied migrations {applied}")


def seed(dump_dir: Path) -> None:
    market = synthetic.generate(seed=7, products_per_category=4, reviews_per_product=12)
    market.write_dump(dump_dir)
    watch = next(p for p in market.products if p.category_code == "smartwatches")
    conn = connect()
    try:
        cur = conn.cursor()
        demo = wishlists.wishlist(cur, "Audio & wearables", DEMO_GROUP, wishlist_id=DEMO_WISHLIST)
        broken = wishlists.wishlist(cur, "Broken input", DEMO_GROUP, wishlist_id=BROKEN_WISHLIST)
        for p in market.products:
            if p.category_code == "headphones":
                wishlists.product_with_reviews(cur, demo, p.mall_product_id, schedule_id=1, max_reviews=100)
        wishlists.category(cur, demo, "speakers", max_products=3)
        wishlists.search_query(cur, demo, watch.brand.lower(), max_products=2)
        # A second wishlist with bad input: unknown mall and an empty keyword.
        wishlists.product(cur, broken, "X-1", mall_id=12345)
        wishlists.search_query(cur, broken, "")
        conn.commit()
    finally:
        conn.close()
    print(
        f"demo: synthetic marketplace ({len(market.products)} products, {len(market.reviews)} reviews, "
        f"{market.sentence_count()} sentences) written to {dump_dir}"
    )
    print(
        f"demo: seeded wishlist {DEMO_WISHLIST} (4 products with reviews, 1 category, 1 search query) and "
        f"wishlist {BROKEN_WISHLIST} (bad input)"
    )


def _count(conn, logical: str, name: str) -> int:
    return int(fetch_all(conn, f"SELECT COUNT(*) AS n FROM {table(logical, name)}")[0]["n"])


def report() -> None:
    conn = connect()
    try:
        print("\n--- crawl items ---")
        for name in (
            "summary_wishlist_products",
            "summary_wishlist_product_reviews",
            "summary_wishlist_categories",
            "summary_wishlist_search_queries",
        ):
            kind = next(k for k in CrawlKind if k.table == name)
            for row in fetch_all(
                conn,
                f"SELECT v.wishlist_to_group_id AS w, v.crawl_status, i.crawl_error FROM ({items_sql(kind)}) v "
                f"JOIN {table('gb_console', name)} i ON i.id = v.id ORDER BY v.id",
            ):
                status = CrawlStatus(row["crawl_status"]).name
                error = f"  ({row['crawl_error']})" if row["crawl_error"] else ""
                print(f"  wishlist {row['w']}  {name:<34} {status}{error}")
        print("\n--- rows ---")
        for logical, names in (
            ("analyzer_v2", ("products", "reviews", "review_sentences")),
            (
                "ds_analyzer",
                (
                    "datasets",
                    "products",
                    "product_details",
                    "product_similarities",
                    "ai_viewpoints",
                    "review_sentence_aivp",
                    "reviews",
                    "review_sentences",
                    "review_sentence_spvp",
                ),
            ),
            ("gb_console", ("wishlist_dataset_histories",)),
        ):
            print("  " + ", ".join(f"{logical}.{n} {_count(conn, logical, n)}" for n in names))
        print("\n--- datasets ---")
        for row in fetch_all(
            conn,
            f"""SELECT d.id, d.name, d.status, d.progress, d.error_code,
                                        JSON_LENGTH(d.settings, '$.product_ids') AS products,
                                        h.status AS h_status, h.spvp_status
                                   FROM {table("ds_analyzer", "datasets")} d
                                   LEFT JOIN {table("gb_console", "wishlist_dataset_histories")} h
                                     ON h.dataset_id = d.id ORDER BY d.id""",
        ):
            print(
                f"  dataset {row['id']} '{row['name']}': {row['products']} products, "
                f"status {DatasetStatus(row['status']).name}, progress {row['progress']}, "
                f"error_code {row['error_code']}; history status {row['h_status']}, "
                f"spvp_status {SpvpStatus(row['spvp_status']).name if row['spvp_status'] else None}"
            )
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m trend_dev.demo")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check")
    sub.add_parser("reset")
    seed_cmd = sub.add_parser("seed")
    seed_cmd.add_argument("--dump", type=Path, required=True)
    sub.add_parser("report")
    args = parser.parse_args(argv)
    if args.command == "seed":
        seed(args.dump)
    else:
        {"check": check, "reset": reset, "report": report}[args.command]()


if __name__ == "__main__":
    main()
