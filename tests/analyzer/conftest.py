"""Fixtures for analyzer tests: a small synthetic marketplace in analyzer_v2, datasets rows."""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

from trend import embeddings
from trend.crawl.local_source import MarketplaceDump, crawl_all_reviews
from trend.db import connect, fetch_all
from trend_dev import synthetic

# Spark's Python workers must run this interpreter (pandas, numpy), not the system python3.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

_CACHE: dict[str, np.ndarray] = {}


def cached_encode(texts):
    """Real MiniLM embeddings, each distinct sentence encoded once per test run."""
    missing = [t for t in dict.fromkeys(texts) if t not in _CACHE]
    if missing:
        _CACHE.update(zip(missing, embeddings.encode(missing)))
    return np.stack([_CACHE[t] for t in texts]) if texts else embeddings.encode([])


def small_market(seed: int = 11):
    return synthetic.generate(seed=seed, products_per_category=2, reviews_per_product=6)


@pytest.fixture
def market_ids(db, tmp_path):
    """Loads a 3 categories × 2 products × 6 reviews market; returns analyzer_v2 product ids."""
    market = small_market()
    stats = crawl_all_reviews(
        MarketplaceDump.load(market.write_dump(tmp_path / "dump")), lambda: connect("analyzer_v2"), encode=cached_encode
    )
    return sorted(set(stats.product_ids))


def create_dataset(conn, settings, name: str = "test dataset") -> int:
    cur = conn.cursor()
    cur.execute(
        "INSERT INTO datasets (name, group_id, settings) VALUES (%s, %s, %s)",
        (name, 1, settings if isinstance(settings, str) else json.dumps(settings)),
    )
    conn.commit()
    return int(cur.lastrowid)


def dataset_row(conn, dataset_id: int) -> dict:
    conn.commit()  # fresh snapshot
    return fetch_all(conn, "SELECT * FROM datasets WHERE id = %s", (dataset_id,))[0]


RESULT_TABLES = (
    "products",
    "product_details",
    "product_similarities",
    "ai_viewpoints",
    "review_sentence_aivp",
    "reviews",
    "review_sentences",
)


def result_rows(conn, dataset_id: int) -> dict[str, list[tuple]]:
    """Every row of the 7 result tables for a dataset, sorted (ids included)."""
    conn.commit()
    cur = conn.cursor()
    rows = {}
    for table in RESULT_TABLES:
        cur.execute(f"SELECT * FROM `{table}` WHERE dataset_id = %s ORDER BY id", (dataset_id,))
        rows[table] = list(cur.fetchall())
    return rows


@pytest.fixture(scope="session")
def spark(spark):
    """The shared session, with plugins/trend shipped to its Python workers (as --py-files does)."""
    from trend.pyfiles import ensure_workers_have_code

    ensure_workers_have_code(spark)
    return spark
