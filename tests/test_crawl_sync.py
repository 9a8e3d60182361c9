"""Crawl sync against the real MariaDB: claims, outcomes, errors, cancellations, bad input."""

import threading

from trend.crawl.claims import claim_new_items, fail_stuck_items, record_outcomes
from trend.crawl.items import CrawlOutcome
from trend.crawl.local_source import LocalMarketplaceSource, MarketplaceDump
from trend.crawl.sync import sync_once
from trend.db import connect, fetch_all
from trend.status import CrawlStatus, Mall
from trend_dev import synthetic, wishlists


def _gb():
    return connect("gb_console")


def _insert_products(conn, ids, mall=Mall.SYNTHETIC, with_reviews=False) -> int:
    """Product items (and their reviews items) of one new active wishlist; returns its id."""
    cur = conn.cursor()
    wishlist = wishlists.wishlist(cur, "crawl test")
    for pid in ids:
        item = wishlists.product(cur, wishlist, pid, mall_id=mall)
        if with_reviews:
            wishlists.product_reviews(cur, item)
    conn.commit()
    return wishlist


def _statuses(conn, table="summary_wishlist_products"):
    conn.commit()
    return {
        r["input"]: (r["crawl_status"], r["crawl_error"])
        for r in fetch_all(conn, f"SELECT input, crawl_status, crawl_error FROM {table}")
    }


def test_concurrent_claims_never_overlap(db):
    _insert_products(db["gb_console"], [f"P{i}" for i in range(200)])
    results, barrier = [], threading.Barrier(4)

    def claimer():
        conn = _gb()
        try:
            barrier.wait()
            mine = []
            while True:
                batch = claim_new_items(conn, limit_per_kind=7).claimed
                if not batch:
                    break
                mine += [i.item_id for i in batch]
            results.append(mine)
        finally:
            conn.close()

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [i for r in results for i in r]
    assert len(claimed) == 200 and len(set(claimed)) == 200
    assert sum(1 for r in results if r) >= 2  # work really was shared
    assert {s for s, _ in _statuses(db["gb_console"]).values()} == {CrawlStatus.IN_PROGRESS}


class ExplodingCrawler:
    def crawl(self, items):
        raise ConnectionError("crawler unreachable")


class CancelingCrawler:
    def crawl(self, items):
        return [CrawlOutcome.canceled(i, "canceled by operator") for i in items]


def test_crawler_failure_sets_error_with_reason_and_loses_nothing(db):
    _insert_products(db["gb_console"], ["A", "B"])
    report = sync_once(_gb, ExplodingCrawler())
    assert report.recorded["ERROR"] == 2
    statuses = _statuses(db["gb_console"])
    assert {s for s, _ in statuses.values()} == {CrawlStatus.ERROR}
    assert all("crawler unreachable" in e for _, e in statuses.values())


def test_canceled_items_are_recorded_as_canceled(db):
    _insert_products(db["gb_console"], ["A"])
    sync_once(_gb, CancelingCrawler())
    assert _statuses(db["gb_console"]) == {"A": (CrawlStatus.CANCELED, "canceled by operator")}


def test_bad_input_goes_to_error_and_good_items_still_crawl(db, tmp_path):
    market = synthetic.generate(seed=5, products_per_category=1, reviews_per_product=2)
    source = LocalMarketplaceSource(MarketplaceDump.load(market.write_dump(tmp_path)), lambda: connect("analyzer_v2"))
    good = market.products[0].mall_product_id
    wishlist = _insert_products(db["gb_console"], [good], with_reviews=True)
    _insert_products(db["gb_console"], ["X1"], mall=777)
    cur = db["gb_console"].cursor()
    wishlists.search_query(cur, wishlist, "")
    db["gb_console"].commit()

    report = sync_once(_gb, source)
    assert (report.claimed, report.rejected) == (2, 2)  # good's product and reviews items
    statuses = _statuses(db["gb_console"])
    assert statuses[good] == (CrawlStatus.SUCCESS, None)
    assert statuses["X1"][0] == CrawlStatus.ERROR and "unknown mall_id 777" in statuses["X1"][1]
    query = fetch_all(db["gb_console"], "SELECT crawl_status, crawl_error FROM summary_wishlist_search_queries")
    assert query[0]["crawl_status"] == CrawlStatus.ERROR and "empty keyword" in query[0]["crawl_error"]
    reviews = fetch_all(db["analyzer_v2"], "SELECT COUNT(*) AS n FROM reviews")[0]["n"]
    assert reviews == len(market.reviews_of(good))


def test_recording_twice_changes_nothing(db):
    _insert_products(db["gb_console"], ["A"])
    conn = _gb()
    try:
        items = claim_new_items(conn).claimed
        outcome = [CrawlOutcome.success(items[0], ["A"])]
        assert record_outcomes(conn, outcome)["SUCCESS"] == 1
        again = record_outcomes(conn, [CrawlOutcome.failed(items[0], "late duplicate")])
        assert again["skipped"] == 1
    finally:
        conn.close()
    assert _statuses(db["gb_console"]) == {"A": (CrawlStatus.SUCCESS, None)}


def test_items_stuck_in_progress_past_timeout_go_to_error(db):
    _insert_products(db["gb_console"], ["OLD", "NEW"])
    cur = db["gb_console"].cursor()
    cur.execute(
        "UPDATE summary_wishlist_products SET crawl_status = 1, claimed_at = "
        "CASE input WHEN 'OLD' THEN NOW(3) - INTERVAL 3 HOUR ELSE NOW(3) END"
    )
    db["gb_console"].commit()
    conn = _gb()
    try:
        failed = fail_stuck_items(conn, timeout_minutes=60)
    finally:
        conn.close()
    assert len(failed) == 1
    statuses = _statuses(db["gb_console"])
    assert statuses["OLD"][0] == CrawlStatus.ERROR and "stuck" in statuses["OLD"][1]
    assert statuses["NEW"] == (CrawlStatus.IN_PROGRESS, None)


def test_category_item_records_found_products(db, tmp_path):
    market = synthetic.generate(seed=5, products_per_category=3, reviews_per_product=1)
    source = LocalMarketplaceSource(MarketplaceDump.load(market.write_dump(tmp_path)), lambda: connect("analyzer_v2"))
    cur = db["gb_console"].cursor()
    wishlist = wishlists.wishlist(cur, "categories")
    wishlists.category(cur, wishlist, "headphones", max_products=2)
    db["gb_console"].commit()
    sync_once(_gb, source)
    found = fetch_all(
        db["gb_console"],
        "SELECT mall_product_id FROM summary_wishlist_found_products WHERE wishlist_to_group_id = %s "
        "ORDER BY mall_product_id",
        (wishlist,),
    )
    assert [r["mall_product_id"] for r in found] == ["SYN-HEA-0001", "SYN-HEA-0002"]
