"""Writes crawled products, reviews and sentences (with embeddings) into analyzer_v2.

Idempotent: products are upserted by (mall_id, mall_product_id); a review that
is already stored (same mall_id, mall_review_id) is kept as it is, so a
re-crawl adds only new reviews and never embeds the same sentence twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from trend import embeddings
from trend.text import split_sentences

Encoder = Callable[[Sequence[str]], np.ndarray]


@dataclass
class ProductRecord:
    mall_id: int
    mall_product_id: str
    name: str
    description: str | None = None
    category_code: str | None = None
    brand: str | None = None
    price: float | None = None
    rating: float | None = None
    specifications: dict | None = None
    url: str | None = None


@dataclass
class ReviewRecord:
    mall_id: int
    mall_review_id: str
    mall_product_id: str
    content: str
    title: str | None = None
    rating: int | None = None
    lang: str | None = None
    sentences: list[str] | None = None  # pre-split (e.g. SemEval); else split from content

    def sentence_texts(self) -> list[str]:
        return list(self.sentences) if self.sentences is not None else split_sentences(self.content)


@dataclass
class StoreStats:
    products: int = 0
    reviews_added: int = 0
    reviews_skipped: int = 0
    sentences_added: int = 0
    product_ids: list[int] = field(default_factory=list)


def upsert_product(cur, product: ProductRecord) -> int:
    cur.execute(
        """INSERT INTO products (mall_id, mall_product_id, name, description, category_code,
                                 brand, price, rating, specifications, url)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
           ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), name = VALUES(name),
             description = VALUES(description), category_code = VALUES(category_code),
             brand = VALUES(brand), price = VALUES(price), rating = VALUES(rating),
             specifications = VALUES(specifications), url = VALUES(url),
             crawled_at = CURRENT_TIMESTAMP(3)""",
        (
            product.mall_id,
            product.mall_product_id,
            product.name,
            product.description,
            product.category_code,
            product.brand,
            product.price,
            product.rating,
            json.dumps(product.specifications) if product.specifications is not None else None,
            product.url,
        ),
    )
    return int(cur.lastrowid)


def store_reviews(
    cur,
    product_id: int,
    reviews: Sequence[ReviewRecord],
    encode: Encoder = embeddings.encode,
    stats: StoreStats | None = None,
) -> StoreStats:
    """Insert the reviews not stored yet, split into sentences, embedded in one batch.

    ``cur`` is a dict cursor (trend.db.transaction).
    """
    stats = stats or StoreStats()
    if not reviews:
        return stats
    cur.execute("SELECT mall_id, mall_review_id FROM reviews WHERE product_id = %s", (product_id,))
    known = {(int(row["mall_id"]), row["mall_review_id"]) for row in cur.fetchall()}
    fresh = [r for r in reviews if (int(r.mall_id), r.mall_review_id) not in known]
    stats.reviews_skipped += len(reviews) - len(fresh)
    ids: dict[tuple[int, str], int] = {}
    if fresh:  # one multi-row INSERT, then the ids read back by their unique key
        cur.executemany(
            """INSERT INTO reviews (product_id, mall_id, mall_review_id, title, content, rating, lang)
               VALUES (%s, %s, %s, %s, %s, %s, %s)""",
            [(product_id, r.mall_id, r.mall_review_id, r.title, r.content, r.rating, r.lang) for r in fresh],
        )
        cur.execute("SELECT id, mall_id, mall_review_id FROM reviews WHERE product_id = %s", (product_id,))
        ids = {(int(row["mall_id"]), row["mall_review_id"]): int(row["id"]) for row in cur.fetchall()}
    pending: list[tuple[int, int, str]] = []  # (review_id, index, text)
    for review in fresh:
        review_id = ids[(int(review.mall_id), review.mall_review_id)]
        pending.extend((review_id, i, text) for i, text in enumerate(review.sentence_texts()))
    stats.reviews_added += len(fresh)
    if pending:
        vectors = encode([text for _, _, text in pending])
        cur.executemany(
            """INSERT INTO review_sentences (review_id, sentence_index, sentence, embedding, embedding_model)
               VALUES (%s, %s, %s, %s, %s)""",
            [
                (rid, idx, text, embeddings.to_blob(vec), embeddings.MODEL_NAME)
                for (rid, idx, text), vec in zip(pending, vectors)
            ],
        )
        stats.sentences_added += len(pending)
    return stats
