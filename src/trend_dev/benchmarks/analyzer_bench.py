"""analyzer_batch at 10k, 100k and 1M sentences on local[2], against the same analysis single-node.

Embeddings here are SYNTHETIC (an aspect centroid + a polarity offset + noise,
384-dim, unit length), not MiniLM: embedding 100k sentences on this CPU takes
~10 minutes. Texts, products and reviews come from the synthetic marketplace.
`make eval-analyzer` is the quality measure with real MiniLM embeddings.

BENCH_ANALYZER_SIZES picks the sizes (default 10000,100000,1000000); BENCH_ANALYZER_REUSE_DB=1
keeps each size's loaded databases (prefix bench_an<size>_) for the next run instead of reloading;
BENCH_ANALYZER_LOAD_ONLY=1 only loads; BENCH_ANALYZER_DUMP / BENCH_ANALYZER_REFERENCE save / compare
the sentence → cluster assignment; BENCH_ANALYZER_PRODUCTS sizes the similarity bench (10000).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter

import numpy as np

from trend_dev.benchmarks import analyzer_common as common

# sentences -> (products per category, reviews per product); 3 categories, ~2.3 sentences per review
SIZES = {10_000: (40, 36), 100_000: (150, 96), 1_000_000: (500, 288)}


def synthetic_encoder(market, seed: int = 5, dim: int = 384):
    """An encode(texts) whose vectors cluster by the sentence's true aspect and polarity."""
    rng = np.random.default_rng(seed)
    truth = {s.text: s for s in market.truth().values()}
    aspects = sorted({s.aspect or f"filler:{s.text}" for s in truth.values()})
    centers = {a: common.unit_rows(rng.normal(size=(1, dim)))[0] for a in aspects}
    polarity = {
        (a, p): common.unit_rows(rng.normal(size=(1, dim)))[0] * 0.35 for a in aspects for p in ("positive", "negative")
    }

    def encode(texts):
        out = np.empty((len(texts), dim), dtype=np.float32)
        for i, text in enumerate(texts):
            s = truth[text]
            aspect = s.aspect or f"filler:{s.text}"
            v = centers[aspect] + (polarity[(aspect, s.polarity)] if s.polarity else 0)
            out[i] = v + rng.normal(0, 0.045, dim)
        return common.unit_rows(out)

    return encode


def load(size: int):
    from trend.crawl.local_source import MarketplaceDump, crawl_all_reviews
    from trend.db import connect, fetch_all
    from trend_dev import synthetic

    ppc, rpp = SIZES[size]
    market = synthetic.generate(seed=size, products_per_category=ppc, reviews_per_product=rpp)
    if os.environ.get("BENCH_ANALYZER_REUSE_DB") == "1":
        conn = connect("analyzer_v2")
        try:
            ids = sorted(int(r["id"]) for r in fetch_all(conn, "SELECT id FROM products"))
        finally:
            conn.close()
        if ids:
            print(f"[{size}] reusing the loaded databases: {len(ids)} products", flush=True)
            return market, ids
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        stats = crawl_all_reviews(
            MarketplaceDump.load(market.write_dump(folder)),
            lambda: connect("analyzer_v2"),
            encode=synthetic_encoder(market),
        )
    print(
        f"[{size}] loaded {len(market.products)} products, {stats.sentences_added} sentences "
        f"(synthetic embeddings) in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return market, sorted(set(stats.product_ids))


def single_node(product_ids: list[int], config, passes: int) -> dict[str, float]:
    """The same analysis with numpy / scikit-learn in one process (same k0, sample, Lloyd passes and merge);
    seconds per stage."""
    from scipy import sparse
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

    from trend.analyzer import clustering, projection
    from trend.analyzer.sentiment_head import vader_compound
    from trend.db import connect, fetch_all

    times: dict[str, float] = {}
    t = time.perf_counter()
    conn = connect("analyzer_v2")
    marks = ", ".join(["%s"] * len(product_ids))
    rows = fetch_all(
        conn,
        "SELECT s.id, s.review_id, r.product_id, s.sentence AS text, s.embedding FROM review_sentences s "
        f"JOIN reviews r ON r.id = s.review_id WHERE r.product_id IN ({marks})",
        product_ids,
    )
    products = fetch_all(conn, f"SELECT id, name, description FROM products WHERE id IN ({marks})", product_ids)
    conn.close()
    x = np.frombuffer(b"".join(r["embedding"] for r in rows), dtype="<f4").reshape(len(rows), -1)
    x = common.unit_rows(x.astype(np.float64))
    texts = [r["text"] for r in rows]
    pids = np.asarray([r["product_id"] for r in rows])
    del rows
    times["extract"] = time.perf_counter() - t

    t = time.perf_counter()
    index = {p["id"]: i for i, p in enumerate(products)}
    slot = np.asarray([index[p] for p in pids])
    sums = sparse.csr_matrix((np.ones(len(slot)), (slot, np.arange(len(slot)))), shape=(len(products), len(slot))) @ x
    review_part = common.unit_rows(sums)  # the mean's direction
    tf = HashingVectorizer(n_features=256, alternate_sign=False, norm=None).transform(
        [f"{p['name']} {p['description'] or ''}" for p in products]
    )
    text_part = common.unit_rows(TfidfTransformer().fit_transform(tf).toarray())
    w = config.similarity_text_weight
    vectors = common.unit_rows(np.hstack([review_part * np.sqrt(1 - w), text_part * np.sqrt(w)]))
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    np.argsort(-sims, axis=1)[:, : config.similarity_top_k]
    times["similarity"] = time.perf_counter() - t

    t = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    sample = x[rng.permutation(len(x))[: config.k_sample_size]]
    k0 = clustering.initial_k(len(x), config)
    start = KMeans(k0, n_init=config.kmeans_restarts, max_iter=config.kmeans_max_iter, random_state=config.seed)
    model = KMeans(k0, init=start.fit(sample).cluster_centers_, n_init=1, max_iter=max(1, passes), tol=0).fit(x)
    centers = clustering.merge_centroids(model.cluster_centers_, np.bincount(model.labels_, minlength=k0), config)
    labels = np.argmax(x @ centers.T - 0.5 * np.sum(centers**2, axis=1), axis=1)
    best_k = len(centers)
    distance = np.linalg.norm(x - centers[labels], axis=1)
    for c in range(best_k):
        d = distance[labels == c]
        median = np.median(d) if len(d) else 0.0
        mad = np.median(np.abs(d - median)) if len(d) else 0.0
        _ = d > median + config.noise_z * 1.4826 * max(mad, 1e-6)
    projection.project(x, projection.fit_components(sample))  # the job's map: the sample's principal axes
    times["clustering"] = time.perf_counter() - t

    t = time.perf_counter()
    counts = {c: Counter() for c in range(best_k)}
    for text, c in zip(texts, labels):
        counts[c].update(w for w in text.lower().split() if len(w) > 2)
    times["labelling"] = time.perf_counter() - t

    t = time.perf_counter()
    vader_compound(texts)
    times["sentiment"] = time.perf_counter() - t
    return {k: round(v, 2) for k, v in times.items()}


def _quality(size: int, market, dataset_id: int) -> dict[str, float]:
    truth = market.truth()
    analysed = common.analysed_sentences(dataset_id)
    common.compare_assignment(size, analysed)
    return common.scores(analysed, lambda r: truth[(r["mall_review_id"], int(r["sentence_index"]))])


def spark_job_times(spark, run_id: str) -> dict[str, list[str]]:
    """Per analyzer stage, its Spark jobs as "<call site> <ms>", from Spark's status store
    (the jobs run under the job group the analyzer sets per stage; works with the UI off)."""
    prefix = f"analyzer-{run_id}-"
    out: dict[str, list[tuple[int, str]]] = {}
    jobs = spark.sparkContext._jsc.sc().statusStore().jobsList(None).iterator()
    while jobs.hasNext():
        job = jobs.next()
        group = job.jobGroup().getOrElse(None)
        if not group or not group.startswith(prefix) or not job.completionTime().isDefined():
            continue
        ms = job.completionTime().get().getTime() - job.submissionTime().get().getTime()
        site = job.name().split(" at ")[-1].split("/")[-1]
        out.setdefault(group[len(prefix) :], []).append((int(job.jobId()), f"{site} {ms}"))
    return {stage: [line for _, line in sorted(jobs)] for stage, jobs in out.items()}


def bench_one(size: int) -> None:
    from trend.analyzer.job import run
    from trend.analyzer.settings import AnalyzerConfig

    reuse = os.environ.get("BENCH_ANALYZER_REUSE_DB") == "1"
    common.use_private_databases(f"bench_an{size}_", fresh=not reuse)
    market, product_ids = load(size)
    if os.environ.get("BENCH_ANALYZER_LOAD_ONLY") == "1":  # with BENCH_ANALYZER_REUSE_DB=1: prepare a later run
        return
    config = AnalyzerConfig()
    dataset_id = common.create_dataset(product_ids, f"bench {size}")
    spark = common.session(f"analyzer-bench-{size}")
    try:
        with common.PeakMemory() as spark_memory:
            started = time.perf_counter()
            result = run(spark, dataset_id, config)
            wall = time.perf_counter() - started
        job_times = spark_job_times(spark, result.run_id or "")
        if not result.ok:
            raise SystemExit(f"analysis failed: [{result.error_code}] {result.error_message}")
    finally:
        spark.stop()
    quality = _quality(size, market, dataset_id)
    del market  # the single-node run gets the memory
    with common.PeakMemory() as local_memory:
        local = single_node(product_ids, config, result.lloyd_passes)
    analysis = ("extract", "similarity", "clustering", "labelling", "sentiment")
    spark_analysis = sum(result.timings[s] for s in analysis)
    local_total = sum(local.values())
    print(
        f"[{size}] spark local[2] job wall {wall:.1f} s for {result.sentences} sentences "
        f"({wall / result.sentences * 1e6:.0f} µs per sentence), k0={result.k0} → k={result.k} after "
        f"{result.lloyd_passes} Lloyd passes; stages (s): {result.timings}; Spark jobs: {result.spark_jobs}",
        flush=True,
    )
    print(f"[{size}] spark memory: {spark_memory.line()}")
    print(f"[{size}] spark jobs (call site, ms): {job_times}")
    print(
        f"[{size}] single-node scikit-learn, same analysis (k0, passes, merge): {local_total:.1f} s; "
        f"stages (s): {local}; peak {local_memory.peaks['python_driver']:.2f} GiB"
    )
    print(
        f"[{size}] analysis stages spark/single-node: {spark_analysis:.1f} s / {local_total:.1f} s = "
        f"ratio {spark_analysis / max(local_total, 1e-9):.2f}x (spark slower when > 1)"
    )
    print(
        f"[{size}] quality on synthetic embeddings: purity {quality['purity']:.3f}, NMI {quality['nmi']:.3f}, "
        f"noise {quality['noise_share']:.3f}, sentiment accuracy {quality['sentiment_accuracy']:.3f}",
        flush=True,
    )
    if not reuse:
        common.drop_private_databases()


def synthetic_product_vectors(n: int, dim: int = 640, seed: int = 11) -> np.ndarray:
    """Unit vectors with a two-level structure: 20 categories x 20 families, products around their family.

    The shape of review + text product vectors (related products near each other, neighbours
    meaningfully closer than the rest of their category); not the marketplace generator, whose
    three categories of templated products are near-duplicates at 10k products.
    """
    rng = np.random.default_rng(seed)
    categories = common.unit_rows(rng.normal(size=(20, dim)))
    families = common.unit_rows(categories.repeat(20, axis=0) + 0.8 * common.unit_rows(rng.normal(size=(400, dim))))
    family = rng.integers(0, len(families), n)
    return common.unit_rows(families[family] + 0.7 * common.unit_rows(rng.normal(size=(n, dim)))).astype(np.float32)


def _old_lsh_candidates(matrix: np.ndarray, bucket_length: float = 0.05, tables: int = 8, seed: int = 42) -> int:
    """Candidate pairs of the previous BucketedRandomProjectionLSH settings (8 tables, bucket 0.05)."""
    rng = np.random.default_rng(seed)
    planes = common.unit_rows(rng.normal(size=(tables, matrix.shape[1])))
    hashes = np.floor(matrix @ planes.T / bucket_length).astype(np.int64)
    return _pairs_sharing_a_key(hashes)


def _pairs_sharing_a_key(keys: np.ndarray) -> int:
    """Distinct ordered pairs (a ≠ b) of rows equal in at least one column of ``keys`` (rows x tables)."""
    n = len(keys)
    seen = np.zeros((n, n), dtype=bool)
    for t in range(keys.shape[1]):
        order = np.argsort(keys[:, t], kind="stable")
        _, starts = np.unique(keys[order, t], return_index=True)
        for members in np.split(order, starts[1:]):
            if len(members) > 1:
                seen[np.ix_(members, members)] = True
    np.fill_diagonal(seen, False)
    return int(seen.sum())


def similarity_at_scale(n: int) -> None:
    """LSH vs exact top-k over ``n`` synthetic product vectors: candidate pairs / n², recall, time."""
    import pandas as pd

    from trend.analyzer import similarity
    from trend.analyzer.settings import AnalyzerConfig

    config = AnalyzerConfig()
    matrix = synthetic_product_vectors(n)
    spark = common.session("analyzer-bench-similarity")
    try:
        frame = pd.DataFrame({"product_id": np.arange(1, n + 1), "vector": list(matrix)})
        vectors = spark.createDataFrame(frame, "product_id long, vector array<float>").cache()
        vectors.count()
        t = time.perf_counter()
        exact = similarity.exact_top_k(vectors, config.similarity_top_k).cache()
        exact.count()
        exact_s = time.perf_counter() - t
        t = time.perf_counter()
        approx = similarity.lsh_top_k(vectors, config.similarity_top_k, config, n).cache()
        approx.count()
        lsh_s = time.perf_counter() - t
        recall = similarity.recall(approx, exact)
        keys = similarity.lsh_buckets(vectors, config, n).select("table", "bucket", "product_id").toPandas()
    finally:
        spark.stop()
    table = keys.pivot(index="product_id", columns="table", values="bucket").to_numpy()
    candidates = _pairs_sharing_a_key(table)
    old = _old_lsh_candidates(matrix)
    pairs = n * (n - 1)
    print(
        f"[{n} products] LSH ({config.lsh_hash_tables} tables x {similarity.lsh_bits(n, config)} bits): "
        f"candidate pairs {candidates / pairs:.4f} of n², recall@{config.similarity_top_k} {recall:.3f}, "
        f"{lsh_s:.1f} s (exact {exact_s:.1f} s); previous LSH (8 tables, bucket 0.05): candidate pairs "
        f"{old / pairs:.4f} of n²",
        flush=True,
    )


def main() -> None:
    print(" ".join(line.strip() for line in __doc__.strip().splitlines()[2:5]))
    sizes = [int(s) for s in os.environ.get("BENCH_ANALYZER_SIZES", "10000,100000,1000000").split(",")]
    for size in sizes:
        bench_one(size)
    products = int(os.environ.get("BENCH_ANALYZER_PRODUCTS", "10000"))
    if products and os.environ.get("BENCH_ANALYZER_LOAD_ONLY") != "1":
        similarity_at_scale(products)


if __name__ == "__main__":
    main()
