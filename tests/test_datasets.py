"""Dataset creation against the real MariaDB: dataset creation and history reconciliation."""

import json

import pytest

from trend.crawl.local_source import LocalMarketplaceSource, MarketplaceDump
from trend.crawl.sync import sync_once
from trend.datasets import (
    DatasetSettings,
    MalformedSettings,
    UnknownWishlist,
    WishlistNotReady,
    create_dataset_for_wishlist,
    create_ready_datasets,
    ready_for_spvp,
    ready_wishlists,
    sync_dataset_histories,
)
from trend.db import connect, fetch_all, table
from trend.status import CrawlStatus, DatasetStatus, HistoryStatus, SpvpStatus, WishlistStatus
from trend_dev import synthetic, wishlists


def _seed_audio(cur, name: str, group_id: int, viewpoint_category_id: int | None) -> int:
    """Two products with reviews and one category (first product only)."""
    w = wishlists.wishlist(cur, name, group_id, viewpoint_category_id=viewpoint_category_id)
    wishlists.product_with_reviews(cur, w, "SYN-HEA-0001")
    wishlists.product_with_reviews(cur, w, "SYN-SPE-0002")
    wishlists.category(cur, w, "smartwatches", max_products=1)
    return w


@pytest.fixture
def crawled_wishlist(db, tmp_path):
    """Wishlists 'Audio' (group 1) and 'Audio (team B)' (group 2) with the same items, all crawled."""
    market = synthetic.generate(seed=11, products_per_category=2, reviews_per_product=2)
    gb = db["gb_console"]
    cur = gb.cursor()
    ids = [_seed_audio(cur, "Audio", 1, 5), _seed_audio(cur, "Audio (team B)", 2, None)]
    gb.commit()
    source = LocalMarketplaceSource(MarketplaceDump.load(market.write_dump(tmp_path)), lambda: connect("analyzer_v2"))
    sync_once(lambda: connect("gb_console"), source)
    return ids


def _server():
    return connect()  # no default database: reaches all three


def test_creates_dataset_and_history_per_wishlist_with_product_ids(db, crawled_wishlist):
    conn = _server()
    try:
        assert ready_wishlists(conn) == crawled_wishlist
        created = [create_dataset_for_wishlist(conn, w) for w in crawled_wishlist]
    finally:
        conn.close()
    assert [(c.created, c.group_id) for c in created] == [(True, 1), (True, 2)]
    datasets = fetch_all(db["ds_analyzer"], "SELECT * FROM datasets ORDER BY id")
    products = fetch_all(db["analyzer_v2"], "SELECT id, mall_product_id FROM products ORDER BY id")
    assert len(datasets) == 2
    for dataset in datasets:
        settings = json.loads(dataset["settings"])
        assert sorted(settings["product_ids"]) == [p["id"] for p in products]
        assert (dataset["status"], dataset["progress"]) == (DatasetStatus.PENDING, 0)
    assert {p["mall_product_id"] for p in products} == {"SYN-HEA-0001", "SYN-SPE-0002", "SYN-SMA-0001"}
    assert [(d["name"], d["group_id"], d["viewpoint_category_id"]) for d in datasets] == [
        ("Audio", 1, 5),
        ("Audio (team B)", 2, None),
    ]
    histories = fetch_all(db["gb_console"], "SELECT * FROM wishlist_dataset_histories ORDER BY id")
    assert [(h["wishlist_to_group_id"], h["dataset_id"], h["status"], h["spvp_status"]) for h in histories] == [
        (w, d["id"], HistoryStatus.PENDING, SpvpStatus.WAITING) for w, d in zip(crawled_wishlist, datasets)
    ]
    assert json.loads(histories[0]["config"])["product_count"] == 3


def test_rerun_creates_nothing_twice(db, crawled_wishlist):
    conn = _server()
    try:
        first = create_dataset_for_wishlist(conn, crawled_wishlist[0])
        second = create_dataset_for_wishlist(conn, crawled_wishlist[0])
    finally:
        conn.close()
    assert first.dataset_id == second.dataset_id
    assert (first.created, second.created) == (True, False)
    assert fetch_all(db["ds_analyzer"], "SELECT COUNT(*) AS n FROM datasets")[0]["n"] == 1


def test_wishlist_with_unfinished_items_is_not_ready(db, crawled_wishlist):
    audio, team_b = crawled_wishlist
    cur = db["gb_console"].cursor()
    wishlists.search_query(cur, audio, "x")
    db["gb_console"].commit()
    conn = _server()
    try:
        assert ready_wishlists(conn) == [team_b]
        with pytest.raises(WishlistNotReady, match="summary_wishlist_search_queries"):
            create_dataset_for_wishlist(conn, audio)
        with pytest.raises(UnknownWishlist, match="wishlist 404"):
            create_dataset_for_wishlist(conn, 404)
    finally:
        conn.close()
    assert fetch_all(db["ds_analyzer"], "SELECT COUNT(*) AS n FROM datasets")[0]["n"] == 0


def test_inactive_wishlist_is_neither_crawled_nor_made_a_dataset(db, tmp_path):
    market = synthetic.generate(seed=11, products_per_category=1, reviews_per_product=2)
    cur = db["gb_console"].cursor()
    active = wishlists.wishlist(cur, "on")
    paused = wishlists.wishlist(cur, "off", status=WishlistStatus.INACTIVE)
    for w in (active, paused):
        wishlists.product_with_reviews(cur, w, "SYN-HEA-0001")
    db["gb_console"].commit()
    source = LocalMarketplaceSource(MarketplaceDump.load(market.write_dump(tmp_path)), lambda: connect("analyzer_v2"))
    report = sync_once(lambda: connect("gb_console"), source)
    assert report.claimed == 2  # the active wishlist's product item and reviews item
    rows = fetch_all(
        db["gb_console"],
        "SELECT wishlist_to_group_id AS w, crawl_status FROM summary_wishlist_products ORDER BY wishlist_to_group_id",
    )
    assert [(r["w"], r["crawl_status"]) for r in rows] == [(active, CrawlStatus.SUCCESS), (paused, CrawlStatus.NEW)]
    conn = _server()
    try:
        assert ready_wishlists(conn) == [active]
        with pytest.raises(WishlistNotReady, match="not active"):
            create_dataset_for_wishlist(conn, paused)
    finally:
        conn.close()


def test_failure_midway_leaves_no_dataset_without_history(db, crawled_wishlist):
    # Make the history insert collide: the whole transaction must roll back.
    conn = _server()
    try:
        cur = conn.cursor()
        histories = table("gb_console", "wishlist_dataset_histories")
        team_b = int(crawled_wishlist[1])
        cur.execute(f"ALTER TABLE {histories} ADD CONSTRAINT chk_test CHECK (wishlist_to_group_id <> {team_b})")
        create_dataset_for_wishlist(conn, crawled_wishlist[0])
        with pytest.raises(Exception, match="chk_test"):
            create_dataset_for_wishlist(conn, crawled_wishlist[1])
        cur.execute(f"ALTER TABLE {histories} DROP CONSTRAINT chk_test")
    finally:
        conn.close()
    assert fetch_all(db["ds_analyzer"], "SELECT COUNT(*) AS n FROM datasets")[0]["n"] == 1
    assert fetch_all(db["gb_console"], "SELECT COUNT(*) AS n FROM wishlist_dataset_histories")[0]["n"] == 1


def test_histories_follow_datasets_idempotently(db, crawled_wishlist):
    conn = _server()
    try:
        first, second = (create_dataset_for_wishlist(conn, w) for w in crawled_wishlist)
        cur = conn.cursor()
        cur.execute(
            f"UPDATE {table('ds_analyzer', 'datasets')} SET status = CASE id WHEN %s THEN 3 ELSE 9 END",
            (first.dataset_id,),
        )
        conn.commit()
        changes = sync_dataset_histories(conn)
        assert sync_dataset_histories(conn) == []
    finally:
        conn.close()
    assert {(c.dataset_id, c.status, c.spvp_status) for c in changes} == {
        (first.dataset_id, (1, 3), (1, 2)),
        (second.dataset_id, (1, 9), (1, 1)),
    }
    assert ready_for_spvp(changes) == 1  # only the completed one waits for SPVP (what spvp_batch's asset says)
    rows = fetch_all(db["gb_console"], "SELECT dataset_id, status, spvp_status FROM wishlist_dataset_histories")
    assert {(r["dataset_id"], r["status"], r["spvp_status"]) for r in rows} == {
        (first.dataset_id, HistoryStatus.COMPLETED, SpvpStatus.PROCESSING),
        (second.dataset_id, HistoryStatus.FAILED, SpvpStatus.WAITING),
    }


@pytest.mark.parametrize(
    "raw, message",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"product_ids": []}', "non-empty list"),
        ('{"wishlist_to_group_id": 3}', "non-empty list"),
        ('{"product_ids": [1, "2"]}', "positive integers"),
        ('{"product_ids": [1, true]}', "positive integers"),
    ],
)
def test_malformed_settings_are_rejected_clearly(raw, message):
    with pytest.raises(MalformedSettings, match=f"dataset 42: .*{message}"):
        DatasetSettings.parse(raw, dataset_id=42)


def test_settings_roundtrip_and_dedupe():
    parsed = DatasetSettings.parse('{"product_ids": [3, 1, 3], "wishlist_to_group_id": 9}')
    assert parsed.product_ids == (3, 1) and parsed.wishlist_id == 9
    assert DatasetSettings.parse(parsed.to_json()) == parsed


def _crawled_without_products(cur) -> int:
    """A wishlist whose only item says Success but whose product never reached analyzer_v2."""
    w = wishlists.wishlist(cur, "ghost")
    item = wishlists.product(cur, w, "GONE-1")
    cur.execute("UPDATE summary_wishlist_products SET crawl_status = 2 WHERE id = %s", (item,))
    cur.execute(
        "INSERT INTO summary_wishlist_found_products (wishlist_to_group_id, source_table, source_id, mall_id, "
        "mall_product_id) VALUES (%s, 'summary_wishlist_products', %s, 99, 'GONE-1')",
        (w, item),
    )
    return w


def test_one_wishlist_that_cannot_become_a_dataset_does_not_block_the_others(db, tmp_path):
    cur = db["gb_console"].cursor()
    ghost = _crawled_without_products(cur)  # the lower id: main stopped at it and created nothing after
    good = _seed_audio(cur, "Audio", 1, None)
    db["gb_console"].commit()
    market = synthetic.generate(seed=11, products_per_category=2, reviews_per_product=2)
    source = LocalMarketplaceSource(MarketplaceDump.load(market.write_dump(tmp_path)), lambda: connect("analyzer_v2"))
    sync_once(lambda: connect("gb_console"), source)
    conn = _server()
    try:
        assert ready_wishlists(conn) == [ghost, good]
        report = create_ready_datasets(conn)
    finally:
        conn.close()
    assert [(c.wishlist_id, c.created) for c in report.created] == [(good, True)]
    assert [(f.wishlist_id, f.error) for f in report.failed] == [
        (ghost, f"WishlistNotReady: wishlist {ghost} crawled no products")
    ]
    rows = fetch_all(db["gb_console"], "SELECT wishlist_to_group_id AS w FROM wishlist_dataset_histories")
    assert [r["w"] for r in rows] == [good]


# --- a wishlist's viewpoint category (make load-viewpoints VIEWPOINTS=… ASSIGN_WISHLIST=…) ---

VIEWPOINT_FILE = "include/viewpoints/synthetic.yaml"


def _load_viewpoints(*args: str) -> int:
    from trend.config import REPO_ROOT
    from trend.spvp import load_viewpoints

    return load_viewpoints.main([str(REPO_ROOT / VIEWPOINT_FILE), *args])


def _category_id(db) -> int:
    db["ds_analyzer"].commit()
    return int(fetch_all(db["ds_analyzer"], "SELECT id FROM viewpoint_categories")[0]["id"])


def test_category_assigned_to_a_wishlist_goes_into_its_new_datasets(db, crawled_wishlist, capsys):
    team_b = crawled_wishlist[1]  # no category of its own
    assert _load_viewpoints("--assign-wishlist", str(team_b)) == 0
    category = _category_id(db)
    assert f"wishlist {team_b}: 1 group(s) now use category id={category}" in capsys.readouterr().out
    conn = _server()
    try:
        created = create_dataset_for_wishlist(conn, team_b)
    finally:
        conn.close()
    assert created.viewpoint_category_id == category
    db["ds_analyzer"].commit()
    datasets = fetch_all(db["ds_analyzer"], "SELECT viewpoint_category_id FROM datasets")
    assert [d["viewpoint_category_id"] for d in datasets] == [category]


def test_assigning_later_fills_datasets_without_a_category_only(db, crawled_wishlist):
    audio, team_b = crawled_wishlist
    conn = _server()
    try:
        first, second = (create_dataset_for_wishlist(conn, w) for w in crawled_wishlist)  # category 5, none
    finally:
        conn.close()
    assign = ("--assign-wishlist", str(audio), "--assign-wishlist", str(team_b))
    assert _load_viewpoints(*assign) == 0
    category = _category_id(db)
    assert _load_viewpoints(*assign) == 0  # a rerun changes nothing more
    db["ds_analyzer"].commit()
    rows = fetch_all(db["ds_analyzer"], "SELECT id, viewpoint_category_id FROM datasets")
    assert {r["id"]: r["viewpoint_category_id"] for r in rows} == {first.dataset_id: 5, second.dataset_id: category}
    db["gb_console"].commit()
    groups = fetch_all(db["gb_console"], "SELECT viewpoint_category_id FROM wishlist_to_groups ORDER BY id")
    assert [g["viewpoint_category_id"] for g in groups] == [category, category]


def test_assigning_to_an_unknown_wishlist_changes_nothing(db, crawled_wishlist, capsys):
    assert _load_viewpoints("--assign-wishlist", str(crawled_wishlist[0]), "--assign-wishlist", "404") == 2
    assert "wishlist 404 does not exist" in capsys.readouterr().err
    db["ds_analyzer"].commit()
    assert fetch_all(db["ds_analyzer"], "SELECT COUNT(*) AS n FROM viewpoint_categories")[0]["n"] == 0
    db["gb_console"].commit()
    groups = fetch_all(db["gb_console"], "SELECT viewpoint_category_id FROM wishlist_to_groups ORDER BY id")
    assert [g["viewpoint_category_id"] for g in groups] == [5, None]
