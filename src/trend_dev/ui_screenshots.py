"""Screenshots of the UI plugin's pages inside Airflow's UI, for the README (`make screenshots`).

Seeds its own databases (``TP_DB_PREFIX=uishots<pid>_``, dropped at the end) with the showcase
datasets and the demo catalog, starts a real api-server, signs in with headless Chromium and saves
docs/img/ui-datasets.png, ui-report.png, ui-map.png, ui-spvp.png and ui-catalog.png.

    python -m trend_dev.ui_screenshots [OUT_DIR]
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TP_DB_PREFIX", f"uishots{os.getpid()}_")

from trend import schema
from trend.config import REPO_ROOT
from trend.db import connect
from trend_dev import ui_seed
from trend_dev.ui_browser import chromium, login
from trend_dev.ui_server import api_server

WAIT_S = 30


def _open(driver, url: str, ready_js: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.switch_to.default_content()
    driver.get(url)
    WebDriverWait(driver, WAIT_S).until(ec.frame_to_be_available_and_switch_to_it((By.TAG_NAME, "iframe")))
    WebDriverWait(driver, WAIT_S).until(lambda d: d.execute_script(f"return {ready_js}"))


def _save(driver, path: Path, scroll_to: str | None = None) -> None:
    if scroll_to:
        driver.execute_script(f"document.getElementById('{scroll_to}').scrollIntoView()")
    driver.switch_to.default_content()
    driver.save_screenshot(str(path))
    print(f"wrote {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")


def take(out_dir: Path, server, dataset_id: int, changed_node: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    with tempfile.TemporaryDirectory() as profile, chromium(Path(profile), width=1440, height=900) as driver:
        login(driver, server.url, "ui_admin", server.passwords["ui_admin"])
        _open(
            driver, f"{server.url}/plugin/trend-datasets", "document.querySelectorAll('#datasets tbody tr').length > 3"
        )
        _save(driver, out_dir / "ui-datasets.png")
        _open(
            driver,
            f"{server.url}/plugin/trend-datasets/trend/datasets/{dataset_id}",
            "document.querySelectorAll('#vp-cards .card').length > 0 && "
            "document.querySelectorAll('#heatmap td.cell').length > 0",
        )
        _save(driver, out_dir / "ui-report.png", scroll_to="viewpoints")
        driver.switch_to.frame(0)
        _save(driver, out_dir / "ui-map.png", scroll_to="map")
        driver.switch_to.frame(0)
        driver.execute_script("document.querySelectorAll('#heatmap td.cell')[9].click()")
        WebDriverWait(driver, WAIT_S).until(
            lambda d: d.execute_script("return !!document.querySelector('#cell-examples li')")
        )
        _save(driver, out_dir / "ui-spvp.png", scroll_to="spvp")
        _open(driver, f"{server.url}/plugin/trend-catalog", "document.querySelectorAll('#tree .node').length > 0")
        driver.execute_script(f"document.querySelector(\"#tree .node[data-node-id='{changed_node}']\").click()")
        WebDriverWait(driver, WAIT_S).until(
            lambda d: d.execute_script("return !!document.querySelector('#node-detail table')")
        )
        _save(driver, out_dir / "ui-catalog.png")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    out_dir = Path(argv[0]) if argv else REPO_ROOT / "docs" / "img"
    out_dir.mkdir(parents=True, exist_ok=True)
    schema.migrate()
    try:
        conn = connect("ds_analyzer")
        try:
            showcase = ui_seed.seed_showcase(conn, sentences=6000)
        finally:
            conn.close()
        with tempfile.TemporaryDirectory() as work:
            catalog = ui_seed.seed_catalog(Path(work) / "catalog.sqlite")
            with api_server(Path(work) / "airflow", extra_env={"CATALOG_GRAPH_SQLITE": catalog.path}) as server:
                take(out_dir, server, showcase["completed"].dataset_id, catalog.changed_node)
    finally:
        schema.drop_databases()


if __name__ == "__main__":
    main()
