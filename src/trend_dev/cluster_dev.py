"""Dev loop for viewpoint clustering on labelled sentences, without the database.

    python -m trend_dev.cluster_dev /path/laptops_train.xml /path/laptops_test.xml [--set key=json ...]
    python -m trend_dev.cluster_dev --synthetic [--set key=json ...]

Parses SemEval ABSA XML (``trend.spvp.semeval.parse``), embeds with ``trend.embeddings.encode``
(cached as .npy under ``--cache``, default /work/data/cache), runs the job's Spark clustering
(``trend.analyzer.clustering.cluster_sentences``) on a local session and prints
``clusters: k=… AMI=… NMI=… ARI=… outliers=…`` against the gold category (sentences with exactly one
category; noise is one cluster of its own), next to scikit-learn K-means at the same k, and the
offline labels. ``--synthetic`` uses the synthetic marketplace (seed 7) and its aspects instead.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np


def _embed(texts: list[str], cache: Path) -> np.ndarray:
    from trend import embeddings

    key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    path = cache / f"cluster_dev_{key}.npy"
    if path.is_file():
        return np.load(path)
    vectors = embeddings.encode(texts)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def load(files: list[str], synthetic: bool) -> tuple[list[str], list[str | None]]:
    """Texts and gold labels (None: not exactly one category, left out of the scores)."""
    if synthetic:
        from trend_dev import synthetic as generator

        market = generator.generate(seed=7, products_per_category=6, reviews_per_product=30)
        sentences = [s for r in market.reviews for s in r.sentences]
        return [s.text for s in sentences], [s.aspect or "filler" for s in sentences]
    from trend.spvp import semeval

    parsed = [s for f in files for s in semeval.parse(f)]
    return [s.text for s in parsed], [next(iter(s.categories)) if len(s.categories) == 1 else None for s in parsed]


def scores(gold: list[str | None], clusters: np.ndarray, noise: np.ndarray) -> dict[str, float]:
    from sklearn import metrics

    keep = np.asarray([g is not None for g in gold])
    truth = np.asarray([g for g in gold if g is not None])
    found = np.where(noise, -1, clusters)[keep]
    return {
        "AMI": metrics.adjusted_mutual_info_score(truth, found),
        "NMI": metrics.normalized_mutual_info_score(truth, found),
        "ARI": metrics.adjusted_rand_score(truth, found),
        "outliers": float(np.mean(noise)),
    }


def line(name: str, k: int, values: dict[str, float]) -> str:
    figures = " ".join(f"{key}={value:.3f}" for key, value in values.items())
    return f"{name}: k={k} {figures}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("xml", nargs="*")
    parser.add_argument("--synthetic", action="store_true")
    parser.add_argument("--cache", default="/work/data/cache")
    parser.add_argument("--set", action="append", default=[], metavar="key=json")
    parser.add_argument("--labels", type=int, default=15, help="print this many labels")
    args = parser.parse_args(argv)
    if not args.xml and not args.synthetic:
        parser.error("give XML files or --synthetic")

    from pyspark.ml.functions import array_to_vector
    from sklearn.cluster import KMeans

    from trend import pyfiles
    from trend.analyzer import clustering, keywords
    from trend.analyzer.labelling import ClusterSummary, TfidfLabeller, distinct_names
    from trend.analyzer.settings import AnalyzerConfig
    from trend_dev.benchmarks.analyzer_common import session

    config = AnalyzerConfig.from_dict({k: json.loads(v) for k, _, v in (s.partition("=") for s in args.set)})
    texts, gold = load(args.xml, args.synthetic)
    vectors = _embed(texts, Path(args.cache))
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers need this venv's numpy/pandas
    spark = session("cluster-dev")
    pyfiles.ensure_workers_have_code(spark)
    try:
        rows = [(i, t, v.tolist()) for i, (t, v) in enumerate(zip(texts, vectors, strict=True))]
        frame = spark.createDataFrame(rows, "sentence_id long, text string, vec array<float>")
        frame = frame.withColumn("features", array_to_vector("vec")).drop("vec").cache()
        started = time.perf_counter()
        clustered, choice = clustering.cluster_sentences(frame, len(texts), config)
        clustered = clustered.cache()
        out = {r["sentence_id"]: (r["cluster_id"], r["is_noise"]) for r in clustered.collect()}
        seconds = time.perf_counter() - started
        labels = np.asarray([out[i][0] for i in range(len(texts))])
        noise = np.asarray([out[i][1] for i in range(len(texts))])
        print(
            f"sentences {len(texts)}, scored {sum(g is not None for g in gold)}, k0={choice.k0}, "
            f"{choice.iterations} Lloyd passes, {seconds:.1f} s"
        )
        print(line("clusters", choice.k, scores(gold, labels, noise)))
        print(line("clusters (noise kept in its cluster)", choice.k, scores(gold, labels, np.zeros_like(noise))))
        baseline = KMeans(choice.k, n_init=3, random_state=config.seed).fit_predict(vectors)
        print(line("baseline sklearn KMeans", choice.k, scores(gold, baseline, np.zeros(len(texts), bool))))
        terms = {c: [term for term, _ in ranked] for c, ranked in keywords.class_tfidf(clustered).items()}
        sizes = {c: int(np.sum((labels == c) & ~noise)) for c in sorted(set(labels.tolist()))}
        summaries = [ClusterSummary(c, sizes[c], terms.get(c, []), []) for c in sorted(sizes, key=lambda c: -sizes[c])]
        labeller = TfidfLabeller()
        names = distinct_names([labeller.label(s).name for s in summaries])
        for summary, name in list(zip(summaries, names, strict=True))[: args.labels]:
            print(f"  {summary.cluster_id:>3} {summary.size:>5}  {name}")
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
