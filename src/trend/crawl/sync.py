"""One crawl-sync pass: claim New items (and Error items due for an automatic retry), crawl
them, record outcomes.

Items stuck InProgress are handled by the status reconciliation (recovery.reconcile_stuck_items).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from trend.crawl.claims import claim_items, record_outcomes
from trend.crawl.items import CrawlItem, CrawlOutcome
from trend.crawl.retry import DEFAULT_POLICY, RetryPolicy
from trend.db import ConnectionFactory

log = logging.getLogger(__name__)


class Crawler(Protocol):
    def crawl(self, items: list[CrawlItem]) -> list[CrawlOutcome]: ...


@dataclass
class SyncReport:
    claimed: int
    rejected: int
    recorded: dict[str, int]

    def __str__(self) -> str:
        return f"claimed {self.claimed}, rejected {self.rejected}, outcomes {self.recorded}"


def sync_once(
    gb_conn: ConnectionFactory,
    crawler: Crawler,
    limit_per_kind: int = 100,
    wishlist_id: int | None = None,
    retry_policy: RetryPolicy = DEFAULT_POLICY,
) -> SyncReport:
    conn = gb_conn()
    try:
        claim = claim_items(conn, limit_per_kind, wishlist_id)
        try:
            outcomes = crawler.crawl(claim.claimed)
        except Exception as exc:  # the crawler failed as a whole: no item stays InProgress
            log.exception("crawler failed for %d items", len(claim.claimed))
            outcomes = [CrawlOutcome.failed(i, f"crawler failed: {type(exc).__name__}: {exc}") for i in claim.claimed]
        missing = {i.key for i in claim.claimed} - {o.item.key for o in outcomes}
        outcomes += [CrawlOutcome.failed(i, "crawler returned no outcome") for i in claim.claimed if i.key in missing]
        recorded = record_outcomes(conn, outcomes, retry_policy)
    finally:
        conn.close()
    report = SyncReport(len(claim.claimed), len(claim.rejected), recorded)
    log.info("crawl sync: %s", report)
    return report
