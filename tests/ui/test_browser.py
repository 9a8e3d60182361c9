"""What a person sees: headless Chromium signs in to the real api-server, follows the nav entries
into the plugin's pages (inside Airflow's iframe) and checks rows, progress bars, the map and the
heatmap. Screenshots land in the test's tmp dir."""

from __future__ import annotations

import pytest

from trend_dev.ui_browser import BrowserUnavailable, chromium, chromium_paths, login

pytestmark = pytest.mark.airflow

try:
    chromium_paths()
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait
except (BrowserUnavailable, ImportError) as exc:  # setup.sh installs both; say so instead of passing silently
    pytest.fail(f"the browser test needs chromium + chromium-driver and selenium: {exc}", pytrace=False)

TIMEOUT = 20


def _count(driver, css: str) -> int:
    return len(driver.find_elements(By.CSS_SELECTOR, css))


def _wait_count(driver, css: str, n: int) -> None:
    WebDriverWait(driver, TIMEOUT).until(lambda d: _count(d, css) == n, f"expected {n} × {css}")


def _enter_plugin_frame(driver, nav_label: str) -> None:
    """Click our entry in Airflow's nav and switch into the iframe it opens."""
    driver.switch_to.default_content()
    link = WebDriverWait(driver, TIMEOUT).until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, f"nav a[aria-label='{nav_label}'], a[aria-label='{nav_label}']"))
    )
    link.click()
    WebDriverWait(driver, TIMEOUT).until(ec.frame_to_be_available_and_switch_to_it((By.TAG_NAME, "iframe")))


def _shot(driver, path) -> None:
    driver.switch_to.default_content()
    driver.save_screenshot(str(path))


def _check_datasets(driver, showcase, tmp_path) -> None:
    _enter_plugin_frame(driver, "Datasets")
    _wait_count(driver, "#datasets tbody tr[data-dataset-id]", len(showcase))
    running = driver.find_element(By.CSS_SELECTOR, f"tr[data-dataset-id='{showcase['running'].dataset_id}']")
    assert running.find_element(By.CSS_SELECTOR, "[role=progressbar]").get_attribute("aria-valuenow") == "65"
    assert "65%" in running.text and "Processing" in running.text
    failed = driver.find_element(By.CSS_SELECTOR, f"tr[data-dataset-id='{showcase['failed'].dataset_id}']")
    assert "2002 LLM_REQUEST_FAILED" in failed.text and "503 five times" in failed.text
    _shot(driver, tmp_path / "datasets.png")
    driver.switch_to.frame(driver.find_element(By.TAG_NAME, "iframe"))
    Select(driver.find_element(By.ID, "f-status")).select_by_visible_text("Failed")
    _wait_count(driver, "#datasets tbody tr[data-dataset-id]", 1)
    Select(driver.find_element(By.ID, "f-status")).select_by_visible_text("All")
    _wait_count(driver, "#datasets tbody tr[data-dataset-id]", len(showcase))


def _check_report(driver, showcase, tmp_path) -> None:
    completed = showcase["completed"]
    driver.find_element(By.CSS_SELECTOR, f"tr[data-dataset-id='{completed.dataset_id}'] a").click()
    _wait_count(driver, "#vp-cards .card", 8)
    WebDriverWait(driver, TIMEOUT).until(
        lambda d: int(d.find_element(By.ID, "map-canvas").get_attribute("data-points") or 0) > 1000
    )
    _wait_count(driver, "#heatmap td.cell", 8 * len(completed.product_ids))
    assert _count(driver, "#products-table tbody tr") == 10  # first page
    assert _count(driver, "#sent-product .row") == len(completed.product_ids)
    cell = driver.find_elements(By.CSS_SELECTOR, "#heatmap td.cell")[0]
    driver.execute_script("arguments[0].scrollIntoView()", cell)
    cell.click()
    WebDriverWait(driver, TIMEOUT).until(lambda d: _count(d, "#cell-examples li") > 0)
    driver.execute_script("document.getElementById('viewpoints').scrollIntoView()")
    _shot(driver, tmp_path / "report.png")


def _check_catalog(driver, ui_catalog, tmp_path) -> None:
    _enter_plugin_frame(driver, "Catalog tree")
    _wait_count(driver, "#tree .node", 10)
    node = driver.find_element(By.CSS_SELECTOR, f"#tree .node[data-node-id='{ui_catalog.changed_node}']")
    assert '"gadgets"' in node.text
    node.click()
    WebDriverWait(driver, TIMEOUT).until(lambda d: "Combined filter" in d.find_element(By.ID, "node-detail").text)
    assert _count(driver, "#node-detail table.history tbody tr") >= 3  # enabled + 2 settings versions
    _shot(driver, tmp_path / "catalog.png")


def test_pages_as_a_person_sees_them(airflow_ui, showcase, ui_catalog, tmp_path):
    with chromium(tmp_path / "profile") as driver:
        login(driver, airflow_ui.url, "ui_admin", airflow_ui.passwords["ui_admin"])
        _check_datasets(driver, showcase, tmp_path)
        _check_report(driver, showcase, tmp_path)
        _check_catalog(driver, ui_catalog, tmp_path)
    assert all((tmp_path / f"{name}.png").stat().st_size > 10_000 for name in ("datasets", "report", "catalog"))
