"""UI plugin figures: every JSON endpoint and every page on a 100k-sentence dataset, served by a real
Airflow api-server (auth included), against the issue's budget of 1 s per page.

Seeds ds_analyzer / analyzer_v2 / gb_console straight through SQL (trend_dev.ui_seed) in databases
of its own (``TP_DB_PREFIX=bench<pid>_``, dropped at the end). Page load = navigation start until every
section of the page shows its data, in headless Chromium (skipped with a note when it is missing).

    python -m trend_dev.benchmarks.ui_bench [SENTENCES] [PRODUCTS]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TP_DB_PREFIX", f"bench{os.getpid()}_")

import requests

from trend import schema
from trend.db import connect
from trend_dev import ui_seed
from trend_dev.ui_browser import BrowserUnavailable, chromium, chromium_paths, login
from trend_dev.ui_server import ApiServer, api_server

BUDGET_S = 1.0  # the issue: pages load in < 1 s for a 100k-sentence dataset
REPEATS = 5


def _endpoints(dataset_id: int, product_id: int) -> list[str]:
    d = f"datasets/{dataset_id}"
    return [
        "datasets",
        "wishlists",
        d,
        f"{d}/products?page_size=10",
        f"{d}/viewpoints",
        f"{d}/sentiment",
        f"{d}/map?max_points=4000",
        f"{d}/neighbours?top=5",
        f"{d}/spvp",
        f"{d}/spvp/cell?ordinal=1&product_id={product_id}&limit=5",
        "catalogs",
        "catalogs/demo/tree",
        "catalog-nodes/history?node_id=catalog:demo/electronics",
    ]


def _time_endpoints(server: ApiServer, paths: list[str]) -> None:
    headers = {"Authorization": f"Bearer {server.token('ui_admin')}"}
    print(f"{'endpoint':<62} {'first':>8} {'median':>8} {'max':>8}  bytes")
    for path in paths:
        times, size = [], 0
        for _ in range(REPEATS):
            started = time.perf_counter()
            response = requests.get(f"{server.url}/trend/api/{path}", headers=headers, timeout=60)
            times.append(time.perf_counter() - started)
            response.raise_for_status()
            size = len(response.content)
        print(
            f"{path:<62} {times[0] * 1000:7.0f}ms {statistics.median(times) * 1000:7.0f}ms "
            f"{max(times) * 1000:7.0f}ms  {size}"
        )


def _page_ready_js(page: str) -> str:
    """A JS expression that is true once the page shows all its data."""
    return {
        "datasets": "document.querySelectorAll('#datasets tbody tr[data-dataset-id]').length > 0",
        "report": (
            "document.querySelectorAll('#vp-cards .card').length > 0 && "
            "Number(document.getElementById('map-canvas').dataset.points || 0) > 0 && "
            "document.querySelectorAll('#heatmap td.cell').length > 0 && "
            "document.querySelectorAll('#sent-product .row').length > 0 && "
            "document.querySelectorAll('#neighbours-table tbody tr').length > 0 && "
            "document.querySelectorAll('#products-table tbody tr').length > 0 && "
            "document.getElementById('ds-header').children.length > 0"
        ),
        "catalog": "document.querySelectorAll('#tree .node').length > 0",
    }[page]


def _time_pages(server: ApiServer, dataset_id: int) -> None:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    pages = {"datasets": "datasets", "report": f"datasets/{dataset_id}", "catalog": "catalog"}
    with tempfile.TemporaryDirectory() as profile, chromium(Path(profile)) as driver:
        login(driver, server.url, "ui_admin", server.passwords["ui_admin"])
        print(
            f"\n{'page (headless Chromium, until all data shown)':<48} {'first':>8} {'median':>8}  vs {BUDGET_S:.0f} s"
        )
        for name, path in pages.items():
            times = []
            for _ in range(REPEATS):
                started = time.perf_counter()
                driver.get(f"{server.url}/trend/{path}")
                try:
                    WebDriverWait(driver, 30, poll_frequency=0.01).until(
                        lambda d: d.execute_script(f"return {_page_ready_js(name)}")
                    )
                except TimeoutException:
                    shown = driver.execute_script("return document.getElementById('error').textContent")
                    print(f"{name}: not complete after 30 s; the page says: {shown!r}")
                    break
                times.append(time.perf_counter() - started)
            if not times:
                continue
            median = statistics.median(times)
            print(
                f"{name + ' (/trend/' + path + ')':<48} {times[0] * 1000:7.0f}ms {median * 1000:7.0f}ms  "
                f"{median / BUDGET_S:.2f}×"
            )


def _seed(sentences: int, products: int) -> ui_seed.SeededDataset:
    conn = connect("ds_analyzer")
    try:
        started = time.perf_counter()
        big = ui_seed.seed_dataset(conn, sentences=sentences, products=products, name="bench 100k", wishlist_id=1)
        for i in range(40):  # a list page's worth of other datasets
            ui_seed.seed_dataset(conn, sentences=50, products=2, name=f"other {i}", wishlist_id=2 + i % 5, seed=100 + i)
        print(
            f"seeded {sentences} sentences / {products} products + 40 small datasets "
            f"in {time.perf_counter() - started:.1f} s"
        )
        return big
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    sentences = int(argv[0]) if argv else 100_000
    products = int(argv[1]) if len(argv) > 1 else 100
    schema.migrate()
    try:
        big = _seed(sentences, products)
        with tempfile.TemporaryDirectory() as work:
            catalog = ui_seed.seed_catalog(Path(work) / "catalog.sqlite")
            with api_server(Path(work) / "airflow", extra_env={"CATALOG_GRAPH_SQLITE": catalog.path}) as server:
                _time_endpoints(server, _endpoints(big.dataset_id, big.product_ids[0]))
                try:
                    chromium_paths()
                except BrowserUnavailable as exc:
                    print(f"\npage loads skipped: {exc}")
                    return
                _time_pages(server, big.dataset_id)
    finally:
        schema.drop_databases()


if __name__ == "__main__":
    main()
