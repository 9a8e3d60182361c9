"""Reads for the dataset report: products, AI viewpoints, sentiment, the 2-D map, neighbours.

Aggregates are computed by MariaDB over ``review_sentences`` through covering indexes
(ds_analyzer migration 0400), so a 100k-sentence dataset is a handful of index scans; lists are
paginated and the map reads a uniform sample through ``map_bucket``. A dataset that is still
running or failed simply has no (or its previous run's) result rows: every function then
returns empty lists, never an error.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from itertools import zip_longest

from trend.db import fetch_all, table

SENTIMENTS = ("positive", "neutral", "negative")
MAP_BUCKETS = 1000  # map_bucket = sentence_id MOD 1000 (migration 0400)
EXAMPLES_PER_VIEWPOINT = 3
MAX_PRODUCTS_PAGE = 200


def _sentiment_counts() -> dict:
    return {s: 0 for s in SENTIMENTS} | {"score_sum": 0.0, "total": 0}


def _finish(counts: dict) -> dict:
    total = counts.pop("total")
    score_sum = counts.pop("score_sum")
    return counts | {"total": total, "average_score": round(score_sum / total, 4) if total else None}


def products(conn, dataset_id: int, page: int = 1, page_size: int = 50) -> dict:
    """Products by sentence count, with review/sentence counts, rating and sentiment."""
    page_size = min(max(1, page_size), MAX_PRODUCTS_PAGE)
    rows = fetch_all(
        conn,
        """SELECT product_id, mall_id, mall_product_id, name, review_count, sentence_count,
                  average_rating, sentiment_score
           FROM products WHERE dataset_id = %s ORDER BY sentence_count DESC, product_id LIMIT %s OFFSET %s""",
        [dataset_id, page_size, (max(1, page) - 1) * page_size],
    )
    total = fetch_all(conn, "SELECT COUNT(*) AS n FROM products WHERE dataset_id = %s", [dataset_id])[0]["n"]
    items = [
        r | {"average_rating": float(r["average_rating"]) if r["average_rating"] is not None else None} for r in rows
    ]
    return {"items": items, "total": int(total), "page": max(1, page), "page_size": page_size}


def _cluster_aggregates(conn, dataset_id: int) -> dict[int | None, dict]:
    rows = fetch_all(
        conn,
        """SELECT cluster_id, is_noise, sentiment, COUNT(*) AS n, SUM(sentiment_score) AS s
           FROM review_sentences WHERE dataset_id = %s GROUP BY cluster_id, is_noise, sentiment""",
        [dataset_id],
    )
    out: dict[int | None, dict] = defaultdict(lambda: {"members": 0, "noise": 0, "sentiment": _sentiment_counts()})
    for r in rows:
        agg = out[r["cluster_id"]]
        n = int(r["n"])
        if r["is_noise"]:
            agg["noise"] += n
            continue
        agg["members"] += n
        if r["sentiment"] in SENTIMENTS:
            agg["sentiment"][r["sentiment"]] += n
            agg["sentiment"]["total"] += n
            agg["sentiment"]["score_sum"] += float(r["s"] or 0.0)
    return out


def _examples(conn, dataset_id: int, cluster_id: int, limit: int) -> list[dict]:
    """Up to ``limit`` member sentences, alternating positive / negative / neutral (index range reads)."""
    by_sentiment = [
        fetch_all(
            conn,
            f"""SELECT rs.sentence_id, rs.product_id, rs.sentiment, t.text
                FROM review_sentences rs JOIN {table("analyzer_v2", "review_sentences")} t ON t.id = rs.sentence_id
                WHERE rs.dataset_id = %s AND rs.cluster_id = %s AND rs.is_noise = 0 AND rs.sentiment = %s
                LIMIT %s""",
            [dataset_id, cluster_id, sentiment, limit],
        )
        for sentiment in ("positive", "negative", "neutral")
    ]
    mixed = [row for group in zip_longest(*by_sentiment) for row in group if row is not None]
    return mixed[:limit]


def viewpoints(conn, dataset_id: int, examples: int = EXAMPLES_PER_VIEWPOINT) -> dict:
    """AI viewpoints with size, noise share, sentiment and example sentences; dataset noise share."""
    aggregates = _cluster_aggregates(conn, dataset_id)
    rows = fetch_all(
        conn,
        """SELECT id, cluster_id, name, description, keywords, sentence_count, label_source
           FROM ai_viewpoints WHERE dataset_id = %s ORDER BY sentence_count DESC, cluster_id""",
        [dataset_id],
    )
    items = []
    for r in rows:
        agg = aggregates.get(r["cluster_id"]) or {"members": 0, "noise": 0, "sentiment": _sentiment_counts()}
        assigned = agg["members"] + agg["noise"]
        items.append(
            r
            | {
                "keywords": json.loads(r["keywords"]) if r["keywords"] else [],
                "noise": agg["noise"],
                "noise_share": round(agg["noise"] / assigned, 4) if assigned else 0.0,
                "sentiment": _finish(dict(agg["sentiment"])),
                "examples": _examples(conn, dataset_id, r["cluster_id"], examples) if examples else [],
            }
        )
    sentences = sum(a["members"] + a["noise"] for a in aggregates.values())
    noise = sum(a["noise"] for a in aggregates.values())
    return {
        "items": items,
        "sentences": sentences,
        "noise": noise,
        "noise_share": round(noise / sentences, 4) if sentences else 0.0,
    }


def sentiment_by_product(conn, dataset_id: int, limit: int = MAX_PRODUCTS_PAGE) -> list[dict]:
    rows = fetch_all(
        conn,
        """SELECT product_id, sentiment, COUNT(*) AS n, SUM(sentiment_score) AS s
           FROM review_sentences WHERE dataset_id = %s GROUP BY product_id, sentiment""",
        [dataset_id],
    )
    per: dict[int, dict] = defaultdict(_sentiment_counts)
    for r in rows:
        if r["sentiment"] in SENTIMENTS:
            counts = per[r["product_id"]]
            counts[r["sentiment"]] += int(r["n"])
            counts["total"] += int(r["n"])
            counts["score_sum"] += float(r["s"] or 0.0)
    names = {
        r["product_id"]: r["name"]
        for r in fetch_all(conn, "SELECT product_id, name FROM products WHERE dataset_id = %s", [dataset_id])
    }
    out = [{"product_id": pid, "name": names.get(pid)} | _finish(c) for pid, c in per.items()]
    return sorted(out, key=lambda p: (-p["total"], p["product_id"]))[:limit]


def sample_map(conn, dataset_id: int, max_points: int = 4000) -> dict:
    """A uniform sample of (x, y, cluster) of at most ~max_points sentences, as parallel arrays."""
    total = fetch_all(
        conn, "SELECT COALESCE(SUM(sentence_count), 0) AS n FROM products WHERE dataset_id = %s", [dataset_id]
    )[0]["n"]
    total = int(total)
    buckets = MAP_BUCKETS if total <= max_points else max(1, math.ceil(MAP_BUCKETS * max_points / total))
    rows = fetch_all(
        conn,
        """SELECT map_x, map_y, cluster_id, is_noise FROM review_sentences
           WHERE dataset_id = %s AND map_bucket < %s AND map_x IS NOT NULL""",
        [dataset_id, buckets],
    )
    return {
        "sentences": total,
        "sampled": len(rows),
        "sample_fraction": buckets / MAP_BUCKETS,
        "x": [round(float(r["map_x"]), 4) for r in rows],
        "y": [round(float(r["map_y"]), 4) for r in rows],
        "cluster": [r["cluster_id"] for r in rows],
        "noise": [int(r["is_noise"]) for r in rows],
    }


def neighbours(conn, dataset_id: int, top: int = 5, limit: int = MAX_PRODUCTS_PAGE) -> list[dict]:
    """For each product (by sentence count), its ``top`` most similar products."""
    rows = fetch_all(
        conn,
        """SELECT s.product_id, s.similar_product_id, s.score, s.rank_no, s.method, p.name AS similar_name
           FROM product_similarities s
           LEFT JOIN products p ON p.dataset_id = s.dataset_id AND p.product_id = s.similar_product_id
           WHERE s.dataset_id = %s AND s.rank_no <= %s ORDER BY s.product_id, s.rank_no""",
        [dataset_id, top],
    )
    per: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        per[r["product_id"]].append(
            {
                "product_id": r["similar_product_id"],
                "name": r["similar_name"],
                "score": round(r["score"], 4),
                "rank": r["rank_no"],
                "method": r["method"],
            }
        )
    order = products(conn, dataset_id, 1, limit)["items"]
    return [
        {"product_id": p["product_id"], "name": p["name"], "neighbours": per.get(p["product_id"], [])} for p in order
    ]
