"""Client for the Crawler Service (HTTP/JSON).

API (documented in README):
  POST {base}/jobs            {"items": [{"ref", "kind", "mall_id", "target", "limit"}]}
                              -> 202 {"job_id": "..."}
  GET  {base}/jobs/{job_id}   -> {"status": "queued|running|done|canceled",
                                  "items": [{"ref", "status": "success|error|canceled",
                                             "error", "found_products": [...]}]}
Requests time out, and 429/5xx/connection errors are retried with exponential
backoff. A job that does not finish within ``job_timeout`` seconds yields Error
outcomes for its items (the reason says so); nothing is left InProgress.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import requests

from trend.crawl.items import CrawlItem, CrawlOutcome

log = logging.getLogger(__name__)
_RETRYABLE = {429, 500, 502, 503, 504}


class CrawlerServiceError(RuntimeError):
    """The Crawler Service kept failing or answered something we cannot use."""


@dataclass
class HttpCrawlerConfig:
    base_url: str
    token: str | None = None
    request_timeout: float = 10.0
    max_retries: int = 4
    backoff_base: float = 0.5
    poll_interval: float = 2.0
    job_timeout: float = 1800.0

    def __repr__(self) -> str:  # keep the token out of logs
        return f"HttpCrawlerConfig(base_url={self.base_url!r})"

    @classmethod
    def from_extras(cls, base_url: str, token: str | None, extras: dict) -> HttpCrawlerConfig:
        """Build from an Airflow connection's extras, rejecting unknown or non-numeric settings."""
        allowed = {"request_timeout", "max_retries", "backoff_base", "poll_interval", "job_timeout"}
        unknown = set(extras) - allowed
        if unknown:
            raise ValueError(f"crawler_service extras: unknown settings {sorted(unknown)}; allowed {sorted(allowed)}")
        values: dict[str, Any] = {}  # int for max_retries, float for the rest
        for key, value in extras.items():
            try:
                values[key] = int(value) if key == "max_retries" else float(value)
            except (TypeError, ValueError):
                raise ValueError(f"crawler_service extras: {key}={value!r} is not a number") from None
            if values[key] < 0:
                raise ValueError(f"crawler_service extras: {key} must not be negative")
        return cls(base_url=base_url, token=token, **values)


class HttpCrawlerClient:
    def __init__(
        self, config: HttpCrawlerConfig, session: requests.Session | None = None, sleep=time.sleep, clock=time.monotonic
    ):
        self.config = config
        self.session = session or requests.Session()
        self.sleep = sleep
        self.clock = clock
        if config.token:
            self.session.headers["Authorization"] = f"Bearer {config.token}"

    def _request(self, method: str, path: str, **kwargs) -> dict:
        url = self.config.base_url.rstrip("/") + path
        last: str = ""
        for attempt in range(self.config.max_retries + 1):
            try:
                response = self.session.request(method, url, timeout=self.config.request_timeout, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = f"{type(exc).__name__}"
            else:
                if response.status_code < 300:
                    try:
                        return response.json()
                    except ValueError:
                        raise CrawlerServiceError(f"{method} {path}: response is not JSON") from None
                if response.status_code not in _RETRYABLE:
                    raise CrawlerServiceError(f"{method} {path}: HTTP {response.status_code} {response.text[:200]}")
                last = f"HTTP {response.status_code}"
            if attempt < self.config.max_retries:
                delay = self.config.backoff_base * 2**attempt
                log.warning("%s %s failed (%s); retry %d in %.1fs", method, path, last, attempt + 1, delay)
                self.sleep(delay)
        raise CrawlerServiceError(f"{method} {path}: gave up after {self.config.max_retries + 1} attempts ({last})")

    def submit(self, items: list[CrawlItem]) -> str:
        payload = {
            "items": [
                {
                    "ref": f"{i.kind.value}:{i.item_id}",
                    "kind": i.kind.value,
                    "mall_id": i.mall_id,
                    "target": i.target,
                    "limit": i.limit,
                }
                for i in items
            ]
        }
        job_id = self._request("POST", "/jobs", json=payload).get("job_id")
        if not job_id:
            raise CrawlerServiceError("POST /jobs: no job_id in response")
        return str(job_id)

    def wait(self, job_id: str) -> dict:
        deadline = self.clock() + self.config.job_timeout
        while True:
            job = self._request("GET", f"/jobs/{job_id}")
            if job.get("status") in ("done", "canceled"):
                return job
            if self.clock() >= deadline:
                return {"status": "timeout", "items": []}
            self.sleep(self.config.poll_interval)

    def crawl(self, items: list[CrawlItem]) -> list[CrawlOutcome]:
        if not items:
            return []
        job_id = self.submit(items)
        job = self.wait(job_id)
        by_ref = {r.get("ref"): r for r in job.get("items", [])}
        outcomes = []
        for item in items:
            result = by_ref.get(f"{item.kind.value}:{item.item_id}")
            if job["status"] == "timeout":
                outcomes.append(
                    CrawlOutcome.failed(
                        item, f"crawler job {job_id} did not finish in {self.config.job_timeout:.0f}s", job_id
                    )
                )
            elif result is None:
                reason = "job canceled" if job["status"] == "canceled" else "missing from job result"
                outcome = CrawlOutcome.canceled if job["status"] == "canceled" else CrawlOutcome.failed
                outcomes.append(outcome(item, f"crawler job {job_id}: {reason}", job_id))
            elif result.get("status") == "success":
                outcomes.append(CrawlOutcome.success(item, list(result.get("found_products") or []), job_id))
            elif result.get("status") == "canceled":
                outcomes.append(CrawlOutcome.canceled(item, result.get("error") or "canceled by crawler", job_id))
            else:
                outcomes.append(
                    CrawlOutcome.failed(item, result.get("error") or f"status {result.get('status')!r}", job_id)
                )
        return outcomes
