"""Airflow plugin: the trend-pipelines pages (datasets, dataset report, catalog tree) in Airflow's UI.

Only registration lives here; the app, queries and templates are in ``trend.ui``.
"""

from __future__ import annotations

from typing import ClassVar

from airflow.plugins_manager import AirflowPlugin

from trend.ui import EXTERNAL_VIEWS, PLUGIN_NAME, URL_PREFIX, asgi_app


class TrendPipelinesUI(AirflowPlugin):
    name = PLUGIN_NAME
    fastapi_apps: ClassVar[list[dict]] = [{"app": asgi_app, "url_prefix": URL_PREFIX, "name": "trend-pipelines pages"}]
    external_views: ClassVar[list[dict]] = [dict(view) for view in EXTERNAL_VIEWS]
