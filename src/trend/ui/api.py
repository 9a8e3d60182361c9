"""JSON endpoints behind the pages (GET only). Every route needs a reader (deps.reader)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query

from trend.status import DatasetStatus
from trend.ui import catalog, datasets, report, runs, spvp
from trend.ui.deps import DsConn, Reader, graph_store, readable_dags

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api")
PRODUCER_DAGS = {dag_id for dag_id, _ in runs.PRODUCERS}


def _attach_runs(items: list[dict], user, airflow_root: str) -> str | None:
    """Adds ``runs`` to each dataset; returns an error text when Airflow's metadata could not be read."""
    if not items:
        return None
    try:
        found = runs.runs_by_dataset({d["id"] for d in items}, readable_dags(user, PRODUCER_DAGS))
    except Exception as exc:  # the metadata DB is Airflow's: show the datasets anyway, say why runs are missing
        log.warning("reading DAG runs from Airflow's metadata failed", exc_info=True)
        return f"DAG runs could not be read from Airflow's metadata DB: {type(exc).__name__}"
    for item in items:
        item["runs"] = [link.as_dict(airflow_root) for link in found.get(item["id"], [])]
    return None


def _airflow_root() -> str:
    from airflow.api_fastapi.app import API_ROOT_PATH

    return API_ROOT_PATH


@router.get("/datasets")
def list_datasets(
    user: Reader,
    conn: DsConn,
    status: Annotated[int | None, Query(description="datasets.status: 1, 2, 3 or 9")] = None,
    wishlist_id: int | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=datasets.MAX_PAGE_SIZE)] = 50,
) -> dict:
    if status is not None and status not in DatasetStatus._value2member_map_:
        raise HTTPException(422, f"status must be one of {[int(s) for s in DatasetStatus]}")
    result = datasets.list_datasets(conn, datasets.DatasetFilter(status, wishlist_id), page, page_size)
    result["runs_error"] = _attach_runs(result["items"], user, _airflow_root())
    return result


@router.get("/wishlists")
def list_wishlists(user: Reader, conn: DsConn) -> list[dict]:
    return datasets.wishlists(conn)


@router.get("/datasets/{dataset_id}")
def get_dataset(user: Reader, conn: DsConn, dataset_id: int) -> dict:
    item = datasets.get_dataset(conn, dataset_id)
    item["runs_error"] = _attach_runs([item], user, _airflow_root())
    return item


@router.get("/datasets/{dataset_id}/products")
def get_products(
    user: Reader,
    conn: DsConn,
    dataset_id: int,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=report.MAX_PRODUCTS_PAGE)] = 50,
) -> dict:
    datasets.get_dataset(conn, dataset_id)
    return report.products(conn, dataset_id, page, page_size)


@router.get("/datasets/{dataset_id}/viewpoints")
def get_viewpoints(
    user: Reader, conn: DsConn, dataset_id: int, examples: Annotated[int, Query(ge=0, le=10)] = 3
) -> dict:
    datasets.get_dataset(conn, dataset_id)
    return report.viewpoints(conn, dataset_id, examples)


@router.get("/datasets/{dataset_id}/sentiment")
def get_sentiment(
    user: Reader,
    conn: DsConn,
    dataset_id: int,
    by: Annotated[Literal["product", "viewpoint", "both"], Query(description="which breakdown(s)")] = "both",
) -> dict:
    datasets.get_dataset(conn, dataset_id)
    result: dict[str, list] = {}
    if by in ("product", "both"):
        result["by_product"] = report.sentiment_by_product(conn, dataset_id)
    if by in ("viewpoint", "both"):
        result["by_viewpoint"] = [
            {"ai_viewpoint_id": v["id"], "cluster_id": v["cluster_id"], "name": v["name"]} | v["sentiment"]
            for v in report.viewpoints(conn, dataset_id, examples=0)["items"]
        ]
    return result


@router.get("/datasets/{dataset_id}/map")
def get_map(
    user: Reader, conn: DsConn, dataset_id: int, max_points: Annotated[int, Query(ge=100, le=20000)] = 4000
) -> dict:
    datasets.get_dataset(conn, dataset_id)
    return report.sample_map(conn, dataset_id, max_points)


@router.get("/datasets/{dataset_id}/neighbours")
def get_neighbours(user: Reader, conn: DsConn, dataset_id: int, top: Annotated[int, Query(ge=1, le=20)] = 5) -> list:
    datasets.get_dataset(conn, dataset_id)
    return report.neighbours(conn, dataset_id, top)


@router.get("/datasets/{dataset_id}/spvp")
def get_spvp(user: Reader, conn: DsConn, dataset_id: int) -> dict:
    datasets.get_dataset(conn, dataset_id)
    return spvp.heatmap(conn, dataset_id)


@router.get("/datasets/{dataset_id}/spvp/cell")
def get_spvp_cell(
    user: Reader,
    conn: DsConn,
    dataset_id: int,
    ordinal: int,
    product_id: int,
    limit: Annotated[int, Query(ge=1, le=spvp.MAX_EXAMPLES)] = 5,
) -> list[dict]:
    datasets.get_dataset(conn, dataset_id)
    return spvp.cell_examples(conn, dataset_id, ordinal, product_id, limit)


@router.get("/catalogs")
def list_catalogs(user: Reader) -> list[str]:
    with graph_store() as store:
        return catalog.catalogs(store)


def _as_of_us(as_of: str) -> int:
    """``as_of``: microseconds since the epoch, or an ISO date/time (UTC unless it has an offset)."""
    if as_of.isdigit():
        return int(as_of)
    try:
        parsed = datetime.fromisoformat(as_of)
    except ValueError:
        raise HTTPException(422, f"as_of {as_of!r} is neither microseconds nor an ISO date/time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1_000_000)


@router.get("/catalogs/{catalog_id}/tree")
def get_tree(user: Reader, catalog_id: str, as_of: str | None = None) -> dict:
    at = _as_of_us(as_of) if as_of else None
    with graph_store() as store:
        return _tree(store, catalog_id, at)


def _tree(store, catalog_id: str, at: int | None) -> dict:
    if at is not None:
        return {
            "catalog_id": catalog_id,
            "as_of": at,
            "as_of_iso": catalog.iso_us(at),
            "nodes": catalog.tree_as_of(store, catalog_id, at),
        }
    return {"catalog_id": catalog_id, "as_of": None, "nodes": catalog.tree(store, catalog_id)}


@router.get("/catalog-nodes/history")
def get_node_history(user: Reader, node_id: str) -> list[dict]:
    with graph_store() as store:
        return catalog.history(store, node_id)
