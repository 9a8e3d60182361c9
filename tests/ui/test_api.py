"""The plugin's JSON endpoints under the real api-server, against rows in MariaDB and a gremlite graph.

Expected values are recomputed here from plain SELECTs of the seeded rows (no GROUP BY), so the
endpoints' SQL aggregation is checked against an independent count.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.ui.conftest import Client
from trend.catalog_graph.read_api import catalog_tree
from trend.catalog_graph.store import open_embedded
from trend.db import connect, fetch_all, table
from trend.status import DatasetStatus, ErrorCode
from trend.ui.report import MAP_BUCKETS

pytestmark = pytest.mark.airflow


def _sentences(dataset_id: int) -> list[dict]:
    conn = connect("ds_analyzer")
    try:
        return fetch_all(
            conn,
            "SELECT sentence_id, product_id, cluster_id, is_noise, sentiment, map_x, map_y "
            "FROM review_sentences WHERE dataset_id = %s",
            (dataset_id,),
        )
    finally:
        conn.close()


def test_unauthenticated_and_forged_requests_are_refused(airflow_ui, showcase):
    api = f"{airflow_ui.url}/trend/api/datasets"
    assert requests.get(api, timeout=10).status_code == 401
    forged = requests.get(api, headers={"Authorization": "Bearer not-a-jwt"}, timeout=10)
    assert forged.status_code == 403
    page = requests.get(f"{airflow_ui.url}/trend/datasets", allow_redirects=False, timeout=10)
    assert page.status_code in (302, 307)
    assert "/auth/login" in page.headers["location"] and "next=" in page.headers["location"]
    assert "Datasets" not in page.text


def test_a_viewer_may_read(airflow_ui, showcase):
    viewer = Client(airflow_ui, airflow_ui.token("ui_viewer"))
    assert viewer.json("datasets")["total"] == len(showcase)
    assert (
        "<h1>Datasets</h1>"
        in requests.get(
            f"{airflow_ui.url}/trend/datasets", headers={"Authorization": f"Bearer {viewer.token}"}, timeout=10
        ).text
    )


def test_datasets_list_shows_status_progress_errors_and_history(admin, showcase):
    data = admin.json("datasets")
    by_id = {d["id"]: d for d in data["items"]}
    assert [d["id"] for d in data["items"]] == sorted(by_id, reverse=True)
    failed = by_id[showcase["failed"].dataset_id]
    assert (failed["status"], failed["progress"]) == (DatasetStatus.FAILED, -1)
    assert failed["error"]["code"] == ErrorCode.LLM_REQUEST_FAILED
    assert failed["error"]["name"] == "LLM_REQUEST_FAILED"
    assert "503 five times" in failed["error"]["message"]
    assert failed["spvp_status_name"] == "Failed"
    running = by_id[showcase["running"].dataset_id]
    assert (running["status_name"], running["progress"], running["error"]) == ("Processing", 65, None)
    assert (running["history_status_name"], running["spvp_status_name"]) == ("Processing", "Waiting")
    assert by_id[showcase["completed"].dataset_id]["wishlist_id"] == showcase["completed"].wishlist_id
    assert data["status_counts"] == {"1": 1, "2": 1, "3": 1, "9": 1}


def test_datasets_filters_and_pages(admin, showcase):
    only_failed = admin.json("datasets", status=int(DatasetStatus.FAILED))
    assert [d["id"] for d in only_failed["items"]] == [showcase["failed"].dataset_id]
    wishlist = admin.json("datasets", wishlist_id=showcase["running"].wishlist_id)
    assert {d["id"] for d in wishlist["items"]} == {showcase["running"].dataset_id, showcase["failed"].dataset_id}
    newest_first = sorted((s.dataset_id for s in showcase.values()), reverse=True)
    second = admin.json("datasets", page=2, page_size=1)
    assert (second["total"], [d["id"] for d in second["items"]]) == (4, [newest_first[1]])
    assert admin.get("datasets", status=5).status_code == 422
    assert [w["wishlist_id"] for w in admin.json("wishlists")] == sorted({s.wishlist_id for s in showcase.values()})


def test_viewpoints_report_sizes_noise_sentiment_and_examples(admin, showcase):
    dataset_id = showcase["completed"].dataset_id
    rows = _sentences(dataset_id)
    data = admin.json(f"datasets/{dataset_id}/viewpoints", examples=3)
    assert data["sentences"] == len(rows) and data["noise"] == sum(r["is_noise"] for r in rows)
    members = Counter(r["cluster_id"] for r in rows if not r["is_noise"])
    noise = Counter(r["cluster_id"] for r in rows if r["is_noise"])
    positive = Counter(r["cluster_id"] for r in rows if not r["is_noise"] and r["sentiment"] == "positive")
    by_id = {r["sentence_id"]: r for r in rows}
    assert len(data["items"]) == len(members)
    for item in data["items"]:
        cluster = item["cluster_id"]
        assert item["noise"] == noise[cluster]
        assert item["noise_share"] == pytest.approx(noise[cluster] / (noise[cluster] + members[cluster]), abs=1e-4)
        assert item["sentiment"]["total"] == members[cluster]
        assert item["sentiment"]["positive"] == positive[cluster]
        assert len(item["examples"]) == 3
        for example in item["examples"]:
            assert (
                by_id[example["sentence_id"]]["cluster_id"] == cluster and not by_id[example["sentence_id"]]["is_noise"]
            )
            assert example["text"]


def test_map_is_a_uniform_sample_read_through_the_bucket(admin, showcase):
    dataset_id = showcase["completed"].dataset_id
    rows = _sentences(dataset_id)
    data = admin.json(f"datasets/{dataset_id}/map", max_points=500)
    buckets = math.ceil(MAP_BUCKETS * 500 / len(rows))
    expected = sorted(
        (round(r["map_x"], 3), round(r["map_y"], 3), r["cluster_id"]) for r in rows if r["sentence_id"] % 1000 < buckets
    )
    got = sorted((round(x, 3), round(y, 3), c) for x, y, c in zip(data["x"], data["y"], data["cluster"], strict=True))
    assert got == expected
    assert 0.7 * 500 < data["sampled"] < 1.3 * 500
    everything = admin.json(f"datasets/{dataset_id}/map", max_points=20000)
    assert everything["sampled"] == len(rows)


def test_sentiment_by_product_and_neighbours(admin, showcase):
    dataset_id = showcase["completed"].dataset_id
    rows = _sentences(dataset_id)
    data = admin.json(f"datasets/{dataset_id}/sentiment")
    expected = Counter((r["product_id"], r["sentiment"]) for r in rows)
    for product in data["by_product"]:
        for sentiment in ("positive", "neutral", "negative"):
            assert product[sentiment] == expected[(product["product_id"], sentiment)]
    assert {v["name"] for v in data["by_viewpoint"]} == {
        v["name"] for v in admin.json(f"datasets/{dataset_id}/viewpoints", examples=0)["items"]
    }
    neighbours = admin.json(f"datasets/{dataset_id}/neighbours", top=3)
    assert len(neighbours) == len(showcase["completed"].product_ids)
    for product in neighbours:
        assert [n["rank"] for n in product["neighbours"]] == [1, 2, 3]
        assert product["product_id"] not in {n["product_id"] for n in product["neighbours"]}
        assert all(n["name"] for n in product["neighbours"])


def _spvp_counts(dataset_id: int, category_id: int) -> Counter:
    conn = connect("ds_analyzer")
    try:
        mappings = fetch_all(
            conn,
            "SELECT sentence_id, viewpoint_ordinal_number FROM review_sentence_spvp WHERE viewpoint_category_id = %s",
            (category_id,),
        )
    finally:
        conn.close()
    product_of = {r["sentence_id"]: r["product_id"] for r in _sentences(dataset_id)}
    return Counter(
        (m["viewpoint_ordinal_number"], product_of[m["sentence_id"]])
        for m in mappings
        if m["sentence_id"] in product_of
    )


def _map_sentence_outside_the_dataset(seeded) -> None:
    """A later crawl of the same product: a new sentence, mapped by SPVP, that the dataset never had."""
    conn = connect("ds_analyzer")
    try:
        cur = conn.cursor()
        product_id = seeded.product_ids[0]
        cur.execute(f"SELECT mall_product_id FROM {table('analyzer_v2', 'products')} WHERE id = %s", (product_id,))
        mall_product_id = cur.fetchone()[0]
        cur.execute(f"SELECT MAX(id) + 1000 FROM {table('analyzer_v2', 'review_sentences')}")
        outside = int(cur.fetchone()[0])
        cur.execute(
            "INSERT INTO review_sentence_spvp (sentence_id, viewpoint_category_id, viewpoint_ordinal_number, "
            "mall_product_id, score, backend) VALUES (%s, %s, 1, %s, 0.99, 'offline')",
            (outside, seeded.category_id, mall_product_id),
        )
        conn.commit()
    finally:
        conn.close()


def test_spvp_heatmap_counts_only_the_datasets_own_sentences(admin, showcase):
    seeded = showcase["completed"]
    _map_sentence_outside_the_dataset(seeded)
    data = admin.json(f"datasets/{seeded.dataset_id}/spvp")
    assert data["category"]["id"] == seeded.category_id
    assert len(data["products"]) == len(seeded.product_ids)
    got = Counter({(c["ordinal"], c["product_id"]): c["sentences"] for c in data["cells"]})
    assert got == _spvp_counts(seeded.dataset_id, seeded.category_id)
    sentence_counts = {p["product_id"]: p["sentence_count"] for p in data["products"]}
    for cell in data["cells"]:
        assert cell["share"] == pytest.approx(cell["sentences"] / sentence_counts[cell["product_id"]], abs=1e-4)

    product_id = seeded.product_ids[0]
    examples = admin.json(f"datasets/{seeded.dataset_id}/spvp/cell", ordinal=1, product_id=product_id, limit=5)
    assert len(examples) == 5
    assert [e["score"] for e in examples] == sorted((e["score"] for e in examples), reverse=True)
    assert examples[0]["score"] < 0.99  # the outside sentence (0.99) is not the dataset's
    product_of = {r["sentence_id"]: r["product_id"] for r in _sentences(seeded.dataset_id)}
    assert {product_of[e["sentence_id"]] for e in examples} == {product_id}


@pytest.mark.parametrize("which", ["running", "failed", "pending"])
def test_report_endpoints_of_unfinished_datasets_answer_empty(admin, showcase, which):
    dataset_id = showcase[which].dataset_id
    assert admin.json(f"datasets/{dataset_id}")["id"] == dataset_id
    assert admin.json(f"datasets/{dataset_id}/products")["items"] == []
    assert admin.json(f"datasets/{dataset_id}/viewpoints")["items"] == []
    assert admin.json(f"datasets/{dataset_id}/map")["sampled"] == 0
    assert admin.json(f"datasets/{dataset_id}/sentiment") == {"by_product": [], "by_viewpoint": []}
    assert admin.json(f"datasets/{dataset_id}/neighbours") == []
    assert admin.json(f"datasets/{dataset_id}/spvp")["cells"] == []


def test_unknown_dataset_is_404(admin, showcase):
    for path in ("datasets/999999", "datasets/999999/viewpoints", "datasets/999999/spvp"):
        response = admin.get(path)
        assert response.status_code == 404 and "999999" in response.json()["detail"]


def test_catalog_tree_matches_the_graph(admin, ui_catalog):
    assert admin.json("catalogs") == [ui_catalog.catalog_id]
    tree = admin.json(f"catalogs/{ui_catalog.catalog_id}/tree")
    store = open_embedded(ui_catalog.path)
    try:
        graph = catalog_tree(store, ui_catalog.catalog_id)
    finally:
        store.close()
    assert {n["node_id"] for n in tree["nodes"]} == set(graph.nodes)
    for node in tree["nodes"]:
        expected = graph.nodes[node["node_id"]]
        assert node["combined_filter_json"] == expected.combined_filter
        assert (node["filter"], node["enabled"]) == (expected.state.final.filter.text, expected.state.enabled)
        assert all(" AND categoryId IN (" in block for block in node["combined_filter"])
    changed = next(n for n in tree["nodes"] if n["node_id"] == ui_catalog.changed_node)
    assert '"gadgets"' in changed["filter"]


def changed_now(admin, ui_catalog) -> str:
    tree = admin.json(f"catalogs/{ui_catalog.catalog_id}/tree")
    return next(n for n in tree["nodes"] if n["node_id"] == ui_catalog.changed_node)["filter"]


def test_catalog_as_of_and_node_history(admin, ui_catalog):
    before = admin.json(f"catalogs/{ui_catalog.catalog_id}/tree", as_of=ui_catalog.before_change_us)
    changed = next(n for n in before["nodes"] if n["node_id"] == ui_catalog.changed_node)
    assert '"electronics"' in changed["filter"] and '"gadgets"' not in changed["filter"]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")  # ISO, UTC, no offset
    later = admin.json(f"catalogs/{ui_catalog.catalog_id}/tree", as_of=tomorrow)
    assert next(n for n in later["nodes"] if n["node_id"] == ui_catalog.changed_node)["filter"] == changed_now(
        admin, ui_catalog
    )
    empty = admin.json(f"catalogs/{ui_catalog.catalog_id}/tree", as_of=ui_catalog.created_us - 1)
    assert empty["nodes"] == []
    history = admin.json("catalog-nodes/history", node_id=ui_catalog.changed_node)
    settings = [e for e in history if e["kind"] == "settings"]
    assert [json.loads(s["settings"]["filter"]) for s in settings] == [
        {"field": "dept", "op": "eq", "value": "electronics"},
        {"field": "dept", "op": "eq", "value": "gadgets"},
    ]
    missing = "categoryNode_demo_nope_00000000-0000-4000-8000-000000000000"
    assert admin.get("catalog-nodes/history", node_id=missing).status_code == 404
    assert admin.get("catalog-nodes/history", node_id="not an id").status_code == 422
    assert admin.get(f"catalogs/{ui_catalog.catalog_id}/tree", as_of="yesterday").status_code == 422


def test_the_pages_database_session_refuses_writes(monkeypatch, databases):
    """Reads only, enforced by MySQL: the session the endpoints get is READ ONLY."""
    import MySQLdb

    from trend.ui.deps import ds_connection
    from trend_dev.local_airflow import airflow_env

    conn_var = "AIRFLOW_CONN_MYSQL_DS_ANALYZER"
    monkeypatch.setenv(conn_var, airflow_env("/nonexistent")[conn_var])  # as the api-server gets it
    session = ds_connection()
    conn = next(session)
    try:
        with pytest.raises(MySQLdb.OperationalError) as refused:
            conn.cursor().execute("INSERT INTO datasets (name, group_id, settings) VALUES ('x', 1, '{}')")
        assert refused.value.args[0] == 1792  # ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
    finally:
        session.close()


def test_concurrent_requests_all_succeed(admin, ui_catalog, showcase):
    """The api-server serves requests on a thread pool; each opens its graph / MySQL session itself."""
    from concurrent.futures import ThreadPoolExecutor

    report = f"datasets/{showcase['completed'].dataset_id}"
    paths = [
        "catalogs",
        f"catalogs/{ui_catalog.catalog_id}/tree",
        "datasets",
        f"{report}/viewpoints",
        f"{report}/spvp",
    ] * 6
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda path: admin.get(path).status_code, paths))
    assert codes == [200] * len(paths)
