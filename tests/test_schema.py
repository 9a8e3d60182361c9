from trend import schema
from trend.config import db_name
from trend.db import connect, fetch_all


def _tables(logical):
    conn = connect(logical)
    try:
        rows = fetch_all(
            conn, "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = %s", (db_name(logical),)
        )
        return {r["t"] for r in rows}
    finally:
        conn.close()


def test_every_workflow_table_exists(databases):
    assert {
        "wishlist_to_groups",
        "summary_wishlist_products",
        "summary_wishlist_product_reviews",
        "summary_wishlist_categories",
        "summary_wishlist_search_queries",
        "wishlist_dataset_histories",
    } <= _tables("gb_console")
    assert {"products", "reviews", "review_sentences"} <= _tables("analyzer_v2")
    assert {
        "datasets",
        "products",
        "product_details",
        "product_similarities",
        "ai_viewpoints",
        "review_sentence_aivp",
        "reviews",
        "review_sentences",
        "specific_viewpoints",
        "viewpoint_categories",
        "review_sentence_spvp",
    } <= _tables("ds_analyzer")


def test_applying_twice_changes_nothing(databases):
    before = {db: _tables(db) for db in databases}
    assert schema.migrate() == {db: [] for db in databases}
    assert {db: _tables(db) for db in databases} == before


def test_migrations_are_recorded_with_checksums(databases):
    conn = connect("ds_analyzer")
    try:
        rows = fetch_all(conn, "SELECT version, name, checksum FROM schema_migrations ORDER BY version")
    finally:
        conn.close()
    files = schema.discover("ds_analyzer")
    assert [(r["version"], r["name"], r["checksum"]) for r in rows] == [(m.version, m.name, m.checksum) for m in files]


def test_edited_migration_is_refused(databases, tmp_path, monkeypatch):
    import shutil

    import pytest

    copy = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS_DIR, copy)
    target = copy / "gb_console" / "0001_base.sql"
    target.write_text(target.read_text() + "\n-- edited\n")
    monkeypatch.setattr(schema, "MIGRATIONS_DIR", copy)
    with pytest.raises(schema.MigrationError, match="changed after it was applied"):
        schema.migrate(("gb_console",))
