"""Automatic retries of crawl items that ended in Error: exponential backoff up to a limit.

An Error outcome marked transient (the crawler or the network failed, a job timed out, an
item stayed InProgress too long) counts one more attempt and schedules ``next_attempt_at``
``base · 2^(attempts-1)`` later (capped); after ``max_attempts`` failed attempts, or for a
permanent error (invalid item, not found) or a cancellation, ``next_attempt_at`` stays NULL
and only a manual retry (DAG ``crawl_retry_failed``) brings the item back.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_seconds: int = 300
    max_delay_seconds: int = 6 * 3600

    def __post_init__(self):
        if self.max_attempts < 1 or self.base_seconds < 0 or self.max_delay_seconds < self.base_seconds:
            raise ValueError(f"invalid retry policy {self}")

    def delay_seconds(self, failed_attempts: int) -> int:
        """Wait after the ``failed_attempts``-th failure (1-based)."""
        return int(min(self.base_seconds * 2 ** max(failed_attempts - 1, 0), self.max_delay_seconds))

    def error_assignments(self) -> tuple[str, tuple]:
        """SET clause for an item that just failed transiently (uses attempt_count before the increment).

        next_attempt_at comes first, so it reads the old attempt_count whichever way the server
        orders assignments.
        """
        sql = (
            "next_attempt_at = IF(attempt_count + 1 < %s, CURRENT_TIMESTAMP(3) + INTERVAL "
            "CAST(LEAST(%s * POW(2, attempt_count), %s) AS UNSIGNED) SECOND, NULL), "
            "attempt_count = attempt_count + 1"
        )
        return sql, (self.max_attempts, self.base_seconds, self.max_delay_seconds)


DEFAULT_POLICY = RetryPolicy()
