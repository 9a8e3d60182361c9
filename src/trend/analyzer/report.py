"""Printing analysed datasets: clusters with their labels and sizes (demo, eval)."""

from __future__ import annotations

import argparse
import json
import sys

from trend.db import connect, fetch_all


def print_clusters(conn, out=sys.stdout) -> int:
    """One block per dataset: status, then each viewpoint's size, noise count and label."""
    datasets = fetch_all(conn, "SELECT id, name, status, progress, error_code FROM datasets ORDER BY id")
    for d in datasets:
        print(
            f"dataset {d['id']} ({d['name']}): status {d['status']}, progress {d['progress']}"
            + (f", error_code {d['error_code']}" if d["error_code"] else ""),
            file=out,
        )
        rows = fetch_all(
            conn,
            """
            SELECT v.cluster_id, v.name, v.sentence_count, v.label_source,
                   (SELECT COUNT(*) FROM review_sentences s WHERE s.dataset_id = v.dataset_id
                      AND s.cluster_id = v.cluster_id AND s.is_noise = 1) AS noise
            FROM ai_viewpoints v WHERE v.dataset_id = %s ORDER BY v.sentence_count DESC""",
            (d["id"],),
        )
        for r in rows:
            print(
                f"  cluster {r['cluster_id']:>2}  {r['sentence_count']:>5} sentences "
                f"(+{r['noise']} noise)  [{r['label_source']}] {r['name']}",
                file=out,
            )
    return len(datasets)


def print_job_results(log_text: str, out=sys.stdout) -> int:
    """The ANALYZER_RESULT lines spark_jobs/analyzer_batch.py printed (found in a task log)."""
    count = 0
    for line in log_text.splitlines():
        marker = line.find("ANALYZER_RESULT ")
        if marker < 0:
            continue
        payload = line[marker + len("ANALYZER_RESULT ") :]
        try:
            r = json.JSONDecoder().raw_decode(payload)[0]
        except json.JSONDecodeError:
            continue
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in r["timings"].items())
        print(
            f"  job: dataset {r['dataset_id']} status {r['status']}"
            + (f" error_code {r['error_code']}" if r["error_code"] else "")
            + f", {r['sentences']} sentences, k={r['k']}, similarity {r['similarity_method']}"
            + _sentiment(r.get("sentiment"))
            + f"; {stages}",
            file=out,
        )
        count += 1
    return count


def _sentiment(found: dict | None) -> str:
    if not found or not found.get("method"):
        return ""
    return f", sentiment {found['method']}" + (f" ({found['note']})" if found.get("note") else "")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m trend.analyzer.report")
    parser.add_argument("--job-log", help="also summarise ANALYZER_RESULT lines of this log file")
    args = parser.parse_args(argv)
    if args.job_log:
        with open(args.job_log, encoding="utf-8", errors="replace") as handle:
            print_job_results(handle.read())
    connection = connect("ds_analyzer")
    try:
        print_clusters(connection)
    finally:
        connection.close()


if __name__ == "__main__":
    main()
