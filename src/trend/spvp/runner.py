"""The incremental SPVP run for one dataset: ``run(spark, dataset_id, config)``.

1. PROCESSING on the history (or skip / refuse, see progress.start).
2. Scope: the dataset's category and the largest sentence id of its products
   (the high-water mark). The category's viewpoints process the sentence stream
   (low, high] where low = min(last_object_id): the watermark is per category, so
   the stream is not filtered by product; sentences of other products in the
   range are mapped too and never skipped.
3. Spark scores the range offline; the driver takes it in id order, in batches,
   lets the router send uncertain sentences to the LLM, and commits each batch
   (mappings + last_object_id) in one transaction.
4. COMPLETED when every viewpoint reached the high-water mark; FAILED with the
   error code and reason on any error (committed batches stay committed).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

import numpy as np

from trend import embeddings
from trend.spvp import offline, progress
from trend.spvp.progress import Databases, Mapping, SpvpFailure
from trend.spvp.prompting import TokenUsage
from trend.spvp.router import Router, RoutingStats, build_llm
from trend.spvp.settings import SpvpConfig
from trend.spvp.viewpoints import UnknownCategory, load_category
from trend.status import ErrorCode

log = logging.getLogger(__name__)


class InjectedFailure(RuntimeError):
    """Raised by the crash-injection hook (config.fail_after_batches)."""


@dataclass
class RunReport:
    dataset_id: int
    status: str = "skipped"  # skipped | completed | incomplete
    category_id: int | None = None
    low: int = 0
    high_water: int = 0
    sentences: int = 0
    batches: int = 0
    mappings: int = 0
    seconds: float = 0.0  # the whole run
    stream_seconds: float = 0.0  # Spark read + scoring + routing + commits (no model loading)
    routing: RoutingStats = field(default_factory=RoutingStats)
    usage: TokenUsage | None = None

    def summary(self) -> str:
        rate = self.sentences / self.stream_seconds if self.stream_seconds else 0.0
        text = (
            f"dataset {self.dataset_id}: {self.status}; sentences ({self.low}, {self.high_water}] "
            f"{self.sentences} in {self.batches} batches, {self.mappings} mappings, "
            f"{self.seconds:.1f} s in all, {rate:.0f} sentences/s while streaming, "
            f"LLM share {self.routing.llm_share:.1%}"
        )
        if self.usage:
            text += f", tokens {self.usage.prompt_tokens}+{self.usage.completion_tokens}"
        return text


def _batches(rows: Iterable, size: int) -> Iterator[list]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def run(
    spark,
    dataset_id: int,
    config: SpvpConfig | None = None,
    dbs: Databases | None = None,
    rerun: bool = False,
    encode: Callable[[Sequence[str]], np.ndarray] = embeddings.encode,
    resume_failed: bool = False,
) -> RunReport:
    """Map one dataset's pending sentences; sets spvp_status 2 → 3, or 9 with the reason.

    ``rerun``: also completed/failed datasets (manual re-run); ``resume_failed``:
    also failed ones (a retry); otherwise only datasets in PROCESSING.
    """
    config = config or SpvpConfig()
    dbs = dbs or Databases.from_env()
    gb = dbs.connect("gb_console")
    try:
        if not progress.start(gb, dataset_id, rerun, resume_failed):
            log.info("dataset %s: SPVP already finished or failed; pass rerun to map it again", dataset_id)
            return RunReport(dataset_id)
        try:
            report = _map(spark, dataset_id, config, dbs, encode)
        except Exception as exc:
            code = getattr(exc, "code", None)
            if not isinstance(code, ErrorCode):
                code = ErrorCode.SPVP_MAPPING_FAILED
            gb.ping(True)
            progress.fail(gb, dataset_id, code, str(exc) or type(exc).__name__)
            log.error("dataset %s: SPVP failed: %s", dataset_id, exc)
            raise
        if report.status == "completed":
            progress.complete(gb, dataset_id)
        log.info(report.summary())
        return report
    finally:
        gb.close()


def _map(spark, dataset_id: int, config: SpvpConfig, dbs: Databases, encode) -> RunReport:
    started = time.perf_counter()
    ds, analyzer = dbs.connect("ds_analyzer"), dbs.connect("analyzer_v2")
    try:
        scope = progress.load_scope(ds, analyzer, dataset_id)
        try:
            category = load_category(ds, scope.category_id)
        except UnknownCategory as exc:
            raise SpvpFailure(ErrorCode.MALFORMED_SETTINGS, f"dataset {dataset_id}: {exc}") from None
        last_ids = {v.ordinal: v.last_object_id for v in category.viewpoints}
        low, high = min(last_ids.values()), scope.high_water
        report = RunReport(dataset_id, "completed", category.id, low, high)
        if low < high:
            progress.check_embeddings(analyzer, low, high, embeddings.DIMENSION)
            model = offline.fit(category, encode, config.offline)
            llm = build_llm(config, category)
            router = Router(category.ordinals, llm, config.route, config.on_invalid_output)
            report.routing, report.usage = router.stats, getattr(llm, "usage", None)
            from trend.spvp.spark_source import scored_in_order

            stream_started = time.perf_counter()
            rows = scored_in_order(spark, dbs, model, low, high, config.jdbc_partitions)
            for batch in _batches(rows, config.batch_size):
                mappings = _resolve(router, category.ordinals, batch)
                ds.ping(True)
                last_ids = progress.commit_batch(ds, category.stored_id, last_ids, batch[-1]["sentence_id"], mappings)
                report.batches += 1
                report.sentences += len(batch)
                report.mappings += len(mappings)
                if config.fail_after_batches is not None and report.batches >= config.fail_after_batches:
                    raise InjectedFailure(f"injected failure after {report.batches} committed batches")
            # Every sentence up to the high-water mark has been seen (the range may end in a gap).
            last_ids = progress.commit_batch(ds, category.stored_id, last_ids, high, [])
            report.stream_seconds = time.perf_counter() - stream_started
        report.status = "completed" if min(last_ids.values()) >= high else "incomplete"
        report.seconds = time.perf_counter() - started
        return report
    finally:
        ds.close()
        analyzer.close()


def _resolve(router: Router, ordinals: Sequence[int], batch: list) -> list[Mapping]:
    texts = [row["text"] for row in batch]
    scores = np.array([row["scores"] for row in batch], dtype=np.float32)
    labels = np.array([row["labels"] for row in batch], dtype=bool)
    uncertain = np.array([row["uncertain"] for row in batch], dtype=bool)
    final, backends = router.resolve(texts, labels, uncertain)
    out = []
    for i, row in enumerate(batch):
        for j in np.flatnonzero(final[i]):
            out.append(
                Mapping(
                    int(row["sentence_id"]),
                    int(ordinals[int(j)]),
                    row["mall_product_id"],
                    float(scores[i, j]),
                    backends[i],
                )
            )
    return out
