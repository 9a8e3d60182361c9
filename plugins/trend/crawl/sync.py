"""One crawl-sync pass: fail stuck items, claim New ones, crawl them, record outcomes."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from trend.crawl.claims import claim_new_items, fail_stuck_items, record_outcomes
from trend.crawl.items import CrawlItem, CrawlOutcome
from trend.db import ConnectionFactory

log = logging.getLogger(__name__)


class Crawler(Protocol):
    def crawl(self, items: list[CrawlItem]) -> list[CrawlOutcome]: ...


@dataclass
class SyncReport:
    stuck_failed: int
    claimed: int
    rejected: int
    recorded: dict[str, int]

    def __str__(self) -> str:
        return (f"stuck->error {self.stuck_failed}, claimed {self.claimed}, rejected {self.rejected}, "
                f"outcomes {self.recorded}")


def sync_once(gb_conn: ConnectionFactory, crawler: Crawler, limit_per_kind: int = 100,
              stuck_timeout_minutes: int = 120, wishlist_id: int | None = None) -> SyncReport:
    conn = gb_conn()
    try:
        stuck = fail_stuck_items(conn, stuck_timeout_minutes)
        claim = claim_new_items(conn, limit_per_kind, wishlist_id)
        try:
            outcomes = crawler.crawl(claim.claimed)
        except Exception as exc:  # the crawler failed as a whole: no item stays InProgress
            log.exception("crawler failed for %d items", len(claim.claimed))
            outcomes = [CrawlOutcome.error(i, f"crawler failed: {type(exc).__name__}: {exc}") for i in claim.claimed]
        missing = {i.key for i in claim.claimed} - {o.item.key for o in outcomes}
        outcomes += [CrawlOutcome.error(i, "crawler returned no outcome") for i in claim.claimed if i.key in missing]
        recorded = record_outcomes(conn, outcomes)
    finally:
        conn.close()
    report = SyncReport(len(stuck), len(claim.claimed), len(claim.rejected), recorded)
    log.info("crawl sync: %s", report)
    return report
