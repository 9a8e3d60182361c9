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
    create_datasets_for_wishlist,
    ready_for_spvp,
    ready_wishlists,
    sync_dataset_histories,
)
from trend.db import connect, fetch_all, table
from trend.status import DatasetStatus, HistoryStatus, SpvpStatus
from trend_dev import synthetic


@pytest.fixture
def crawled_wishlist(db, tmp_path):
    """Wishlist 7 in groups 1 and 2: two product items and one category item, all crawled."""
    market = synthetic.generate(seed=11, products_per_category=2, reviews_per_product=2)
    gb = db["gb_console"]
    cur = gb.cursor()
    cur.executemany(
        "INSERT INTO wishlist_to_groups (wishlist_id, group_id, wishlist_name, viewpoint_category_id) "
        "VALUES (%s, %s, %s, %s)",
        [(7, 1, "Audio", 5), (7, 2, "Audio (team B)", None)],
    )
    cur.executemany(
        "INSERT INTO summary_wishlist_product_reviews (wishlist_id, mall_id, mall_product_id) VALUES (7, 99, %s)",
        [("SYN-HEA-0001",), ("SYN-SPE-0002",)],
    )
    cur.execute(
        "INSERT INTO summary_wishlist_categories (wishlist_id, mall_id, category_code, max_products) "
        "VALUES (7, 99, 'smartwatches', 1)"
    )
    gb.commit()
    source = LocalMarketplaceSource(MarketplaceDump.load(market.write_dump(tmp_path)), lambda: connect("analyzer_v2"))
    sync_once(lambda: connect("gb_console"), source)
    return market


def _server():
    return connect()  # no default database: reaches all three


def test_creates_dataset_and_history_per_group_with_product_ids(db, crawled_wishlist):
    conn = _server()
    try:
        assert ready_wishlists(conn) == [7]
        created = create_datasets_for_wishlist(conn, 7)
    finally:
        conn.close()
    assert [c.created for c in created] == [True, True]
    datasets = fetch_all(db["ds_analyzer"], "SELECT * FROM datasets ORDER BY id")
    products = fetch_all(db["analyzer_v2"], "SELECT id, mall_product_id FROM products ORDER BY id")
    assert len(datasets) == 2
    for dataset in datasets:
        settings = json.loads(dataset["settings"])
        assert sorted(settings["product_ids"]) == [p["id"] for p in products]
        assert (dataset["status"], dataset["progress"]) == (DatasetStatus.PENDING, 0)
    assert {p["mall_product_id"] for p in products} == {"SYN-HEA-0001", "SYN-SPE-0002", "SYN-SMA-0001"}
    assert [d["viewpoint_category_id"] for d in datasets] == [5, None]
    histories = fetch_all(db["gb_console"], "SELECT * FROM wishlist_dataset_histories ORDER BY id")
    assert [(h["dataset_id"], h["status"], h["spvp_status"]) for h in histories] == [
        (d["id"], HistoryStatus.PENDING, SpvpStatus.WAITING) for d in datasets
    ]


def test_rerun_creates_nothing_twice(db, crawled_wishlist):
    conn = _server()
    try:
        first = create_datasets_for_wishlist(conn, 7)
        second = create_datasets_for_wishlist(conn, 7)
    finally:
        conn.close()
    assert [c.dataset_id for c in first] == [c.dataset_id for c in second]
    assert [c.created for c in second] == [False, False]
    assert fetch_all(db["ds_analyzer"], "SELECT COUNT(*) AS n FROM datasets")[0]["n"] == 2


def test_wishlist_with_unfinished_items_is_not_ready(db, crawled_wishlist):
    cur = db["gb_console"].cursor()
    cur.execute("INSERT INTO summary_wishlist_search_queries (wishlist_id, mall_id, keyword) VALUES (7, 99, 'x')")
    db["gb_console"].commit()
    conn = _server()
    try:
        assert ready_wishlists(conn) == []
        with pytest.raises(WishlistNotReady, match="summary_wishlist_search_queries"):
            create_datasets_for_wishlist(conn, 7)
        with pytest.raises(UnknownWishlist, match="wishlist 404"):
            create_datasets_for_wishlist(conn, 404)
    finally:
        conn.close()
    assert fetch_all(db["ds_analyzer"], "SELECT COUNT(*) AS n FROM datasets")[0]["n"] == 0


def test_failure_midway_leaves_no_dataset_without_history(db, crawled_wishlist):
    # Make the second group's history insert collide: the whole transaction must roll back.
    conn = _server()
    try:
        cur = conn.cursor()
        histories = table("gb_console", "wishlist_dataset_histories")
        cur.execute(f"ALTER TABLE {histories} ADD CONSTRAINT chk_test CHECK (group_id <> 2)")
        with pytest.raises(Exception, match="chk_test"):
            create_datasets_for_wishlist(conn, 7)
        cur.execute(f"ALTER TABLE {histories} DROP CONSTRAINT chk_test")
    finally:
        conn.close()
    assert fetch_all(db["ds_analyzer"], "SELECT COUNT(*) AS n FROM datasets")[0]["n"] == 0
    assert fetch_all(db["gb_console"], "SELECT COUNT(*) AS n FROM wishlist_dataset_histories")[0]["n"] == 0


def test_histories_follow_datasets_idempotently(db, crawled_wishlist):
    conn = _server()
    try:
        first, second = create_datasets_for_wishlist(conn, 7)
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
        ('{"wishlist_id": 3}', "non-empty list"),
        ('{"product_ids": [1, "2"]}', "positive integers"),
        ('{"product_ids": [1, true]}', "positive integers"),
    ],
)
def test_malformed_settings_are_rejected_clearly(raw, message):
    with pytest.raises(MalformedSettings, match=f"dataset 42: .*{message}"):
        DatasetSettings.parse(raw, dataset_id=42)


def test_settings_roundtrip_and_dedupe():
    parsed = DatasetSettings.parse('{"product_ids": [3, 1, 3], "wishlist_id": 9}')
    assert parsed.product_ids == (3, 1) and parsed.wishlist_id == 9
    assert DatasetSettings.parse(parsed.to_json()) == parsed


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
    assert _load_viewpoints("--assign-wishlist", "7") == 0
    category = _category_id(db)
    assert f"wishlist 7: 2 group(s) now use category id={category}" in capsys.readouterr().out
    conn = _server()
    try:
        created = create_datasets_for_wishlist(conn, 7)
    finally:
        conn.close()
    assert [c.viewpoint_category_id for c in created] == [category, category]
    db["ds_analyzer"].commit()
    datasets = fetch_all(db["ds_analyzer"], "SELECT viewpoint_category_id FROM datasets")
    assert [d["viewpoint_category_id"] for d in datasets] == [category, category]


def test_assigning_later_fills_datasets_without_a_category_only(db, crawled_wishlist):
    conn = _server()
    try:
        first, second = create_datasets_for_wishlist(conn, 7)  # group 1 has category 5, group 2 none
    finally:
        conn.close()
    assert _load_viewpoints("--assign-wishlist", "7") == 0
    category = _category_id(db)
    assert _load_viewpoints("--assign-wishlist", "7") == 0  # a rerun changes nothing more
    db["ds_analyzer"].commit()
    rows = fetch_all(db["ds_analyzer"], "SELECT id, viewpoint_category_id FROM datasets")
    assert {r["id"]: r["viewpoint_category_id"] for r in rows} == {first.dataset_id: 5, second.dataset_id: category}
    db["gb_console"].commit()
    groups = fetch_all(db["gb_console"], "SELECT viewpoint_category_id FROM wishlist_to_groups WHERE wishlist_id = 7")
    assert [g["viewpoint_category_id"] for g in groups] == [category, category]


def test_assigning_to_an_unknown_wishlist_changes_nothing(db, crawled_wishlist, capsys):
    assert _load_viewpoints("--assign-wishlist", "7", "--assign-wishlist", "404") == 2
    assert "wishlist 404 belongs to no group" in capsys.readouterr().err
    db["ds_analyzer"].commit()
    assert fetch_all(db["ds_analyzer"], "SELECT COUNT(*) AS n FROM viewpoint_categories")[0]["n"] == 0
    db["gb_console"].commit()
    groups = fetch_all(db["gb_console"], "SELECT viewpoint_category_id FROM wishlist_to_groups ORDER BY group_id")
    assert [g["viewpoint_category_id"] for g in groups] == [5, None]
