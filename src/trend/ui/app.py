"""The FastAPI app Airflow's api-server mounts at ``trend.ui.URL_PREFIX``: pages, JSON API, static files.

Built by ``trend.ui.LazyApp`` on the first request. Pages are server-rendered shells (Jinja2)
whose scripts fetch the JSON endpoints with relative URLs, so the app works under any
``[api] base_url`` and inside the UI's iframe.
"""

from __future__ import annotations

import logging
from pathlib import Path

import MySQLdb
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from trend.catalog_graph.model import CatalogGraphError, InvalidIdError, NodeNotFoundError
from trend.db import DatabaseUnavailable
from trend.ui import api
from trend.ui.datasets import DatasetNotFound
from trend.ui.deps import Reader

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


def _page(request: Request, name: str, **context: object) -> HTMLResponse:
    base = request.scope.get("root_path", "").rstrip("/") + "/"
    return templates.TemplateResponse(request, name, {"base": base, **context})


def _add_pages(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def index(user: Reader) -> RedirectResponse:
        return RedirectResponse("datasets")

    @app.get("/datasets", response_class=HTMLResponse, include_in_schema=False)
    def datasets_page(request: Request, user: Reader) -> HTMLResponse:
        return _page(request, "datasets.html", page="datasets")

    @app.get("/datasets/{dataset_id}", response_class=HTMLResponse, include_in_schema=False)
    def report_page(request: Request, user: Reader, dataset_id: int) -> HTMLResponse:
        return _page(request, "report.html", page="report", dataset_id=dataset_id)

    @app.get("/catalog", response_class=HTMLResponse, include_in_schema=False)
    def catalog_page(request: Request, user: Reader) -> HTMLResponse:
        return _page(request, "catalog.html", page="catalog")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        is_page = "/api/" not in request.url.path and request.method == "GET"
        if exc.status_code == 401 and is_page:  # a person opening a page: send them to Airflow's login
            from airflow.api_fastapi.app import get_auth_manager

            return RedirectResponse(get_auth_manager().get_url_login(next_url=str(request.url)))
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(DatasetNotFound)
    async def no_dataset(request: Request, exc: DatasetNotFound) -> Response:
        return _error(404, str(exc))

    @app.exception_handler(CatalogGraphError)
    async def graph_error(request: Request, exc: CatalogGraphError) -> Response:
        status = 404 if isinstance(exc, NodeNotFoundError) else 422 if isinstance(exc, InvalidIdError) else 500
        return _error(status, str(exc))

    @app.exception_handler(DatabaseUnavailable)
    async def db_down(request: Request, exc: DatabaseUnavailable) -> Response:
        log.error("trend UI: %s", exc)
        return _error(503, "the MySQL server of the pipelines does not answer; see the api-server log")

    @app.exception_handler(MySQLdb.Error)
    async def db_error(request: Request, exc: MySQLdb.Error) -> Response:
        log.error("trend UI: query failed on %s", request.url.path, exc_info=exc)
        return _error(503, f"database error {exc.args[0] if exc.args else ''}: see the api-server log")


def create_app() -> FastAPI:
    app = FastAPI(title="trend-pipelines pages", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(api.router)
    _add_pages(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _add_error_handlers(app)
    return app
