"""Printing analysed datasets: clusters with their labels and sizes (demo, eval)."""
from __future__ import annotations

import sys

from trend.db import connect, fetch_all


def print_clusters(conn, out=sys.stdout) -> int:
    """One block per dataset: status, then each viewpoint's size, noise count and label."""
    datasets = fetch_all(conn, "SELECT id, name, status, progress, error_code FROM datasets ORDER BY id")
    for d in datasets:
        print(f"dataset {d['id']} ({d['name']}): status {d['status']}, progress {d['progress']}"
              + (f", error_code {d['error_code']}" if d["error_code"] else ""), file=out)
        rows = fetch_all(conn, """
            SELECT v.cluster_id, v.name, v.sentence_count, v.label_source,
                   (SELECT COUNT(*) FROM review_sentences s WHERE s.dataset_id = v.dataset_id
                      AND s.cluster_id = v.cluster_id AND s.is_noise = 1) AS noise
            FROM ai_viewpoints v WHERE v.dataset_id = %s ORDER BY v.sentence_count DESC""", (d["id"],))
        for r in rows:
            print(f"  cluster {r['cluster_id']:>2}  {r['sentence_count']:>5} sentences "
                  f"(+{r['noise']} noise)  [{r['label_source']}] {r['name']}", file=out)
    return len(datasets)


if __name__ == "__main__":
    connection = connect("ds_analyzer")
    try:
        print_clusters(connection)
    finally:
        connection.close()
