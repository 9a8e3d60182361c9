"""Pages inside Airflow's UI: datasets, the dataset report (viewpoints, map, sentiment, SPVP) and
the catalog tree, served by Airflow's api-server through the plugin in ``plugins/trend_ui.py``.

This module is what the plugin imports, and Airflow imports plugins in every task process too
(macros, listeners), so it stays light: the FastAPI app (``trend.ui.app``) is built on the first
HTTP request, inside the api-server, where FastAPI and Airflow's security modules are loaded anyway.
"""

from __future__ import annotations

import importlib
from typing import Any

PLUGIN_NAME = "trend_pipelines_ui"
URL_PREFIX = "/trend"  # where the api-server mounts the app (must not start with a reserved prefix)

# Top-level nav entries of Airflow's UI; each opens our page in the UI's iframe at /plugin/<url_route>.
# href has no leading slash: the UI resolves it against its <base href>, so [api] base_url works.
EXTERNAL_VIEWS: list[dict[str, Any]] = [
    {
        "name": "Datasets",
        "href": URL_PREFIX.lstrip("/") + "/datasets",
        "url_route": "trend-datasets",
        "icon": URL_PREFIX.lstrip("/") + "/static/datasets.svg",
        "nav_top_level": True,
        "destination": "nav",
    },
    {
        "name": "Catalog tree",
        "href": URL_PREFIX.lstrip("/") + "/catalog",
        "url_route": "trend-catalog",
        "icon": URL_PREFIX.lstrip("/") + "/static/catalog.svg",
        "nav_top_level": True,
        "destination": "nav",
    },
]


class LazyApp:
    """An ASGI app that imports and builds ``module:factory()`` on its first call."""

    def __init__(self, target: str):
        self.target = target
        self._app: Any = None

    def _build(self) -> Any:
        module, _, factory = self.target.partition(":")
        return getattr(importlib.import_module(module), factory)()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if self._app is None:
            self._app = self._build()
        await self._app(scope, receive, send)

    def __repr__(self) -> str:  # what `airflow plugins` prints
        return f"FastAPI app {self.target} (built on first request)"


asgi_app = LazyApp("trend.ui.app:create_app")
