"""Shared pieces of the analyzer evaluation and benchmark: private databases, truth, scores."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter

import numpy as np


def use_private_databases(prefix: str) -> None:
    """Point trend.config at fresh, migrated databases named <prefix>...; call before connecting."""
    os.environ["TP_DB_PREFIX"] = os.environ.get("TP_DB_PREFIX_OVERRIDE", prefix)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from trend import schema

    schema.drop_databases()
    schema.migrate()


def session(name: str):
    """A local[2] session like the job's, without console progress bars in the printed numbers."""
    from pyspark.sql import SparkSession

    from trend.spark import build_session

    SparkSession.builder.config("spark.ui.showConsoleProgress", "false")
    spark = build_session(name, master="local[2]", shuffle_partitions=4)
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def drop_private_databases() -> None:
    from trend import schema

    if os.environ.get("KEEP_BENCH_DB") != "1":
        schema.drop_databases()


def create_dataset(product_ids: list[int], name: str) -> int:
    from trend.db import connect

    conn = connect("ds_analyzer")
    try:
        cur = conn.cursor()
        cur.execute(
            "INSERT INTO datasets (name, group_id, settings) VALUES (%s, 1, %s)",
            (name, json.dumps({"product_ids": product_ids})),
        )
        conn.commit()
        return int(cur.lastrowid)
    finally:
        conn.close()


def analysed_sentences(dataset_id: int) -> list[dict]:
    """The job's per-sentence output joined to each sentence's (mall_review_id, sentence_index)."""
    from trend.db import connect, fetch_all, table

    conn = connect("ds_analyzer")
    try:
        return fetch_all(
            conn,
            f"""
            SELECT r.mall_review_id, s.sentence_index, d.cluster_id, d.is_noise, d.sentiment
            FROM {table("ds_analyzer", "review_sentences")} d
            JOIN {table("analyzer_v2", "review_sentences")} s ON s.id = d.sentence_id
            JOIN {table("analyzer_v2", "reviews")} r ON r.id = s.review_id
            WHERE d.dataset_id = %s""",
            (dataset_id,),
        )
    finally:
        conn.close()


def purity(truth: list[str], clusters: list[int]) -> float:
    by_cluster: dict[int, Counter] = {}
    for t, c in zip(truth, clusters):
        by_cluster.setdefault(c, Counter())[t] += 1
    return sum(c.most_common(1)[0][1] for c in by_cluster.values()) / max(len(truth), 1)


def scores(rows: list[dict], truth_of) -> dict[str, float]:
    """Cluster purity / NMI against aspects (filler counts as its own aspect) and sentiment accuracy."""
    from sklearn.metrics import normalized_mutual_info_score

    aspects, clusters, kept_aspects, kept_clusters, hits, polar = [], [], [], [], 0, 0
    for row in rows:
        sentence = truth_of(row)
        aspect = sentence.aspect or "filler"
        aspects.append(aspect)
        clusters.append(int(row["cluster_id"]))
        if not row["is_noise"]:
            kept_aspects.append(aspect)
            kept_clusters.append(int(row["cluster_id"]))
        if sentence.polarity:
            polar += 1
            hits += row["sentiment"] == sentence.polarity
    return {
        "sentences": len(rows),
        "purity": purity(aspects, clusters),
        "nmi": float(normalized_mutual_info_score(aspects, clusters)),
        "purity_without_noise": purity(kept_aspects, kept_clusters),
        "nmi_without_noise": float(normalized_mutual_info_score(kept_aspects, kept_clusters)),
        "noise_share": 1 - len(kept_aspects) / max(len(rows), 1),
        "sentiment_accuracy": hits / max(polar, 1),
    }


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
