"""analyzer_batch for one dataset: claim → extract → transform → stage → publish.

``run(spark, dataset_id, config)`` is what the Spark entrypoint and the tests call.
Every handled failure ends in status 9 + error code + progress -1, with the
dataset's result tables untouched (the publish transaction never committed).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from trend import pyfiles
from trend.analyzer import (
    clustering,
    extract,
    keywords,
    lifecycle,
    publish,
    sentiment,
    sentiment_training,
    similarity,
)
from trend.analyzer.errors import AnalysisError, InjectedFailure
from trend.analyzer.labelling import ClusterSummary, FallbackLabeller, LabelCache, distinct_names, make_labeller
from trend.analyzer.settings import AnalyzerConfig
from trend.db import connect
from trend.status import DatasetStatus, ErrorCode

log = logging.getLogger(__name__)

# progress written when each stage has finished
PROGRESS = {"extract": 15, "clustering": 45, "similarity": 50, "labelling": 65, "sentiment": 80, "staging": 90}
# what an unexpected exception in a stage means
STAGE_ERRORS = {
    "claim": ErrorCode.DATABASE_READ_FAILED,
    "extract": ErrorCode.DATABASE_READ_FAILED,
    "similarity": ErrorCode.UNEXPECTED,
    "clustering": ErrorCode.CLUSTERING_FAILED,
    "labelling": ErrorCode.LLM_REQUEST_FAILED,
    "sentiment": ErrorCode.SENTIMENT_MODEL_FAILED,
    "staging": ErrorCode.DATABASE_WRITE_FAILED,
    "publish": ErrorCode.DATABASE_WRITE_FAILED,
}


@dataclass
class ClusterResult:
    cluster_id: int
    name: str
    size: int
    noise: int
    source: str


@dataclass
class RunResult:
    dataset_id: int
    status: int | None
    error_code: int | None = None
    error_message: str | None = None
    sentences: int = 0
    k: int | None = None  # viewpoints after merging
    k0: int | None = None  # K-means clusters before merging
    lloyd_passes: int = 0  # K-means passes over all sentences
    kept_cluster_ids: list[int] = field(default_factory=list)  # ids matched to the previous run's centroids
    label_fallback: str | None = None  # why the LLM labeller fell back to offline labels, if it did
    similarity_method: str | None = None
    clusters: list[ClusterResult] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    spark_jobs: dict[str, int] = field(default_factory=dict)  # Spark jobs each stage ran
    excluded: list[int] = field(default_factory=list)  # product ids left out (dataset_excluded_products)
    run_id: str | None = None  # datasets.claim_token of this run
    sentiment_method: str | None = None  # the scorer used (vader after a ratings fallback)
    sentiment_note: str | None = None  # what trained the head, or why the run fell back

    @property
    def ok(self) -> bool:
        return self.status == DatasetStatus.COMPLETED


class _Stages:
    def __init__(self, spark: SparkSession, conn, dataset_id: int, run_id: str, result: RunResult):
        self.spark, self.conn, self.dataset_id, self.run_id, self.result = spark, conn, dataset_id, run_id, result
        self.current = "claim"

    @contextlib.contextmanager
    def stage(self, name: str):
        self.current = name
        context = self.spark.sparkContext
        group = f"analyzer-{self.run_id}-{name}"
        context.setJobGroup(group, f"analyzer_batch dataset {self.dataset_id}: {name}")
        started = time.perf_counter()
        try:
            yield
        finally:
            for key in ("spark.jobGroup.id", "spark.job.description"):  # what setJobGroup set
                context.setLocalProperty(key, None)  # type: ignore[arg-type]
        self.result.timings[name] = round(time.perf_counter() - started, 3)
        self.result.spark_jobs[name] = len(context.statusTracker().getJobIdsForGroup(group))
        if name in PROGRESS:
            lifecycle.set_progress(self.conn, self.dataset_id, self.run_id, PROGRESS[name])


def _ds_connect(config: AnalyzerConfig):
    return connect(settings=config.mysql, db=config.ds_db)


def run(spark: SparkSession, dataset_id: int, config: AnalyzerConfig | None = None, labeller=None) -> RunResult:
    config = config or AnalyzerConfig()
    pyfiles.ensure_workers_have_code(spark)
    run_id = uuid.uuid4().hex
    result = RunResult(dataset_id, None, run_id=run_id)
    conn = _ds_connect(config)
    stages = _Stages(spark, conn, dataset_id, run_id, result)
    cached: list[DataFrame] = []
    claimed = False
    try:
        row = lifecycle.claim(conn, dataset_id, run_id, config.force, config.claim_stale_minutes, config.gb_db)
        claimed = True
        product_ids = lifecycle.parse_product_ids(row["settings"], dataset_id)
        publish.clean_staging(conn, dataset_id=dataset_id)  # leftovers of a crashed run
        with lifecycle.Heartbeat(lambda: _ds_connect(config), dataset_id, run_id, config.heartbeat_seconds):
            _analyse(spark, dataset_id, product_ids, config, stages, result, cached, run_id, labeller)
        result.status = int(DatasetStatus.COMPLETED)
    except Exception as exc:
        code = (
            exc.code
            if isinstance(exc, AnalysisError)
            else (ErrorCode.DATABASE_WRITE_FAILED if isinstance(exc, InjectedFailure) else STAGE_ERRORS[stages.current])
        )
        message = exc.detail if isinstance(exc, AnalysisError) else f"{stages.current}: {type(exc).__name__}: {exc}"
        result.error_code, result.error_message = int(code), message[:1000]
        log.error(
            "dataset %s failed in %s: [%s] %s",
            dataset_id,
            stages.current,
            int(code),
            message[:300],
            exc_info=not isinstance(exc, AnalysisError),
        )
        if claimed and _record_failure(config, dataset_id, code, message, run_id):
            result.status = int(DatasetStatus.FAILED)  # else another run owns it now: not ours to fail
    finally:
        for frame in cached:
            frame.unpersist()
        conn.close()
    return result


def _record_failure(config: AnalyzerConfig, dataset_id: int, code: ErrorCode, message: str, run_id: str) -> bool:
    conn = _ds_connect(config)  # a fresh connection: the run's one may be what broke
    try:
        recorded = lifecycle.fail(conn, dataset_id, run_id, code, message)
        publish.clean_staging(conn, run_id=run_id)
    finally:
        conn.close()
    return recorded


def _keep(cached: list[DataFrame], frame: DataFrame) -> DataFrame:
    frame = frame.cache()
    cached.append(frame)
    return frame


def _analyse(spark, dataset_id, product_ids, config, stages, result, cached, run_id, labeller) -> None:
    with stages.stage("extract"):
        av = connect(settings=config.mysql, db=config.av_db)
        try:
            summary = extract.summarise_input(av, product_ids)
        finally:
            av.close()
        extract.record_exclusions(stages.conn, dataset_id, summary.excluded)
        result.excluded = [e.product_id for e in summary.excluded]
        extract.check_input(summary, dataset_id)
        product_ids = summary.product_ids
        products = _keep(cached, extract.read_products(spark, config, product_ids))
        reviews = _keep(cached, extract.read_reviews(spark, config, product_ids))
        read = extract.read_sentences(spark, config, summary)
        decoded = _keep(cached, extract.decode_embeddings(read, config.embedding_dim, config.embedding_model))
        result.sentences = extract.check_embeddings(decoded, dataset_id, config)  # and fills the cache
        sentences = decoded.drop("embedding_problem")
        product_count = products.count()

    with stages.stage("clustering"):
        previous = _previous_centroids(stages.conn, dataset_id)
        # the vectors stay cached once, in `sentences`; `clustered` has the report's 2-D map too.
        # The K-means job also sums the vectors per product, for the similarity stage.
        clustered, choice = clustering.cluster_sentences(
            sentences, result.sentences, config, previous, keep=lambda frame: _keep(cached, frame), sum_by="product_id"
        )
        result.k, result.k0, result.kept_cluster_ids = choice.k, choice.k0, sorted(choice.matched)
        result.lloyd_passes = choice.iterations

    with stages.stage("similarity"):
        result.similarity_method = similarity.choose_method(product_count, config)
        sims = _keep(cached, similarity.similarities(sentences, products, product_count, config, choice.group_sums))
        sims.count()

    with stages.stage("labelling"):
        viewpoints = _label_clusters(spark, dataset_id, clustered, choice, config, result, labeller)

    with stages.stage("sentiment"):
        chosen = sentiment_training.plan(sentences, reviews, config, dataset_id)
        result.sentiment_method, result.sentiment_note = chosen.method, chosen.note
        columns = ["sentence_id", "review_id", "text"] + (["features"] if chosen.head is not None else [])
        scored = _keep(
            cached,
            sentiment.sentence_sentiment(
                sentences.select(*columns),
                chosen.model_path or config.sentiment_model_path,
                config.sentiment_threshold,
                chosen.method,
                chosen.head,
                keep=["review_id"],  # review means straight from the scores: no join back to the sentences
            ),
        )
        scored.count()
        review_rows = _keep(cached, sentiment.review_sentiment(scored, reviews, config.sentiment_threshold))
        review_rows.count()
        sentence_rows = clustered.select(
            "sentence_id", "review_id", "product_id", "cluster_id", "is_noise", "map_x", "map_y"
        ).join(scored.drop("review_id"), "sentence_id")

    with stages.stage("staging"):
        frames = _result_frames(dataset_id, products, reviews, sentences, review_rows, sentence_rows, sims, viewpoints)
        publish.stage(stages.conn, dataset_id, frames, run_id, config)

    with stages.stage("publish"):
        result.counts = publish.publish(stages.conn, dataset_id, run_id, config)
        publish.clean_staging(stages.conn, run_id=run_id)


def _previous_centroids(conn, dataset_id: int) -> dict[int, np.ndarray]:
    """The dataset's published viewpoint centroids by cluster id (empty on a first run)."""
    cur = conn.cursor()
    cur.execute(
        "SELECT cluster_id, centroid FROM ai_viewpoints WHERE dataset_id = %s AND centroid IS NOT NULL", (dataset_id,)
    )
    rows = cur.fetchall()
    conn.commit()  # end the read snapshot
    return {int(cluster_id): np.asarray(json.loads(centroid), dtype=np.float64) for cluster_id, centroid in rows}


def _label_clusters(spark, dataset_id, clustered, choice, config, result, labeller) -> DataFrame:
    """One ai_viewpoints row per cluster, labelled largest cluster first; names are made distinct."""
    sizes, centroids = choice.counts, choice.centroids  # (sentences, noise) per cluster: counted while clustering
    words = keywords.cluster_words(
        clustered,
        per_cluster=config.llm_representatives,
        sizes={c: int(v[0]) for c, v in sizes.items()},
        per_cluster_cap=config.label_sample_size,
        seed=config.seed,
    )
    terms = {c: [term for term, _ in ranked] for c, ranked in words.terms.items()}
    reps = words.representatives
    if labeller is None:
        labeller = make_labeller(config, LabelCache(lambda: _ds_connect(config)))
    order = sorted(sizes, key=lambda c: (-sizes[c][0], c))
    summaries = [ClusterSummary(c, int(sizes[c][0]), terms.get(c, []), reps.get(c, [])) for c in order]
    labels = [labeller.label(summary) for summary in summaries]
    if isinstance(labeller, FallbackLabeller) and labeller.failure is not None:
        result.label_fallback = f"[{int(labeller.failure.code)}] {labeller.failure.detail}"
    rows = []
    for summary, label, name in zip(summaries, labels, distinct_names([x.name for x in labels]), strict=True):
        noise = int(sizes[summary.cluster_id][1])
        result.clusters.append(ClusterResult(summary.cluster_id, name, summary.size, noise, label.source))
        centroid = centroids.get(summary.cluster_id)
        rows.append(
            (
                dataset_id,
                summary.cluster_id,
                name,
                label.description,
                json.dumps(summary.keywords),
                summary.size,
                label.source,
                None if centroid is None else json.dumps([round(float(v), 6) for v in centroid]),
            )
        )
    schema = (
        "dataset_id long, cluster_id int, name string, description string, keywords string, "
        "sentence_count int, label_source string, centroid string"
    )
    # from pandas: Spark takes it through Arrow in the driver; a list of tuples would start Python workers
    columns = [column.split()[0] for column in schema.split(",")]
    return spark.createDataFrame(pd.DataFrame(rows, columns=columns, dtype=object), schema)


def _result_frames(dataset_id, products, reviews, sentences, review_rows, sentence_rows, sims, viewpoints):
    ds = F.lit(dataset_id).cast("long").alias("dataset_id")
    per_product_reviews = review_rows.groupBy("product_id").agg(
        F.count("*").alias("review_count"),
        F.round(F.avg("rating"), 2).cast("decimal(3,2)").alias("average_rating"),
        F.avg("sentiment_score").alias("sentiment_score"),
    )
    per_product_sentences = sentences.groupBy("product_id").agg(F.count("*").alias("sentence_count"))
    processed_name = F.trim(F.regexp_replace(F.lower("name"), r"[^\p{L}\p{N}]+", " ")).alias("processed_name")
    products_out = (
        products.join(per_product_reviews, "product_id", "left")
        .join(per_product_sentences, "product_id", "left")
        .select(
            ds,
            F.col("product_id").alias("crawler_product_id"),
            "mall_id",
            "mall_product_id",
            "name",
            processed_name,
            F.coalesce("review_count", F.lit(0)).alias("review_count"),
            F.coalesce("sentence_count", F.lit(0)).alias("sentence_count"),
            "average_rating",
            "sentiment_score",
        )
    )
    details = products.select(
        ds,
        "product_id",
        "specifications",
        F.to_json(F.struct("brand", "category_code", "price", "rating", "description", "url")).alias("metadata"),
    )
    return {
        "products": products_out,
        "product_details": details,
        "product_similarities": sims.select(
            ds, "product_id", "similar_product_id", F.col("score").alias("similarity_score"), "rank_no", "method"
        ),
        "ai_viewpoints": viewpoints,
        "reviews": review_rows.select(ds, "review_id", "product_id", "rating", "sentiment_overall", "sentiment_score"),
        "review_sentences": sentence_rows.select(
            ds,
            "sentence_id",
            "review_id",
            "product_id",
            "cluster_id",
            F.col("is_noise").cast("int").alias("is_noise"),
            "sentiment",
            "sentiment_score",
            "map_x",
            "map_y",
        ),
    }
