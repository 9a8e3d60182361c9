"""Reads for the SPVP heatmap: specific viewpoint × product sentence counts, example sentences.

Mappings (``review_sentence_spvp``) are per sentence and viewpoint category; a dataset's cells
count the mappings of its own sentences (``review_sentences`` of the dataset), so a later crawl
of the same products never leaks into an older dataset's heatmap.
"""

from __future__ import annotations

from trend.db import fetch_all, table

MAX_PRODUCTS = 30  # heatmap columns: the products with most sentences
MAX_EXAMPLES = 20


def _category(conn, dataset_id: int) -> dict | None:
    rows = fetch_all(
        conn,
        """SELECT c.id, c.name, c.description FROM datasets d
           JOIN viewpoint_categories c ON c.id = d.viewpoint_category_id WHERE d.id = %s""",
        [dataset_id],
    )
    return rows[0] if rows else None


def heatmap(conn, dataset_id: int, max_products: int = MAX_PRODUCTS) -> dict:
    """Rows = the category's viewpoints, columns = top products; cell = mapped sentences and share."""
    category = _category(conn, dataset_id)
    if category is None:
        return {"category": None, "viewpoints": [], "products": [], "cells": [], "products_total": 0}
    viewpoints = fetch_all(
        conn,
        """SELECT ordinal_number AS ordinal, name, description, last_object_id FROM specific_viewpoints
           WHERE viewpoint_category_id = %s ORDER BY ordinal_number""",
        [category["id"]],
    )
    products = fetch_all(
        conn,
        """SELECT product_id, mall_product_id, name, sentence_count FROM products WHERE dataset_id = %s
           ORDER BY sentence_count DESC, product_id LIMIT %s""",
        [dataset_id, max_products],
    )
    total = fetch_all(conn, "SELECT COUNT(*) AS n FROM products WHERE dataset_id = %s", [dataset_id])[0]["n"]
    cells = []
    if products:
        marks = ", ".join(["%s"] * len(products))
        cells = fetch_all(
            conn,
            f"""SELECT sp.viewpoint_ordinal_number AS ordinal, p.product_id, COUNT(*) AS sentences
                FROM products p
                JOIN review_sentence_spvp sp
                     ON sp.viewpoint_category_id = %s AND sp.mall_product_id = p.mall_product_id
                JOIN review_sentences rs ON rs.dataset_id = p.dataset_id AND rs.sentence_id = sp.sentence_id
                WHERE p.dataset_id = %s AND p.product_id IN ({marks})
                GROUP BY sp.viewpoint_ordinal_number, p.product_id""",
            [category["id"], dataset_id, *[p["product_id"] for p in products]],
        )
    per_product = {p["product_id"]: p["sentence_count"] for p in products}
    for cell in cells:
        denominator = per_product.get(cell["product_id"]) or 0
        cell["share"] = round(cell["sentences"] / denominator, 4) if denominator else None
    return {
        "category": category,
        "viewpoints": viewpoints,
        "products": products,
        "products_total": int(total),
        "cells": cells,
    }


def cell_examples(conn, dataset_id: int, ordinal: int, product_id: int, limit: int = 5) -> list[dict]:
    """Sentences of one product that SPVP mapped to one viewpoint (highest score first)."""
    limit = min(max(1, limit), MAX_EXAMPLES)
    return fetch_all(
        conn,
        f"""SELECT sp.sentence_id, sp.score, sp.backend, t.text
            FROM datasets d
            JOIN products p ON p.dataset_id = d.id AND p.product_id = %s
            JOIN review_sentence_spvp sp ON sp.viewpoint_category_id = d.viewpoint_category_id
                 AND sp.mall_product_id = p.mall_product_id AND sp.viewpoint_ordinal_number = %s
            JOIN review_sentences rs ON rs.dataset_id = d.id AND rs.sentence_id = sp.sentence_id
            JOIN {table("analyzer_v2", "review_sentences")} t ON t.id = sp.sentence_id
            WHERE d.id = %s ORDER BY sp.score DESC, sp.sentence_id LIMIT %s""",
        [product_id, ordinal, dataset_id, limit],
    )
