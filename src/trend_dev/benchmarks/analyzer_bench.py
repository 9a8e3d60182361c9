"""analyzer_batch at 10k and 100k sentences on local[2], against the same analysis single-node.

Embeddings here are SYNTHETIC (an aspect centroid + a polarity offset + noise,
384-dim, unit length), not MiniLM: embedding 100k sentences on this CPU takes
~10 minutes. Texts, products and reviews come from the synthetic marketplace.
`make eval-analyzer` is the quality measure with real MiniLM embeddings.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter

import numpy as np

from trend_dev.benchmarks import analyzer_common as common

SIZES = {10_000: (40, 36), 100_000: (150, 96)}  # sentences -> (products per category, reviews per product)


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
    from trend.db import connect
    from trend_dev import synthetic

    ppc, rpp = SIZES[size]
    market = synthetic.generate(seed=size, products_per_category=ppc, reviews_per_product=rpp)
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


def single_node(product_ids: list[int], config) -> dict[str, float]:
    """The same analysis with numpy / scikit-learn in one process; seconds per stage."""
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

    from trend.analyzer import clustering
    from trend.analyzer.sentiment_head import vader_compound
    from trend.db import connect, fetch_all

    times: dict[str, float] = {}
    t = time.perf_counter()
    conn = connect("analyzer_v2")
    marks = ", ".join(["%s"] * len(product_ids))
    rows = fetch_all(
        conn,
        f"SELECT id, review_id, product_id, text, embedding FROM review_sentences WHERE product_id IN ({marks})",
        product_ids,
    )
    products = fetch_all(conn, f"SELECT id, name, description FROM products WHERE id IN ({marks})", product_ids)
    conn.close()
    x = common.unit_rows(np.stack([np.frombuffer(r["embedding"], dtype="<f4") for r in rows]).astype(np.float64))
    texts = [r["text"] for r in rows]
    times["extract"] = time.perf_counter() - t

    t = time.perf_counter()
    pids = np.asarray([r["product_id"] for r in rows])
    order = [p["id"] for p in products]
    review_part = common.unit_rows(np.stack([x[pids == p].mean(axis=0) for p in order]))
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
    model = KMeans(k0, init=start.fit(sample).cluster_centers_, n_init=1, max_iter=config.kmeans_max_iter).fit(x)
    centers = clustering.merge_centroids(model.cluster_centers_, np.bincount(model.labels_, minlength=k0), config)
    labels = np.argmax(x @ centers.T - 0.5 * np.sum(centers**2, axis=1), axis=1)
    best_k = len(centers)
    distance = np.linalg.norm(x - centers[labels], axis=1)
    for c in range(best_k):
        d = distance[labels == c]
        median = np.median(d) if len(d) else 0.0
        mad = np.median(np.abs(d - median)) if len(d) else 0.0
        _ = d > median + config.noise_z * 1.4826 * max(mad, 1e-6)
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


def similarity_recall(spark, product_ids: list[int], config) -> dict[str, float]:
    """LSH top-k vs exact top-k on the same product vectors."""
    from trend.analyzer import extract, similarity
    from trend.db import connect

    conn = connect("analyzer_v2")
    try:
        summary = extract.validate_input(conn, 0, product_ids, config)
    finally:
        conn.close()
    sentences = extract.decode_embeddings(extract.read_sentences(spark, config, summary), config.embedding_dim)
    products = extract.read_products(spark, config, product_ids)
    vectors = similarity.product_vectors(sentences, products, config.similarity_text_weight).cache()
    vectors.count()
    t = time.perf_counter()
    exact = similarity.exact_top_k(vectors, config.similarity_top_k).cache()
    exact.count()
    exact_s = time.perf_counter() - t
    t = time.perf_counter()
    approx = similarity.lsh_top_k(vectors, config.similarity_top_k, config).cache()
    approx.count()
    lsh_s = time.perf_counter() - t
    return {
        "products": len(product_ids),
        "recall": similarity.recall(approx, exact),
        "exact_s": round(exact_s, 2),
        "lsh_s": round(lsh_s, 2),
    }


def bench_one(size: int) -> None:
    from trend.analyzer.job import run
    from trend.analyzer.settings import AnalyzerConfig

    common.use_private_databases("bench_analyzer_")
    market, product_ids = load(size)
    config = AnalyzerConfig()
    dataset_id = common.create_dataset(product_ids, f"bench {size}")
    spark = common.session(f"analyzer-bench-{size}")
    try:
        started = time.perf_counter()
        result = run(spark, dataset_id, config)
        wall = time.perf_counter() - started
        if not result.ok:
            raise SystemExit(f"analysis failed: [{result.error_code}] {result.error_message}")
        recall = similarity_recall(spark, product_ids, config)
    finally:
        spark.stop()
    truth = market.truth()
    quality = common.scores(
        common.analysed_sentences(dataset_id), lambda r: truth[(r["mall_review_id"], int(r["sentence_index"]))]
    )
    local = single_node(product_ids, config)
    analysis = ("extract", "similarity", "clustering", "labelling", "sentiment")
    spark_analysis = sum(result.timings[s] for s in analysis)
    local_total = sum(local.values())
    print(
        f"[{size}] spark local[2] job wall {wall:.1f} s for {result.sentences} sentences, k={result.k}; "
        f"stages (s): {result.timings}",
        flush=True,
    )
    print(f"[{size}] single-node scikit-learn, same analysis: {local_total:.1f} s; stages (s): {local}")
    print(
        f"[{size}] analysis stages spark/single-node: {spark_analysis:.1f} s / {local_total:.1f} s = "
        f"ratio {spark_analysis / max(local_total, 1e-9):.1f}x (spark slower when > 1)"
    )
    print(
        f"[{size}] similarity recall of LSH vs exact top-{config.similarity_top_k} over "
        f"{recall['products']} products: {recall['recall']:.3f} (exact {recall['exact_s']} s, "
        f"lsh {recall['lsh_s']} s)"
    )
    print(
        f"[{size}] quality on synthetic embeddings: purity {quality['purity']:.3f}, NMI {quality['nmi']:.3f}, "
        f"sentiment accuracy {quality['sentiment_accuracy']:.3f}",
        flush=True,
    )
    common.drop_private_databases()


def main() -> None:
    print(" ".join(line.strip() for line in __doc__.strip().splitlines()[2:5]))
    sizes = [int(s) for s in os.environ.get("BENCH_ANALYZER_SIZES", "10000,100000").split(",")]
    for size in sizes:
        bench_one(size)


if __name__ == "__main__":
    main()
