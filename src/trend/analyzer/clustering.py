"""Viewpoints: over-cluster the sentence embeddings with K-means, merge close centroids, flag noise.

Features are unit vectors, so squared Euclidean distance is 2 - 2·cosine and K-means groups
by cosine similarity. The steps, none of which brings all vectors to the driver:

1. k0 = round(sqrt(n / 2)), within [k_min, k_max] and at most n / min_cluster_size;
2. initial centroids: scikit-learn K-means on a bounded, deterministic sample (at most
   ``k_sample_size`` rows chosen by a hash of sentence_id and the seed, sorted by sentence_id);
3. Lloyd iterations over all sentences in Spark (per-partition numpy sums over Arrow batches:
   k × dim numbers per partition leave a task, never the vectors), until a pass lowers the
   within-cluster sum of squares by less than ``kmeans_tol`` of it. All passes run in one barrier
   job when the partitions fit the task slots (each task keeps its partition in memory and the
   tasks swap their sums through ``gather``), else one job per pass reduced on the driver;
4. centroids closer than ``merge_threshold`` (cosine, average linkage) merge; clusters with fewer
   than ``min_cluster_size`` sentences are dissolved; every sentence joins its nearest remaining centroid;
5. cluster ids: clusters matching a previous run's centroid (cosine ≥ ``match_threshold``, one-to-one
   by the Hungarian method) keep its id, the others get fresh ids above every previous one;
6. one more pass assigns every sentence and projects it on the sentence map (``projection``);
   noise = distance to its centroid above median + ``noise_z``·1.4826·MAD of that cluster, read
   from a per-cluster histogram of the distances (``distance_histograms``: one pass, which also
   fills the cache of the assigned frame and counts each cluster's sentences and noise exactly).

Same input → same clusters: the sample, its order, the seeds and the id order are fixed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pyarrow as pa
from py4j.protocol import Py4JJavaError
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from trend.analyzer import gather, projection
from trend.analyzer import vectors as vector_columns
from trend.analyzer.settings import AnalyzerConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KChoice:
    """What the clustering decided: k0 before merging, k after, and the published centroids by id."""

    k: int
    k0: int = 0
    centroids: dict[int, np.ndarray] = field(default_factory=dict)  # cluster_id -> unit centroid
    matched: dict[int, int] = field(default_factory=dict)  # cluster_id -> cosine to the previous centroid (x1000)
    iterations: int = 0
    counts: dict[int, tuple[int, int]] = field(default_factory=dict)  # cluster_id -> (sentences, noise), non-empty
    # with ``sum_by``: per group (product), each partition's float64 sum of its vectors, if the fit made them
    group_sums: dict[int, list[bytes]] | None = None


class Fit(NamedTuple):
    centers: np.ndarray
    sizes: np.ndarray
    iterations: int
    group_sums: dict[int, list[bytes]] | None = None  # only from the one-job fit, when asked for


def initial_k(n: int, config: AnalyzerConfig) -> int:
    """round(sqrt(n/2)) within [k_min, k_max], at most n / min_cluster_size; 1 when n is tiny."""
    upper = min(config.k_max, n // max(1, config.min_cluster_size))
    if upper < 2:
        return 1
    return max(min(config.k_min, upper), min(upper, round(math.sqrt(n / 2))))


def _unit(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def _as_matrix(frame: DataFrame, *extra: str) -> DataFrame:
    """(sentence_id, vec, *extra): the job's cached float32 blobs as they are (arrays, ML vectors converted)."""
    return frame.select("sentence_id", vector_columns.arrow_column(frame, "features").alias("vec"), *extra)


def sample_vectors(features: DataFrame, config: AnalyzerConfig, n: int | None = None) -> np.ndarray:
    """At most ``k_sample_size`` vectors, chosen by hash(sentence_id, seed) and ordered by sentence_id.

    The rows with the smallest hashes; they come to the driver as one Arrow table (no Spark sort).
    With ``n`` (the row count) well above the sample, only rows under a hash bound are sent:
    xxhash64 is uniform over the longs, so the smallest ``k_sample_size`` hashes lie below a bound
    that expects 1.25x the sample with near certainty (over 20 standard deviations at 10k).
    """
    picked = _as_matrix(features).withColumn("pick", F.xxhash64("sentence_id", F.lit(config.seed)))
    size = config.k_sample_size
    if n is not None and n > 2 * size:
        bound = int(-(2**63) + min(1.0, 1.25 * size / n) * 2**64)
        table = picked.where(F.col("pick") < F.lit(bound)).toArrow()
        if table.num_rows < size:  # never seen; all rows give the same sample
            table = picked.toArrow()
    else:
        table = picked.toArrow()
    ids = table.column("sentence_id").to_numpy()
    chosen = np.lexsort((ids, table.column("pick").to_numpy()))[:size]
    chosen = chosen[np.argsort(ids[chosen], kind="stable")]
    matrix = vector_columns.arrow_matrix(table.column("vec").combine_chunks())
    if len(matrix) == 0:
        return np.zeros((0, 0))
    return matrix[chosen]


def _initial_centroids(sample: np.ndarray, k: int, config: AnalyzerConfig) -> np.ndarray:
    from sklearn.cluster import KMeans as LocalKMeans

    model = LocalKMeans(
        k, n_init=max(1, config.kmeans_restarts), max_iter=config.kmeans_max_iter, random_state=config.seed
    ).fit(sample)
    return np.asarray(model.cluster_centers_, dtype=np.float64)


def _nearest(matrix: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Index of the nearest centre (Euclidean): argmax of x·c - |c|²/2."""
    return np.argmax(matrix @ centers.T - 0.5 * np.einsum("ij,ij->i", centers, centers), axis=1)


def _pass_sums(matrices: Iterable[np.ndarray], centers: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One partition's part of a Lloyd pass, batch by batch: (sum of vectors k × dim, count k,
    sum of squared distances k) per nearest centre."""
    k, dim = centers.shape
    half_norms = 0.5 * np.einsum("ij,ij->i", centers, centers)
    sums, counts, squares = np.zeros((k, dim)), np.zeros(k), np.zeros(k)
    for matrix in matrices:
        scores = matrix @ centers.T - half_norms
        nearest = np.argmax(scores, axis=1)
        onehot = np.zeros((k, len(nearest)))
        onehot[nearest, np.arange(len(nearest))] = 1.0
        sums += onehot @ matrix
        counts += np.bincount(nearest, minlength=k)
        # |x - c|² = |x|² - 2 (x·c - |c|²/2)
        distances = np.einsum("ij,ij->i", matrix, matrix) - 2 * scores[np.arange(len(nearest)), nearest]
        squares += np.bincount(nearest, weights=distances, minlength=k)
    return sums, counts, squares


def _add_up(
    parts: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]], k: int, dim: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """The partitions' (sums, counts, squares), in partition order, added into (totals, counts, inertia)."""
    totals, counts, inertia = np.zeros((k, dim)), np.zeros(k), 0.0
    for sums, part_counts, squares in parts:
        for cluster in np.flatnonzero(part_counts).tolist():
            totals[cluster] += sums[cluster]
            counts[cluster] += part_counts[cluster]
            inertia += squares[cluster]
    return totals, counts, inertia


def _encode_part(sums: np.ndarray, counts: np.ndarray, squares: np.ndarray) -> bytes:
    return np.concatenate([counts, squares, sums.ravel()]).tobytes()


def _decode_part(payload: bytes, k: int, dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    values = np.frombuffer(payload, dtype=np.float64)
    return values[2 * k :].reshape(k, dim), values[:k], values[k : 2 * k]


def lloyd_step(vectors: DataFrame, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """One K-means pass over all sentences as its own Spark job: (sum of vectors, count) per centre
    and the pass's within-cluster sum of squared distances, reduced on the driver."""
    k, dim = centers.shape

    def partial(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        matrices = (vector_columns.arrow_matrix(b.column("vec")) for b in batches if b.num_rows)
        yield pa.RecordBatch.from_arrays([pa.array([_encode_part(*_pass_sums(matrices, centers))])], names=["part"])

    rows = vectors.select("vec").mapInArrow(partial, "part binary").collect()  # one row per partition, in order
    return _add_up((_decode_part(row["part"], k, dim) for row in rows), k, dim)


def _iterate(
    step: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, float]], start: np.ndarray, max_iter: int, tol: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """Lloyd iterations from ``start`` with ``step(centers)`` → (totals, counts, inertia); (centres, sizes, passes).

    Stops when a pass lowers the within-cluster sum of squares by less than ``tol`` of it (the
    centres only creep by then: over-clustered centroids that the merge joins anyway), or after
    ``max_iter`` passes. An empty cluster keeps its centre.
    """
    centers = start.copy()
    counts = np.zeros(len(centers))
    previous = math.inf
    iterations = 0
    for iterations in range(1, max(1, max_iter) + 1):
        totals, counts, inertia = step(centers)
        centers = np.where(counts[:, None] > 0, totals / np.maximum(counts, 1)[:, None], centers)
        if previous - inertia <= tol * inertia:
            break
        previous = inertia
    return centers, counts, iterations


_FIT = "kind string, key long, value binary"  # ("fit", passes, centres + sizes) once; ("sums", group, sums) per group


def _fit_in_tasks(vectors: DataFrame, start: np.ndarray, config: AnalyzerConfig, parts: int, sum_by: str | None) -> Fit:
    """All Lloyd passes in one barrier stage: each task keeps its partition's vectors (float32, as
    cached) and the tasks swap their per-pass sums through a ``gather.Rendezvous`` on the driver;
    every task adds them up in partition order, so all hold the same centres after each pass.
    With ``sum_by``, each task also sums its vectors per value of that column (the products'
    review sums for the similarity stage, without a pass of their own)."""
    k, dim = start.shape
    max_iter, tol = config.kmeans_max_iter, config.kmeans_tol
    context = vectors.sparkSession.sparkContext
    host = context.getConf().get("spark.driver.host", "127.0.0.1")
    bind = context.getConf().get("spark.driver.bindAddress", host)
    with gather.Rendezvous(parts, host, bind) as rendezvous:
        address, secret = rendezvous.address, rendezvous.secret

        def fit(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            from pyspark import BarrierTaskContext

            task = BarrierTaskContext.get()
            kept = [batch for batch in batches if batch.num_rows]
            with gather.Member(address, secret, task.partitionId()) as member:

                def step(centers: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
                    mine = _pass_sums((vector_columns.arrow_matrix(b.column("vec")) for b in kept), centers)
                    everyone = member.gather(_encode_part(*mine))
                    return _add_up((_decode_part(p, k, dim) for p in everyone), k, dim)

                centers, counts, iterations = _iterate(step, start, max_iter, tol)
            rows: list[tuple[str, int, bytes]] = []
            if task.partitionId() == 0:
                rows.append(("fit", iterations, centers.tobytes() + counts.tobytes()))
            if sum_by is not None:
                totals: dict[int, np.ndarray] = {}
                for b in kept:
                    ids = b.column(sum_by).to_numpy(zero_copy_only=False)
                    vector_columns.add_group_sums(totals, ids, vector_columns.arrow_matrix(b.column("vec")))
                rows.extend(("sums", key, totals[key].tobytes()) for key in sorted(totals))
            kinds, keys, values = zip(*rows, strict=True) if rows else ((), (), ())
            yield pa.RecordBatch.from_arrays(
                [pa.array(kinds, pa.string()), pa.array(keys, pa.int64()), pa.array(values, pa.binary())],
                names=["kind", "key", "value"],
            )

        columns = ["vec"] + ([F.col(sum_by).cast("long").alias(sum_by)] if sum_by else [])
        collected = vectors.select(*columns).mapInArrow(fit, _FIT, barrier=True).collect()
    (fitted,) = [r for r in collected if r["kind"] == "fit"]
    values = np.frombuffer(fitted["value"], dtype=np.float64)
    group_sums: dict[int, list[bytes]] | None = None
    if sum_by is not None:
        group_sums = {}
        for r in collected:
            if r["kind"] == "sums":
                group_sums.setdefault(int(r["key"]), []).append(bytes(r["value"]))
    return Fit(values[: k * dim].reshape(k, dim).copy(), values[k * dim :].copy(), int(fitted["key"]), group_sums)


def fit_centroids(vectors: DataFrame, start: np.ndarray, config: AnalyzerConfig, sum_by: str | None = None) -> Fit:
    """Lloyd iterations from ``start`` over ``vectors`` (sentence_id, vec, ...); (centres, sizes, passes,
    group sums: see ``_fit_in_tasks``, None on the job-per-pass path).

    When the frame's partitions fit the session's task slots (and ``kmeans_one_job``), one Spark job runs every pass
    (``_fit_in_tasks``: the vectors leave the cache once); otherwise, or when Spark refuses a
    barrier stage over the frame (a ``coalesce`` in its lineage, say), each pass is a job
    (``lloyd_step``). Both add the same partition sums in the same order: the same centres.
    """
    parts = vectors.rdd.getNumPartitions()
    if config.kmeans_one_job and parts <= vectors.sparkSession.sparkContext.defaultParallelism:
        try:
            return _fit_in_tasks(vectors, start, config, parts, sum_by)
        except Py4JJavaError as exc:  # refused when the job is submitted, before any task runs
            refusal = exc.java_exception.getClass().getName()
            if not refusal.startswith("org.apache.spark.scheduler.BarrierJob"):
                raise
            log.info("K-means: no barrier stage over this frame (%s); one Spark job per pass", refusal)
    return Fit(
        *_iterate(lambda centers: lloyd_step(vectors, centers), start, config.kmeans_max_iter, config.kmeans_tol)
    )


def merge_centroids(centers: np.ndarray, sizes: np.ndarray, config: AnalyzerConfig) -> np.ndarray:
    """Average-linkage merge of centres closer than ``merge_threshold`` (cosine); small clusters dissolve.

    Returns the remaining centres (size-weighted means of their members), largest first.
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    keep = sizes >= max(1, config.min_cluster_size)
    if keep.sum() == 0:
        keep = sizes == sizes.max()
    centers, sizes = centers[keep], sizes[keep]
    if len(centers) > 1 and config.merge_threshold < 1:
        tree = linkage(_unit(centers), method="average", metric="cosine")
        groups = fcluster(tree, t=1 - config.merge_threshold, criterion="distance") - 1
    else:
        groups = np.arange(len(centers))
    merged = np.zeros((groups.max() + 1, centers.shape[1]))
    weight = np.zeros(groups.max() + 1)
    np.add.at(merged, groups, centers * sizes[:, None])
    np.add.at(weight, groups, sizes)
    merged = merged / np.maximum(weight, 1e-12)[:, None]
    order = sorted(range(len(merged)), key=lambda i: (-weight[i], tuple(np.round(merged[i], 6))))
    return merged[order]


def match_ids(
    centers: np.ndarray, previous: dict[int, np.ndarray], threshold: float
) -> tuple[list[int], dict[int, int]]:
    """Cluster id per centre: a previous centroid's id when cosine ≥ threshold (Hungarian), else fresh ids.

    Fresh ids count up from max(previous ids) + 1, in the centres' order (largest first).
    """
    ids: list[int | None] = [None] * len(centers)
    similarity_by_id: dict[int, int] = {}
    if previous and len(centers):
        from scipy.optimize import linear_sum_assignment

        old_ids = sorted(previous)
        old = _unit(np.asarray([previous[i] for i in old_ids], dtype=np.float64))
        cosine = _unit(centers) @ old.T
        rows, cols = linear_sum_assignment(-cosine)
        for r, c in zip(rows, cols, strict=True):
            if cosine[r, c] >= threshold:
                ids[r] = old_ids[c]
                similarity_by_id[old_ids[c]] = round(float(cosine[r, c]) * 1000)
    fresh = (max(previous) + 1) if previous else 0
    out = []
    for value in ids:
        if value is None:
            value, fresh = fresh, fresh + 1
        out.append(value)
    return out, similarity_by_id


# distances to a centroid lie in [0, 2] (unit vectors, centroids inside the unit ball): noise
# thresholds come from a per-cluster histogram of NOISE_BINS equal bins over that range
NOISE_BINS = 8192
_BIN_WIDTH = 2.0 / NOISE_BINS


def distance_bin(distance: np.ndarray) -> np.ndarray:
    """The histogram bin of each distance: floor(distance / (2 / NOISE_BINS)), within [0, NOISE_BINS)."""
    return np.clip((distance / _BIN_WIDTH).astype(np.int64), 0, NOISE_BINS - 1).astype(np.int32)


def assign(features: DataFrame, centers: np.ndarray, ids: list[int], components: np.ndarray) -> DataFrame:
    """Adds ``cluster_id`` (nearest centre's id), ``distance`` (Euclidean, to that centre), its
    histogram bin ``distance_bin`` and the sentence map's ``map_x`` / ``map_y`` (``projection.project``
    on ``components``), in one Arrow pass."""
    id_array = np.asarray(ids, dtype=np.int64)
    fields = [
        ("cluster_id", pa.int32()),
        ("distance", pa.float64()),
        ("distance_bin", pa.int32()),
        ("map_x", pa.float32()),
        ("map_y", pa.float32()),
    ]

    def nearest(vectors: pa.Array) -> pa.Array:
        matrix = vector_columns.arrow_matrix(vectors)
        if len(matrix) == 0:
            return pa.StructArray.from_arrays([pa.array([], t) for _, t in fields], names=[f for f, _ in fields])
        index = _nearest(matrix, centers)
        distance = np.linalg.norm(matrix - centers[index], axis=1)
        xy = projection.project(matrix, components)
        columns = [id_array[index].astype(np.int32), distance, distance_bin(distance), xy[:, 0], xy[:, 1]]
        return pa.StructArray.from_arrays(
            [pa.array(c, t) for c, (_, t) in zip(columns, fields, strict=True)], names=[f for f, _ in fields]
        )

    nearest_udf = F.arrow_udf(  # type: ignore[call-overload]
        nearest, "struct<cluster_id:int,distance:double,distance_bin:int,map_x:float,map_y:float>"
    )
    return (
        features.withColumn("_nearest", nearest_udf(vector_columns.arrow_column(features, "features")))
        .select("*", *[F.col(f"_nearest.{f}").alias(f) for f, _ in fields])
        .drop("_nearest")
    )


_HISTOGRAM_ARROW = pa.schema([("key", pa.int64()), ("count", pa.int64())])


def distance_histograms(assigned: DataFrame, ids: list[int]) -> dict[int, np.ndarray]:
    """Per cluster id, the counts of its sentences in each distance bin (NOISE_BINS of them).

    One Spark job over ``assigned``'s (cluster_id, distance_bin) columns: each partition sends
    its non-empty (cluster, bin) counts, at most one per row, and the driver adds them up. As the
    first action on a cached ``assigned`` it also fills the cache.
    """
    position = {cluster_id: i for i, cluster_id in enumerate(ids)}
    lookup = np.full(max(ids, default=0) + 1, -1, dtype=np.int64)
    for cluster_id, i in position.items():
        lookup[cluster_id] = i

    def partial(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        keys, counts = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        for batch in batches:
            if batch.num_rows:
                row_keys = lookup[batch.column("cluster_id").to_numpy()] * NOISE_BINS
                unique, count = np.unique(row_keys + batch.column("distance_bin").to_numpy(), return_counts=True)
                keys.append(unique)
                counts.append(count)
        unique, inverse = np.unique(np.concatenate(keys), return_inverse=True)
        total = np.bincount(inverse, weights=np.concatenate(counts), minlength=len(unique)).astype(np.int64)
        yield pa.RecordBatch.from_arrays([pa.array(unique), pa.array(total)], schema=_HISTOGRAM_ARROW)

    table = assigned.select("cluster_id", "distance_bin").mapInArrow(partial, "key long, count long").toArrow()
    dense = np.bincount(
        table.column("key").to_numpy(), weights=table.column("count").to_numpy(), minlength=len(ids) * NOISE_BINS
    ).astype(np.int64)
    return {cluster_id: dense[i * NOISE_BINS : (i + 1) * NOISE_BINS] for cluster_id, i in position.items()}


def _weighted_median(values: np.ndarray, counts: np.ndarray) -> float:
    """The lower median of ``values`` repeated ``counts`` times (values ascending)."""
    cumulative = np.cumsum(counts)
    return float(values[np.searchsorted(cumulative, (cumulative[-1] + 1) // 2)])


def noise_bins(histograms: dict[int, np.ndarray], noise_z: float) -> dict[int, int]:
    """Per cluster: the first distance bin that is noise, from median + z·1.4826·MAD (robust z-score).

    Median and MAD are those of the bin centres (each distance within half a bin, 2 / NOISE_BINS / 2
    ≈ 1.2e-4, of its centre); the threshold rounds to the nearest bin edge, so the sentences above it
    are whole bins and each cluster's noise count is exact from the histogram.
    """
    centres = (np.arange(NOISE_BINS) + 0.5) * _BIN_WIDTH
    first: dict[int, int] = {}
    for cluster_id, counts in histograms.items():
        if counts.sum() == 0:
            first[cluster_id] = NOISE_BINS
            continue
        median = _weighted_median(centres, counts)
        deviation = np.abs(centres - median)
        order = np.argsort(deviation, kind="stable")
        mad = _weighted_median(deviation[order], counts[order])
        threshold = median + noise_z * 1.4826 * max(mad, 1e-6)
        first[cluster_id] = int(min(NOISE_BINS, round(threshold / _BIN_WIDTH)))
    return first


def cluster_counts(histograms: dict[int, np.ndarray], first_noise: dict[int, int]) -> dict[int, tuple[int, int]]:
    """Per cluster: (sentences that are not noise, noise sentences), exact from the histogram."""
    return {c: (int(h[: first_noise[c]].sum()), int(h[first_noise[c] :].sum())) for c, h in histograms.items()}


def flag_noise(assigned: DataFrame, first_noise: dict[int, int]) -> DataFrame:
    """is_noise when the distance's bin is at or above its cluster's first noise bin (a literal map:
    no pass of its own); drops ``distance_bin``."""
    if not first_noise:
        return assigned.withColumn("is_noise", F.lit(False)).drop("distance_bin")
    lookup = F.create_map(*[F.lit(x) for pair in sorted(first_noise.items()) for x in pair])
    return assigned.withColumn("is_noise", F.col("distance_bin") >= lookup[F.col("cluster_id")]).drop("distance_bin")


def cluster_sentences(
    features: DataFrame,
    n: int,
    config: AnalyzerConfig,
    previous: dict[int, np.ndarray] | None = None,
    keep: Callable[[DataFrame], DataFrame] = DataFrame.cache,
    sum_by: str | None = None,
) -> tuple[DataFrame, KChoice]:
    """features (sentence_id, features, ...) → the other columns + cluster_id, distance, is_noise,
    map_x, map_y; the vectors are read once more (``assign``), into a frame cached by ``keep``.

    ``previous``: the dataset's last published centroids by cluster id (continuity of ids);
    ``sum_by``: a column to sum the vectors by in the K-means job (``KChoice.group_sums``).
    """
    k0 = initial_k(n, config)
    sample = sample_vectors(features, config, n)
    group_sums = None
    if k0 == 1 or len(sample) <= k0:
        centers, iterations = _unit(sample.mean(axis=0, keepdims=True)), 0
    else:
        vectors = _as_matrix(features, *([sum_by] if sum_by else []))
        fitted = fit_centroids(vectors, _initial_centroids(sample, k0, config), config, sum_by)
        centers = merge_centroids(fitted.centers, fitted.sizes, config)
        iterations, group_sums = fitted.iterations, fitted.group_sums
    ids, matched = match_ids(centers, previous or {}, config.match_threshold)
    log.info(
        "k0=%d -> k=%d after merging (%d Lloyd passes); ids %s, kept from the last run %s",
        k0,
        len(centers),
        iterations,
        ids,
        sorted(matched),
    )
    assigned = keep(assign(features, centers, ids, projection.fit_components(sample)).drop("features"))
    histograms = distance_histograms(assigned, ids)
    first_noise = noise_bins(histograms, config.noise_z)
    clustered = flag_noise(assigned, first_noise)
    choice = KChoice(
        len(centers),
        k0,
        {i: c for i, c in zip(ids, _unit(centers), strict=True)},
        matched,
        iterations,
        counts={c: n for c, n in cluster_counts(histograms, first_noise).items() if sum(n)},
        group_sums=group_sums,
    )
    return clustered, choice
