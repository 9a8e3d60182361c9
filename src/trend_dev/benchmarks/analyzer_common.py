"""Shared pieces of the analyzer evaluation and benchmark: private databases, truth, scores."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter

import numpy as np


def use_private_databases(prefix: str, fresh: bool = True) -> None:
    """Point trend.config at migrated databases named <prefix>... (dropped first when ``fresh``)."""
    os.environ["TP_DB_PREFIX"] = os.environ.get("TP_DB_PREFIX_OVERRIDE", prefix)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from trend import schema

    if fresh:
        schema.drop_databases()
    schema.migrate()


def session(name: str):
    """A local[2] session sized like the job's (``trend.spark.SparkSizing``), without progress bars."""
    from pyspark.sql import SparkSession

    from trend.spark import build_session

    SparkSession.builder.config("spark.ui.showConsoleProgress", "false")
    spark = build_session(name, master="local[2]")  # memory and partitions: TP_SPARK_* or the machine
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


def comparing() -> bool:
    return bool(os.environ.get("BENCH_ANALYZER_DUMP") or os.environ.get("BENCH_ANALYZER_REFERENCE"))


def compare_assignment(size: int, rows: list[dict]) -> None:
    """Save (BENCH_ANALYZER_DUMP) or compare with (BENCH_ANALYZER_REFERENCE) a run's sentence -> cluster map.

    Files are ``<path>.<size>.json``; the comparison is label-permutation free (same partition, ARI).
    """
    from sklearn.metrics import adjusted_rand_score

    if not comparing():
        return
    assignment = {
        f"{r['mall_review_id']}:{int(r['sentence_index'])}": [int(r["cluster_id"]), int(r["is_noise"])] for r in rows
    }
    if os.environ.get("BENCH_ANALYZER_DUMP"):
        with open(f"{os.environ['BENCH_ANALYZER_DUMP']}.{size}.json", "w", encoding="utf-8") as out:
            json.dump(assignment, out)
    reference_path = os.environ.get("BENCH_ANALYZER_REFERENCE")
    if not reference_path or not os.path.exists(f"{reference_path}.{size}.json"):
        return
    with open(f"{reference_path}.{size}.json", encoding="utf-8") as f:
        reference = json.load(f)
    keys = sorted(set(reference) & set(assignment))
    ari = adjusted_rand_score([reference[k][0] for k in keys], [assignment[k][0] for k in keys])
    pairs = {(reference[k][0], assignment[k][0]) for k in keys}
    same = len(pairs) == len({a for a, _ in pairs}) == len({b for _, b in pairs})
    noise_same = sum(reference[k][1] == assignment[k][1] for k in keys)
    print(
        f"[{size}] clusters vs reference run: {'same partition' if same else 'DIFFERENT partition'} "
        f"(ARI {ari:.4f}, {len(keys)} of {len(reference)} sentences matched, noise flag equal on {noise_same})",
        flush=True,
    )


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


def _pss(pid: int, fallback: float) -> float:
    """Proportional set size in GiB (forked Python workers share pages; RSS would count them twice)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return fallback


class PeakMemory:
    """Peak memory (PSS, else RSS) of this process tree, sampled from /proc every ``interval`` seconds.

    ``driver_jvm``: the Spark driver JVM (local mode: the executors live in it too);
    ``python_workers``: all PySpark Python daemons/workers together; ``python_driver``: this process;
    ``total``: the largest sum of the three seen in one sample. Values in GiB.
    """

    def __init__(self, interval: float = 0.25):
        import threading

        self.interval = interval
        self.peaks = {"driver_jvm": 0.0, "python_workers": 0.0, "python_driver": 0.0, "total": 0.0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        parents: dict[int, int] = {}
        info: dict[int, tuple[str, float]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                    stat = f.read()
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            parents[int(entry)] = int(fields[1])
            info[int(entry)] = (cmdline, int(fields[21]) * page / 2**30)
        me = os.getpid()
        tree, frontier = {me}, [me]
        while frontier:
            parent = frontier.pop()
            children = [p for p, pp in parents.items() if pp == parent and p not in tree]
            tree.update(children)
            frontier.extend(children)
        sums = {"driver_jvm": 0.0, "python_workers": 0.0, "python_driver": 0.0}
        for pid in tree:
            cmdline, rss = info.get(pid, ("", 0.0))
            rss = _pss(pid, rss)
            if pid == me:
                sums["python_driver"] += rss
            elif "java" in cmdline.split(" ")[0]:
                sums["driver_jvm"] += rss
            elif "pyspark" in cmdline or "python" in cmdline.split(" ")[0]:
                sums["python_workers"] += rss
        for key, value in sums.items():
            self.peaks[key] = max(self.peaks[key], value)
        self.peaks["total"] = max(self.peaks["total"], sum(sums.values()))

    def line(self) -> str:
        p = self.peaks
        return (
            f"peak RSS driver JVM {p['driver_jvm']:.2f} GiB, Python workers {p['python_workers']:.2f} GiB, "
            f"Python driver {p['python_driver']:.2f} GiB (sum {p['total']:.2f} GiB)"
        )
