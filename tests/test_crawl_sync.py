"""Crawl sync against the real MariaDB: claims, outcomes, errors, cancellations, bad input."""

import threading

import pytest

from trend.crawl.claims import claim_items, record_outcomes
from trend.crawl.items import CrawlOutcome
from trend.crawl.local_source import LocalMarketplaceSource, MarketplaceDump, crawl_all_reviews
from trend.crawl.recovery import UnknownWishlistItems, reconcile_stuck_items, retry_failed_items
from trend.crawl.retry import DEFAULT_POLICY, RetryPolicy
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
                batch = claim_items(conn, limit_per_kind=7).claimed
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
        items = claim_items(conn).claimed
        outcome = [CrawlOutcome.success(items[0], ["A"])]
        assert record_outcomes(conn, outcome)["SUCCESS"] == 1
        again = record_outcomes(conn, [CrawlOutcome.failed(items[0], "late duplicate")])
        assert again["skipped"] == 1
    finally:
        conn.close()
    assert _statuses(db["gb_console"]) == {"A": (CrawlStatus.SUCCESS, None)}


def test_stuck_items_whose_data_arrived_become_success_the_others_error(db, tmp_path):
    market = synthetic.generate(seed=5, products_per_category=1, reviews_per_product=1)
    arrived = market.products[0].mall_product_id
    wishlist = _insert_products(db["gb_console"], [arrived, "LOST", "RECENT"])
    cur = db["gb_console"].cursor()
    cur.execute(
        "UPDATE summary_wishlist_products SET crawl_status = 1, claimed_at = "
        "CASE input WHEN 'RECENT' THEN NOW(3) ELSE NOW(3) - INTERVAL 3 HOUR END"
    )
    db["gb_console"].commit()
    # the crawler stored the product (after the claim) but never reported back
    crawl_all_reviews(MarketplaceDump.load(market.write_dump(tmp_path)), lambda: connect("analyzer_v2"))
    conn = connect()
    try:
        done = reconcile_stuck_items(conn, timeout_minutes=60)
    finally:
        conn.close()
    assert (len(done["success"]), len(done["error"])) == (1, 1)
    statuses = _statuses(db["gb_console"])
    assert statuses[arrived] == (CrawlStatus.SUCCESS, None)
    assert statuses["LOST"][0] == CrawlStatus.ERROR and "no data arrived" in statuses["LOST"][1]
    assert statuses["RECENT"] == (CrawlStatus.IN_PROGRESS, None)
    found = fetch_all(
        db["gb_console"], "SELECT wishlist_to_group_id AS w, mall_product_id FROM summary_wishlist_found_products"
    )
    assert [(f["w"], f["mall_product_id"]) for f in found] == [(wishlist, arrived)]
    lost = _retry_state(db["gb_console"], "LOST")
    assert lost["attempt_count"] == 1 and lost["wait"] == pytest.approx(DEFAULT_POLICY.base_seconds, abs=5)


def _retry_state(conn, input_: str) -> dict:
    conn.commit()
    return fetch_all(
        conn,
        "SELECT crawl_status, crawl_error, attempt_count, "
        "TIMESTAMPDIFF(SECOND, CURRENT_TIMESTAMP(3), next_attempt_at) AS wait "
        "FROM summary_wishlist_products WHERE input = %s",
        (input_,),
    )[0]


def _make_due(conn) -> None:
    conn.cursor().execute(
        "UPDATE summary_wishlist_products SET next_attempt_at = NOW(3) - INTERVAL 1 SECOND "
        "WHERE next_attempt_at IS NOT NULL"
    )
    conn.commit()


def test_transient_errors_are_retried_with_backoff_up_to_a_limit(db, tmp_path):
    market = synthetic.generate(seed=5, products_per_category=1, reviews_per_product=1)
    good = market.products[0].mall_product_id
    _insert_products(db["gb_console"], [good])
    policy = RetryPolicy(max_attempts=3, base_seconds=60, max_delay_seconds=3600)
    waits = []
    for attempt in (1, 2):
        assert sync_once(_gb, ExplodingCrawler(), retry_policy=policy).claimed == 1
        state = _retry_state(db["gb_console"], good)
        assert (state["crawl_status"], state["attempt_count"]) == (CrawlStatus.ERROR, attempt)
        waits.append(state["wait"])
        assert sync_once(_gb, ExplodingCrawler(), retry_policy=policy).claimed == 0  # not due yet
        _make_due(db["gb_console"])
    assert waits == [pytest.approx(60, abs=5), pytest.approx(120, abs=5)]  # exponential backoff

    source = LocalMarketplaceSource(MarketplaceDump.load(market.write_dump(tmp_path)), lambda: connect("analyzer_v2"))
    assert sync_once(_gb, source, retry_policy=policy).claimed == 1  # the due retry now succeeds
    state = _retry_state(db["gb_console"], good)
    assert (state["crawl_status"], state["attempt_count"], state["wait"]) == (CrawlStatus.SUCCESS, 0, None)

    # a limit: after max_attempts failures no automatic retry is scheduled, and the error says so
    _insert_products(db["gb_console"], ["FLAKY"])
    for _ in range(3):
        _make_due(db["gb_console"])
        assert sync_once(_gb, ExplodingCrawler(), retry_policy=policy).claimed == 1
    state = _retry_state(db["gb_console"], "FLAKY")
    assert (state["attempt_count"], state["wait"]) == (3, None)
    assert "no automatic retry left after 3 attempts" in state["crawl_error"]
    _make_due(db["gb_console"])
    assert sync_once(_gb, ExplodingCrawler(), retry_policy=policy).claimed == 0


def test_permanent_errors_and_cancellations_are_not_retried_automatically(db, tmp_path):
    market = synthetic.generate(seed=5, products_per_category=1, reviews_per_product=1)
    source = LocalMarketplaceSource(MarketplaceDump.load(market.write_dump(tmp_path)), lambda: connect("analyzer_v2"))
    _insert_products(db["gb_console"], ["NOT-IN-MALL"])
    _insert_products(db["gb_console"], ["BAD-MALL"], mall=777)
    sync_once(_gb, source)
    _insert_products(db["gb_console"], ["STOPPED"])
    sync_once(_gb, CancelingCrawler())
    for input_ in ("NOT-IN-MALL", "BAD-MALL", "STOPPED"):
        assert _retry_state(db["gb_console"], input_)["wait"] is None
    assert {s for s, _ in _statuses(db["gb_console"]).values()} == {CrawlStatus.ERROR, CrawlStatus.CANCELED}


def test_manual_retry_resets_one_wishlists_failed_items_only(db, tmp_path):
    market = synthetic.generate(seed=5, products_per_category=1, reviews_per_product=1)
    good = market.products[0].mall_product_id
    mine = _insert_products(db["gb_console"], [good], with_reviews=True)
    other = _insert_products(db["gb_console"], ["OTHER"])
    sync_once(_gb, ExplodingCrawler())
    cur = db["gb_console"].cursor()
    cur.execute("UPDATE summary_wishlist_products SET crawl_status = 4 WHERE input = %s", (good,))  # canceled
    db["gb_console"].commit()
    conn = _gb()
    try:
        assert retry_failed_items(conn, mine) == {
            "summary_wishlist_products": 1,
            "summary_wishlist_product_reviews": 1,
            "summary_wishlist_categories": 0,
            "summary_wishlist_search_queries": 0,
        }
        assert sum(retry_failed_items(conn, mine).values()) == 0  # idempotent
        with pytest.raises(UnknownWishlistItems, match="wishlist 404 does not exist"):
            retry_failed_items(conn, 404)
    finally:
        conn.close()
    assert _statuses(db["gb_console"])[good] == (CrawlStatus.NEW, None)
    assert _statuses(db["gb_console"])["OTHER"][0] == CrawlStatus.ERROR
    source = LocalMarketplaceSource(MarketplaceDump.load(market.write_dump(tmp_path)), lambda: connect("analyzer_v2"))
    assert sync_once(_gb, source, wishlist_id=mine).claimed == 2
    assert _statuses(db["gb_console"], "summary_wishlist_products")[good] == (CrawlStatus.SUCCESS, None)
    assert other != mine


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
