"""The UI plugin under a real Airflow api-server (private AIRFLOW_HOME, SQLite metadata, free port,
SimpleAuthManager) over this run's MariaDB databases and a gremlite catalog graph.

One server per test session (it takes ~15 s to start); every module seeds its own rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import requests

from tests.conftest import truncate_all
from trend.db import connect
from trend_dev import ui_seed
from trend_dev.ui_server import ApiServer, api_server

pytestmark = pytest.mark.airflow


@pytest.fixture(scope="session")
def ui_catalog(tmp_path_factory) -> ui_seed.SeededCatalog:
    return ui_seed.seed_catalog(tmp_path_factory.mktemp("graph") / "catalog.sqlite")


@pytest.fixture(scope="session")
def airflow_ui(databases, ui_catalog, tmp_path_factory):
    """The running api-server with our plugin; yields trend_dev.ui_server.ApiServer."""
    home = tmp_path_factory.mktemp("airflow-ui")
    with api_server(home, extra_env={"CATALOG_GRAPH_SQLITE": ui_catalog.path}) as server:
        yield server


@dataclass
class Client:
    """requests against the plugin's JSON API as one user."""

    server: ApiServer
    token: str | None

    def get(self, path: str, **params) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return requests.get(f"{self.server.url}/trend/api/{path}", params=params, headers=headers, timeout=30)

    def json(self, path: str, **params):
        response = self.get(path, **params)
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        return response.json()


@pytest.fixture(scope="session")
def admin(airflow_ui) -> Client:
    return Client(airflow_ui, airflow_ui.token("ui_admin"))


@pytest.fixture(scope="module")
def showcase(databases):
    """A completed dataset with results, a running, a failed and a pending one (fresh tables)."""
    truncate_all(databases)
    conn = connect("ds_analyzer")
    try:
        yield ui_seed.seed_showcase(conn, sentences=3000)
    finally:
        conn.close()
