"""Bodies of the foundation DAGs' tasks: a few lines each over the tested modules.

Everything here runs inside a task (never at DAG parse time).
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict

from trend.airflow_support import mysql_connection

log = logging.getLogger(__name__)


class CrawlerNotConfigured(RuntimeError):
    pass


def build_crawler():
    """HTTP Crawler Service if connection `crawler_service` exists, else the local dump source."""
    from airflow.sdk import BaseHook

    from trend.crawl.http_client import HttpCrawlerClient, HttpCrawlerConfig
    from trend.crawl.local_source import LocalMarketplaceSource, MarketplaceDump

    try:
        conn = BaseHook.get_connection("crawler_service")
    except Exception:  # AirflowNotFoundException: fall back to the local source
        conn = None
    if conn is not None:
        scheme = conn.schema or "http"
        port = f":{conn.port}" if conn.port else ""
        base = f"{scheme}://{conn.host}{port}"
        extras = conn.extra_dejson  # malformed JSON in extras raises a clear Airflow error
        return HttpCrawlerClient(HttpCrawlerConfig.from_extras(base, conn.password or None, extras or {}))
    if not os.environ.get("TP_LOCAL_MARKETPLACE_DUMP"):
        raise CrawlerNotConfigured(
            "no crawler configured: add an Airflow connection 'crawler_service' (the Crawler Service) "
            "or set TP_LOCAL_MARKETPLACE_DUMP to a marketplace dump folder"
        )
    dump = MarketplaceDump.from_env()  # XML: TP_LOCAL_MARKETPLACE_MALL_ID (required), _PRODUCT_OF
    log.info("local marketplace source %s: %s", os.environ["TP_LOCAL_MARKETPLACE_DUMP"], dump.summary())
    return LocalMarketplaceSource(dump, lambda: mysql_connection("analyzer_v2"))


def crawl_sync(limit_per_kind: int, wishlist_id: int | None) -> dict:
    from trend.crawl.sync import sync_once

    report = sync_once(lambda: mysql_connection("gb_console"), build_crawler(), limit_per_kind, wishlist_id)
    return asdict(report)


def create_datasets(wishlist_id: int | None) -> list[dict]:
    """Datasets for one wishlist (manual: fails clearly if not ready) or every ready wishlist.

    Scheduled runs create each ready wishlist's dataset on its own: a wishlist that fails is
    returned as ``{"wishlist_id", "created": False, "error"}`` (and fails ``check_failures``
    downstream), so the others are created and announced all the same.
    """
    from airflow.sdk.exceptions import AirflowFailException

    from trend.datasets import (
        CreationReport,
        UnknownWishlist,
        WishlistNotReady,
        create_dataset_for_wishlist,
        create_ready_datasets,
    )

    conn = mysql_connection("ds_analyzer")
    try:
        if wishlist_id is None:
            report = create_ready_datasets(conn)
        else:
            try:
                report = CreationReport([create_dataset_for_wishlist(conn, wishlist_id)], [])
            except (WishlistNotReady, UnknownWishlist) as exc:  # retrying cannot help: fail now, clearly
                raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc
    finally:
        conn.close()
    for c in report.created:
        log.info(
            "wishlist %s (group %s) -> dataset %s (%s, %d products, viewpoint category %s)",
            c.wishlist_id,
            c.group_id,
            c.dataset_id,
            "created" if c.created else "already existed",
            c.product_count,
            c.viewpoint_category_id,
        )
        if c.viewpoint_category_id is None:
            log.warning(
                "dataset %s has no viewpoint category: SPVP cannot map it until wishlist %s gets one "
                "(make load-viewpoints VIEWPOINTS=file.yaml ASSIGN_WISHLIST=%s)",
                c.dataset_id,
                c.wishlist_id,
                c.wishlist_id,
            )
    return [asdict(c) for c in report.created] + [
        {"wishlist_id": f.wishlist_id, "created": False, "error": f.error} for f in report.failed
    ]


def check_failures(results: list[dict], what: str) -> str:
    """Fail (no retries: the same input fails the same way) when any item of ``results`` has an error."""
    from airflow.sdk.exceptions import AirflowFailException

    failed = [r for r in results if r.get("error")]
    if failed:
        raise AirflowFailException(
            f"{len(failed)} of {len(results)} {what} failed: "
            + "; ".join(f"{r['wishlist_id']}: {r['error']}" for r in failed)
        )
    return f"{len(results)} {what}, none failed"


def reconcile(stuck_timeout_minutes: int, abandoned_after_minutes: int | None = None) -> dict:
    """Stuck crawl items resolved, abandoned analyses (status 2, no heartbeat) failed, histories in step."""
    from trend.analyzer.lifecycle import STALE_MINUTES, fail_abandoned
    from trend.crawl.recovery import reconcile_stuck_items
    from trend.datasets import ready_for_spvp, sync_dataset_histories

    ds = mysql_connection("ds_analyzer")
    try:
        abandoned = fail_abandoned(ds, abandoned_after_minutes or STALE_MINUTES)
    finally:
        ds.close()
    conn = mysql_connection("gb_console")
    try:
        stuck = reconcile_stuck_items(conn, stuck_timeout_minutes)
        changes = sync_dataset_histories(conn)
    finally:
        conn.close()
    return {
        "stuck_items_succeeded": len(stuck["success"]),
        "stuck_items_failed": len(stuck["error"]),
        "abandoned_datasets_failed": [int(d["id"]) for d in abandoned],
        "histories_changed": [asdict(c) for c in changes],
        "ready_for_spvp": ready_for_spvp(changes),
    }


def retry_failed_items(wishlist_id: int) -> dict[str, int]:
    """Manual: the wishlist's Error/Canceled items back to New; an unknown or inactive wishlist fails at once."""
    from airflow.sdk.exceptions import AirflowFailException

    from trend.crawl.recovery import UnknownWishlistItems, retry_failed_items

    conn = mysql_connection("gb_console")
    try:
        reset = retry_failed_items(conn, wishlist_id)
    except UnknownWishlistItems as exc:
        raise AirflowFailException(str(exc)) from exc
    finally:
        conn.close()
    log.info("wishlist %s: %d failed items back to New %s", wishlist_id, sum(reset.values()), reset)
    return reset


# Emitters: each is the body of a task whose only job is to carry an asset outlet. It succeeds
# (Airflow records the asset event, downstream DAGs run) only when its producer changed something;
# otherwise it raises AirflowSkipException, and a skipped task emits nothing: an idle system stays idle.


def _emit_or_skip(asset_name: str, changed: int, what: str) -> str:
    from airflow.sdk.exceptions import AirflowSkipException

    if changed <= 0:
        raise AirflowSkipException(f"no {what}: no {asset_name} event, downstream DAGs stay idle")
    log.info("%d %s: emitting asset %s", changed, what, asset_name)
    return f"{changed} {what}"


def announce_crawl_results(report: dict) -> str:
    """After crawl_sync: emit ``crawl_results`` when items were claimed or rejected (their status changed)."""
    return _emit_or_skip("crawl_results", int(report["claimed"]) + int(report["rejected"]), "crawl items changed")


def announce_pending_datasets(created: list[dict]) -> str:
    """After dataset_create: emit ``pending_datasets`` when new datasets exist (not on reruns)."""
    return _emit_or_skip("pending_datasets", sum(1 for c in created if c["created"]), "datasets created")


def announce_analysed_datasets(ready_for_spvp: int) -> str:
    """After a history sync: emit ``analysed_datasets`` when histories moved to spvp_status 2."""
    return _emit_or_skip("analysed_datasets", ready_for_spvp, "histories ready for SPVP")
