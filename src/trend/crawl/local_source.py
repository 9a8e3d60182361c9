"""A crawler that reads a marketplace dump from disk instead of the web.

Formats in one folder (any mix):
- ``products.jsonl`` / ``products.csv``: mall_id, mall_product_id, name, description,
  category_code, brand, price, rating, specifications (JSON object)
- ``reviews.jsonl`` / ``reviews.csv``: mall_id, mall_review_id, mall_product_id, title,
  content, rating (optional ``sentences`` list in JSONL to keep a given split)
- ``*.xml`` in SemEval-2016 ABSA format: ``<Review rid="ASIN_x">`` → product ``ASIN``
  (the rid's prefix before the first ``_``), sentences kept as given.
"""

from __future__ import annotations

import csv
import json
import logging
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from trend import embeddings
from trend.crawl.items import CrawlItem, CrawlKind, CrawlOutcome
from trend.crawl.store import Encoder, ProductRecord, ReviewRecord, StoreStats, store_reviews, upsert_product
from trend.db import ConnectionFactory, transaction
from trend.status import InputType, Mall

log = logging.getLogger(__name__)


class DumpFormatError(ValueError):
    """A dump file cannot be parsed; the message names the file and line."""


class MarketplaceDump:
    """An in-memory index over a dump folder."""

    def __init__(self, products: Iterable[ProductRecord], reviews: Iterable[ReviewRecord]):
        self.products = {(int(p.mall_id), p.mall_product_id): p for p in products}
        self.reviews: dict[tuple[int, str], list[ReviewRecord]] = defaultdict(list)
        for review in reviews:
            self.reviews[(int(review.mall_id), review.mall_product_id)].append(review)

    @classmethod
    def load(cls, folder: Path | str, default_mall_id: int = Mall.AMAZON_JP) -> MarketplaceDump:
        folder = Path(folder)
        if not folder.is_dir():
            raise DumpFormatError(f"dump folder {folder} does not exist")
        products: list[ProductRecord] = []
        reviews: list[ReviewRecord] = []
        for path in sorted(folder.iterdir()):
            if path.name in ("products.jsonl", "products.csv"):
                products += [_product(row, path, n) for n, row in _rows(path)]
            elif path.name in ("reviews.jsonl", "reviews.csv"):
                reviews += [_review(row, path, n) for n, row in _rows(path)]
            elif path.suffix == ".xml":
                p, r = parse_semeval(path, default_mall_id)
                products += p
                reviews += r
        # Reviews may name products the dump has no record of (SemEval): give them a minimal one.
        known = {(int(p.mall_id), p.mall_product_id) for p in products}
        for review in reviews:
            key = (int(review.mall_id), review.mall_product_id)
            if key not in known:
                products.append(ProductRecord(key[0], key[1], name=key[1]))
                known.add(key)
        return cls(products, reviews)

    def find(self, item: CrawlItem) -> list[ProductRecord]:
        """Products an item names, in a stable order, cut at the item's limit."""
        mall = int(item.mall_id)
        if item.kind.names_products:
            if item.input_type == InputType.URL:
                return [p for (m, _), p in self.products.items() if m == mall and p.url == item.target][:1]
            product = self.products.get((mall, item.target))
            return [product] if product else []
        if item.kind is CrawlKind.CATEGORY:
            found = [p for (m, _), p in self.products.items() if m == mall and p.category_code == item.target]
        else:
            words = item.target.lower().split()
            found = [
                p
                for (m, _), p in self.products.items()
                if m == mall and all(w in f"{p.name} {p.description or ''}".lower() for w in words)
            ]
        found.sort(key=lambda p: p.mall_product_id)
        return found[: item.limit] if item.limit else found


class LocalMarketplaceSource:
    """Crawler adapter: fills analyzer_v2 from a MarketplaceDump, one transaction per item."""

    def __init__(self, dump: MarketplaceDump, analyzer_conn: ConnectionFactory, encode: Encoder = embeddings.encode):
        self.dump = dump
        self.analyzer_conn = analyzer_conn
        self.encode = encode
        self.stats = StoreStats()

    def crawl(self, items: list[CrawlItem]) -> list[CrawlOutcome]:
        return [self._crawl_one(item) for item in items]

    def _crawl_one(self, item: CrawlItem) -> CrawlOutcome:
        products = self.dump.find(item)
        if not products:
            return CrawlOutcome.failed(
                item, f"{item.kind.target_column} {item.target!r} not found in mall {item.mall_id}", transient=False
            )
        conn = self.analyzer_conn()
        try:
            with transaction(conn) as cur:
                for product in products:
                    product_id = upsert_product(cur, product)
                    self.stats.products += 1
                    self.stats.product_ids.append(product_id)
                    if item.kind is CrawlKind.PRODUCT:
                        continue
                    reviews = self.dump.reviews.get((int(product.mall_id), product.mall_product_id), [])
                    if item.kind is CrawlKind.PRODUCT_REVIEWS and item.limit:
                        reviews = reviews[: item.limit]
                    store_reviews(cur, product_id, reviews, self.encode, self.stats)
        finally:
            conn.close()
        return CrawlOutcome.success(item, [p.mall_product_id for p in products])


def _rows(path: Path):
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as handle:
            for n, line in enumerate(handle, 1):
                if line.strip():
                    try:
                        yield n, json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise DumpFormatError(f"{path}:{n}: invalid JSON ({exc.msg})") from None
    else:
        with path.open(encoding="utf-8", newline="") as handle:
            for n, row in enumerate(csv.DictReader(handle), 2):
                yield n, row


def _required(row: dict, key: str, path: Path, n: int) -> str:
    value = row.get(key)
    if value is None or str(value).strip() == "":
        raise DumpFormatError(f"{path}:{n}: missing {key}")
    return str(value)


def _number(row: dict, key: str, kind=float):
    value = row.get(key)
    return None if value in (None, "") else kind(value)


def _product(row: dict, path: Path, n: int) -> ProductRecord:
    specs = row.get("specifications")
    if isinstance(specs, str) and specs:
        specs = json.loads(specs)
    return ProductRecord(
        mall_id=int(_required(row, "mall_id", path, n)),
        mall_product_id=_required(row, "mall_product_id", path, n),
        name=_required(row, "name", path, n),
        description=row.get("description") or None,
        category_code=row.get("category_code") or None,
        brand=row.get("brand") or None,
        price=_number(row, "price"),
        rating=_number(row, "rating"),
        specifications=specs or None,
        url=row.get("url") or None,
    )


def _review(row: dict, path: Path, n: int) -> ReviewRecord:
    return ReviewRecord(
        mall_id=int(_required(row, "mall_id", path, n)),
        mall_review_id=_required(row, "mall_review_id", path, n),
        mall_product_id=_required(row, "mall_product_id", path, n),
        content=_required(row, "content", path, n),
        title=row.get("title") or None,
        rating=_number(row, "rating", int),
        lang=row.get("lang") or None,
        sentences=row.get("sentences") if isinstance(row.get("sentences"), list) else None,
    )


def parse_semeval(path: Path | str, mall_id: int = Mall.AMAZON_JP):
    """Products and reviews from a SemEval-2016 ABSA XML file (opinions are ignored here)."""
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise DumpFormatError(f"{path}: not valid XML ({exc})") from None
    reviews = []
    for review in root.iter("Review"):
        rid = review.get("rid")
        if not rid:
            raise DumpFormatError(f"{path}: a <Review> has no rid")
        texts = [(s.findtext("text") or "").strip() for s in review.iter("sentence")]
        texts = [t for t in texts if t]
        if not texts:
            continue
        reviews.append(
            ReviewRecord(
                mall_id=int(mall_id),
                mall_review_id=rid,
                mall_product_id=rid.split("_", 1)[0],
                content=" ".join(texts),
                sentences=texts,
            )
        )
    return [], reviews


def crawl_all_reviews(
    dump: MarketplaceDump, analyzer_conn: ConnectionFactory, encode: Encoder = embeddings.encode
) -> StoreStats:
    """Load every product of a dump with its reviews (tests, benchmarks, evaluation)."""
    source = LocalMarketplaceSource(dump, analyzer_conn, encode)
    items = [
        CrawlItem(CrawlKind.PRODUCT_REVIEWS, n, 0, mall, pid, input_type=InputType.MALL_PRODUCT_ID)
        for n, (mall, pid) in enumerate(sorted(dump.products), 1)
    ]
    for outcome in source.crawl(items):
        if outcome.error:
            raise RuntimeError(outcome.error)
    return source.stats
