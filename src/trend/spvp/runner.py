"""The incremental SPVP run for one dataset: ``run(spark, dataset_id, config)``.

SPVP works on datasets' sentences (``ds_analyzer.review_sentences WHERE dataset_id = ?``), never
on the whole analyzer_v2 table: a product outside the category's datasets is never read.

``specific_viewpoints.last_object_id`` (per viewpoint) keeps its meaning for progress, resume and
manual reset: every sentence with an id at or below it, of every dataset that *joined* the
category (``spvp_dataset_joins``), has been processed for that viewpoint.

1. PROCESSING on the history (or skip / refuse, see progress.start).
2. Scope: the dataset's category, its sentences' high-water mark, the joined datasets.
3. Joining (first run of a dataset): its own sentences at or below the watermark that no joined
   dataset holds are mapped (``commit_backfill``, no watermark moves); then it joins.
4. Stream: the joined datasets' sentences in (low, high] where low = min(last_object_id) and high
   = this dataset's high-water mark, scored offline by Spark, taken in id order on the driver in
   batches, uncertain ones routed to the LLM, each batch committed with the watermark (one
   transaction). Sentences of other joined datasets in the range are mapped too (they keep the
   watermark's meaning); a crash loses at most the batch in flight, a rerun resumes.
5. COMPLETED when every viewpoint reached the high-water mark; FAILED with the error code and
   reason on any error (committed batches stay committed).

Two datasets sharing a category: the mappings are per (category, sentence, viewpoint), so a
sentence both datasets hold is mapped once. When B joins after A moved the watermark to W, B's
own sentences at or below W that A does not hold are backfilled first; its sentences above W are
streamed together with A's. A manual reset to R drops mappings above R and sets the watermarks to
R: every joined dataset's sentences above R are mapped again by the next run of any of them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

import numpy as np

from trend import embeddings
from trend.spvp import examples, offline, progress
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
    backfilled: int = 0  # sentences of a joining dataset at or below the watermark
    seconds: float = 0.0  # the whole run
    stream_seconds: float = 0.0  # Spark read + scoring + routing + commits (no model loading)
    routing: RoutingStats = field(default_factory=RoutingStats)
    usage: TokenUsage | None = None
    mapper: str = ""  # the offline mapper: supervised / prototype columns and its example counts
    learned: int = 0  # LLM-decided sentences stored as examples this run (new rows)

    def summary(self) -> str:
        rate = self.sentences / self.stream_seconds if self.stream_seconds else 0.0
        text = (
            f"dataset {self.dataset_id}: {self.status}; sentences ({self.low}, {self.high_water}] "
            f"{self.sentences} in {self.batches} batches, {self.mappings} mappings, "
            f"{self.seconds:.1f} s in all, {rate:.0f} sentences/s while streaming, "
            f"uncertain share {self.routing.uncertain_share:.1%}, LLM share {self.routing.llm_share:.1%}"
        )
        if self.mapper:
            text += f"; mapper {self.mapper}"
        if self.learned:
            text += f"; {self.learned} LLM decisions stored as examples"
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


class _Mapper:
    """The offline model, the LLM router and the Spark reader for one run (built only when needed)."""

    def __init__(self, spark, dbs: Databases, category, config: SpvpConfig, encode, report: RunReport, ds):
        self.spark, self.dbs, self.category, self.config = spark, dbs, category, config
        stored = examples.load(ds, category.stored_id, dbs.name("analyzer_v2"))
        self.model = offline.fit(category, encode, config.offline, extra=stored)
        report.mapper = describe(self.model)
        log.info("category %s: offline mapper %s", category.stored_id, report.mapper)
        llm = build_llm(config, category)
        self.router = Router(category.ordinals, llm, config.route, config.on_invalid_output)
        report.routing, report.usage = self.router.stats, getattr(llm, "usage", None)

    def batches(self, sentences_sql: str, low: int, high: int) -> Iterator[tuple[list, list[Mapping], set[int]]]:
        from trend.spvp.spark_source import scored_in_order

        rows = scored_in_order(self.spark, self.dbs, self.model, sentences_sql, low, high, self.config.jdbc_partitions)
        for batch in _batches(rows, self.config.batch_size):
            yield batch, *_resolve(self.router, self.category.ordinals, batch)


def _map(spark, dataset_id: int, config: SpvpConfig, dbs: Databases, encode) -> RunReport:
    started = time.perf_counter()
    ds = dbs.connect("ds_analyzer")
    try:
        scope = progress.load_scope(ds, dataset_id)
        try:
            category = load_category(ds, scope.category_id)
        except UnknownCategory as exc:
            raise SpvpFailure(ErrorCode.MALFORMED_SETTINGS, f"dataset {dataset_id}: {exc}") from None
        last_ids = {v.ordinal: v.last_object_id for v in category.viewpoints}
        category_id = category.stored_id
        report = RunReport(dataset_id, "completed", category_id, min(last_ids.values()), scope.high_water)
        ds_db = dbs.name("ds_analyzer")
        backfill_sql = None
        if not scope.joined and max(last_ids.values()) > 0:
            backfill_sql = progress.dataset_sentences_sql(
                ds_db, [dataset_id], scope.joined_datasets, max(last_ids.values())
            )
        stream_sql = progress.dataset_sentences_sql(ds_db, scope.stream_datasets)
        mapper = None
        if backfill_sql or report.low < report.high_water:
            for sql in filter(None, (backfill_sql, stream_sql)):
                progress.check_embeddings(ds, dbs.name("analyzer_v2"), sql, embeddings.DIMENSION)
            mapper = _Mapper(spark, dbs, category, config, encode, report, ds)
        if backfill_sql and mapper:
            report.backfilled = _backfill(mapper, ds, category_id, last_ids, backfill_sql)
        progress.mark_joined(ds, dataset_id, category_id)
        if mapper and report.low < report.high_water:
            last_ids = _stream(mapper, ds, category_id, last_ids, stream_sql, report, config)
        report.status = "completed" if min(last_ids.values()) >= report.high_water else "incomplete"
        report.seconds = time.perf_counter() - started
        return report
    finally:
        ds.close()


def _backfill(mapper: _Mapper, ds, category_id: int, last_ids: dict[int, int], sentences_sql: str) -> int:
    """A joining dataset's own sentences at or below the watermark that no joined dataset holds."""
    done = 0
    for batch, mappings, by_llm in mapper.batches(sentences_sql, 0, max(last_ids.values())):
        ds.ping(True)
        progress.commit_backfill(ds, category_id, last_ids, mappings)
        _learn(mapper, ds, batch, mappings, by_llm)
        done += len(batch)
    log.info("category %s: backfilled %d sentences of a joining dataset", category_id, done)
    return done


def _stream(mapper: _Mapper, ds, category_id: int, last_ids, sentences_sql: str, report: RunReport, config):
    """The joined datasets' sentences in (low, high], in id order, one committed batch at a time."""
    stream_started = time.perf_counter()
    for batch, mappings, by_llm in mapper.batches(sentences_sql, report.low, report.high_water):
        ds.ping(True)
        last_ids = progress.commit_batch(ds, category_id, last_ids, batch[-1]["sentence_id"], mappings)
        report.learned += _learn(mapper, ds, batch, mappings, by_llm)
        report.batches += 1
        report.sentences += len(batch)
        report.mappings += len(mappings)
        if config.fail_after_batches is not None and report.batches >= config.fail_after_batches:
            raise InjectedFailure(f"injected failure after {report.batches} committed batches")
    # Every sentence up to the high-water mark has been seen (the range may end in a gap).
    last_ids = progress.commit_batch(ds, category_id, last_ids, report.high_water, [])
    report.stream_seconds = time.perf_counter() - stream_started
    return last_ids


def describe(model: offline.OfflineModel) -> str:
    """E.g. "10 supervised + 2 prototype viewpoints, examples file 2493 / llm 40, top-1 floor 0.35"."""
    supervised = int(model.supervised.sum())
    text = f"{supervised} supervised + {len(model.ordinals) - supervised} prototype viewpoints"
    if model.head is not None:
        text += ", examples " + " / ".join(f"{k} {v}" for k, v in sorted(model.head.examples.items()))
        text += f", top-1 floor {model.head.floor}" if model.head.floor is not None else ", no top-1 floor"
    return text


def _learn(mapper: _Mapper, ds, batch: list, mappings: Sequence[Mapping], decided_by_llm: set[int]) -> int:
    """Store the batch's LLM-decided sentences (and what was decided, maybe nothing) as examples."""
    if not decided_by_llm or not mapper.config.learn_from_llm:
        return 0
    ordinals: dict[int, set[int]] = {}
    for m in mappings:
        if m.sentence_id in decided_by_llm:
            ordinals.setdefault(m.sentence_id, set()).add(m.ordinal)
    decided = [
        examples.Decided(row["text"], frozenset(ordinals.get(int(row["sentence_id"]), ())), int(row["sentence_id"]))
        for row in batch
        if int(row["sentence_id"]) in decided_by_llm
    ]
    ids = {v.ordinal: v.id for v in mapper.category.viewpoints if v.id is not None}
    return examples.store(ds, mapper.category.stored_id, decided, "llm", ids)


def _resolve(router: Router, ordinals: Sequence[int], batch: list) -> tuple[list[Mapping], set[int]]:
    """The batch's mappings and the ids of the sentences the LLM decided."""
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
    llm_name = router.llm.name if router.llm is not None else None
    return out, {int(row["sentence_id"]) for row, b in zip(batch, backends) if llm_name and b == llm_name}
