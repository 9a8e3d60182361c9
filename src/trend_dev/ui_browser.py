"""Headless Chromium (Debian ``chromium`` + ``chromium-driver``) driven by Selenium, for the UI test,
screenshots and the page-load bench."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


class BrowserUnavailable(RuntimeError):
    """chromium / chromedriver are not installed (scripts/setup.sh installs them)."""


def chromium_paths() -> tuple[str, str]:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not binary or not driver:
        raise BrowserUnavailable("chromium and chromedriver are needed: apt-get install chromium chromium-driver")
    return binary, driver


@contextmanager
def chromium(profile_dir: Path | str, width: int = 1440, height: int = 1000) -> Iterator[object]:
    """A Selenium Chrome driver on a fresh profile; quit (browser and driver) on exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile_dir}")
    options.add_argument(f"--window-size={width},{height}")
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        driver.set_page_load_timeout(60)
        yield driver
    finally:
        driver.quit()


def login(driver, base_url: str, username: str, password: str, timeout: float = 30) -> None:
    """Sign in through Airflow's own login page (SimpleAuthManager) and wait for the home page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{base_url}/auth/login")
    wait = WebDriverWait(driver, timeout)
    wait.until(ec.presence_of_element_located((By.NAME, "username"))).send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: "/auth/login" not in d.current_url and d.get_cookie("_token") is not None)
