"""A crawler that reads a marketplace dump from disk instead of the web.

Formats in one folder (any mix):
- ``products.jsonl`` / ``products.csv``: mall_id, mall_product_id, name, description,
  category_code, brand, price, rating, specifications (JSON object)
- ``reviews.jsonl`` / ``reviews.csv``: mall_id, mall_review_id, mall_product_id, title,
  content, rating (optional ``sentences`` list in JSONL to keep a given split)
- ``*.xml`` in SemEval-2016 ABSA format: reviews with their sentences kept as given (the opinions
  are ignored here). The XML names no mall and often no product, so both are stated by whoever
  loads it (env or CLI, see below); the sentence texts are HTML-unescaped exactly once.

XML options (``MarketplaceDump.load`` arguments, ``from_env`` variables, CLI options):

- mall: ``TP_LOCAL_MARKETPLACE_MALL_ID`` / ``--mall-id`` (a ``trend.status.Mall`` id). Required
  when the folder holds XML; an unknown id is an error. Never defaulted.
- product of each review: ``TP_LOCAL_MARKETPLACE_PRODUCT_OF`` / ``--product-of``, one of
  ``auto`` (default): the rid's prefix before the first ``_`` or ``#`` (``B0074703CM_108_ANONYMOUS``
  → ``B0074703CM``, ``ADLT#8`` → ``ADLT``); a rid without one (``79``, ``1004293``: the SemEval
  laptops/restaurants train files) belongs to one product named after the file (``laptops_train``),
  and how many did is logged;
  ``rid-prefix``: the prefix, and a rid without one is an error;
  ``regex:<pattern>``: group 1 of the pattern searched in the rid (the whole match without groups),
  a rid that does not match is an error;
  ``group:<N>``: N consecutive reviews of a file per product (``<file>-1``, ``<file>-2``, ...);
  ``file``: one product per file.

Why unescape once: SemEval laptops text was HTML-escaped before it was put in XML, so after the
XML parser (one level) sentences still read ``said&quot; this``; one ``html.unescape`` gives
``said" this``. A second pass would also turn text that really says ``&quot;`` (written
``&amp;quot;`` after the first level) into ``"``: it is never applied.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import logging
import os
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from trend import embeddings
from trend.crawl.items import CrawlItem, CrawlKind, CrawlOutcome
from trend.crawl.store import Encoder, ProductRecord, ReviewRecord, StoreStats, store_reviews, upsert_product
from trend.db import ConnectionFactory, transaction
from trend.status import InputType, Mall

log = logging.getLogger(__name__)


class DumpFormatError(ValueError):
    """A dump file cannot be parsed, or the dump's options are wrong; the message names what failed."""


DUMP_ENV = "TP_LOCAL_MARKETPLACE_DUMP"
MALL_ENV = "TP_LOCAL_MARKETPLACE_MALL_ID"
PRODUCT_OF_ENV = "TP_LOCAL_MARKETPLACE_PRODUCT_OF"
_RID_PREFIX = re.compile(r"^([^_#]+)[_#]")


@dataclass(frozen=True)
class ProductOf:
    """Which product each review of an XML file belongs to (see the module docstring)."""

    mode: str = "auto"  # auto | rid-prefix | regex | group | file
    pattern: re.Pattern | None = None
    group_size: int = 0

    @classmethod
    def parse(cls, text: str | None) -> ProductOf:
        text = (text or "auto").strip()
        kind, _, arg = text.partition(":")
        if text in ("auto", "rid-prefix", "file"):
            return cls(text)
        if kind == "regex" and arg:
            try:
                return cls("regex", pattern=re.compile(arg))
            except re.error as exc:
                raise DumpFormatError(f"product_of {text!r}: invalid regular expression ({exc})") from None
        if kind == "group" and arg.isdigit() and int(arg) > 0:
            return cls("group", group_size=int(arg))
        raise DumpFormatError(
            f"product_of {text!r}: expected auto, rid-prefix, regex:<pattern>, group:<N> (N > 0) or file"
        )

    def product(self, rid: str, position: int, stem: str, path: Path) -> str:
        """The product of the review ``rid``, the ``position``-th (from 0) of file ``stem``."""
        if self.mode == "file":
            return stem
        if self.mode == "group":
            return f"{stem}-{position // self.group_size + 1}"
        if self.mode == "regex":
            assert self.pattern is not None
            found = self.pattern.search(rid)
            if not found or not (found.group(1) if self.pattern.groups else found.group(0)):
                raise DumpFormatError(f"{path}: rid {rid!r} does not match product_of regex {self.pattern.pattern!r}")
            return found.group(1) if self.pattern.groups else found.group(0)
        prefix = _RID_PREFIX.match(rid)
        if prefix:
            return prefix.group(1)
        if self.mode == "rid-prefix":
            raise DumpFormatError(f"{path}: rid {rid!r} has no product prefix (before '_' or '#')")
        return stem


def stated_mall(value: object, where: str = MALL_ENV) -> Mall:
    """The mall a dump is loaded as; a clear error for a missing or unknown id."""
    if value is None or str(value).strip() == "":
        raise DumpFormatError(f"the dump holds SemEval XML, which names no mall: set {where} (known: {list(Mall)})")
    try:
        return Mall.parse(str(value).strip())
    except ValueError as exc:
        raise DumpFormatError(f"{where}: {exc}") from None


class MarketplaceDump:
    """An in-memory index over a dump folder."""

    def __init__(self, products: Iterable[ProductRecord], reviews: Iterable[ReviewRecord]):
        self.products = {(int(p.mall_id), p.mall_product_id): p for p in products}
        self.reviews: dict[tuple[int, str], list[ReviewRecord]] = defaultdict(list)
        for review in reviews:
            self.reviews[(int(review.mall_id), review.mall_product_id)].append(review)

    @classmethod
    def load(
        cls, folder: Path | str, mall_id: int | str | None = None, product_of: ProductOf | str | None = None
    ) -> MarketplaceDump:
        """Every file of ``folder``; ``mall_id`` and ``product_of`` apply to its XML files (required: mall)."""
        folder = Path(folder)
        if not folder.is_dir():
            raise DumpFormatError(f"dump folder {folder} does not exist")
        rule = product_of if isinstance(product_of, ProductOf) else ProductOf.parse(product_of)
        products: list[ProductRecord] = []
        reviews: list[ReviewRecord] = []
        for path in sorted(folder.iterdir()):
            if path.name in ("products.jsonl", "products.csv"):
                products += [_product(row, path, n) for n, row in _rows(path)]
            elif path.name in ("reviews.jsonl", "reviews.csv"):
                reviews += [_review(row, path, n) for n, row in _rows(path)]
            elif path.suffix == ".xml":
                mall = stated_mall(mall_id)
                found = parse_semeval(path, mall, rule)
                log.info(
                    "%s: %d reviews loaded as mall %d (%s), products by %s: %d products",
                    path,
                    len(found),
                    int(mall),
                    mall.name,
                    rule.mode,
                    len({r.mall_product_id for r in found}),
                )
                reviews += found
        # Reviews may name products the dump has no record of (SemEval): give them a minimal one.
        known = {(int(p.mall_id), p.mall_product_id) for p in products}
        for review in reviews:
            key = (int(review.mall_id), review.mall_product_id)
            if key not in known:
                products.append(ProductRecord(key[0], key[1], name=key[1]))
                known.add(key)
        return cls(products, reviews)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> MarketplaceDump:
        """The dump named by TP_LOCAL_MARKETPLACE_DUMP, with its mall and product_of variables."""
        env = os.environ if environ is None else environ
        folder = env.get(DUMP_ENV)
        if not folder:
            raise DumpFormatError(f"{DUMP_ENV} is not set")
        return cls.load(folder, env.get(MALL_ENV), env.get(PRODUCT_OF_ENV))

    def summary(self) -> str:
        malls = Counter(m for m, _ in self.products)
        return f"{len(self.products)} products, {sum(len(r) for r in self.reviews.values())} reviews; " + ", ".join(
            f"mall {int(m)} ({Mall(m).name if m in set(Mall) else '?'}): {n} products" for m, n in sorted(malls.items())
        )

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


def semeval_reviews(path: Path | str) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """(rid, [(sentence id, text), ...]) per <Review> with text, texts unescaped once, empty ones left out.

    The list order is the stored ``sentence_index``: evaluation joins gold labels on
    (rid, index) through this function, so importer and evaluation cannot disagree.
    """
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise DumpFormatError(f"{path}: not valid XML ({exc})") from None
    for review in root.iter("Review"):
        rid = review.get("rid")
        if not rid:
            raise DumpFormatError(f"{path}: a <Review> has no rid")
        sentences = []
        for n, sentence in enumerate(review.iter("sentence")):
            text = html.unescape((sentence.findtext("text") or "").strip()).strip()
            if text:
                sentences.append((sentence.get("id") or f"{rid}:{n}", text))
        if sentences:
            yield rid, sentences


def parse_semeval(path: Path | str, mall_id: int, product_of: ProductOf | None = None) -> list[ReviewRecord]:
    """Reviews of a SemEval-2016 ABSA XML file as ``mall_id``; products by ``product_of`` (default auto)."""
    path = Path(path)
    rule = product_of or ProductOf()
    reviews = []
    for position, (rid, sentences) in enumerate(semeval_reviews(path)):
        texts = [text for _, text in sentences]
        reviews.append(
            ReviewRecord(
                mall_id=int(mall_id),
                mall_review_id=rid,
                mall_product_id=rule.product(rid, position, path.stem, path),
                content=" ".join(texts),
                sentences=texts,
            )
        )
    fallback = sum(1 for r in reviews if r.mall_product_id == path.stem and rule.mode == "auto")
    if fallback:
        log.warning(
            "%s: %d of %d reviews have no product prefix in their rid: product %r (set %s to say otherwise)",
            path,
            fallback,
            len(reviews),
            path.stem,
            PRODUCT_OF_ENV,
        )
    return reviews


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


def main(argv: list[str] | None = None) -> int:
    """``python -m trend.crawl.local_source DIR [--mall-id N] [--product-of RULE]``: what the dump holds."""
    parser = argparse.ArgumentParser(description="Check a local marketplace dump: what it would load, as which mall")
    parser.add_argument(
        "folder", nargs="?", default=os.environ.get(DUMP_ENV), help=f"dump folder (default ${DUMP_ENV})"
    )
    parser.add_argument("--mall-id", default=os.environ.get(MALL_ENV), help=f"mall of XML files (${MALL_ENV})")
    parser.add_argument(
        "--product-of", default=os.environ.get(PRODUCT_OF_ENV), help=f"XML products (${PRODUCT_OF_ENV})"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    if not args.folder:
        parser.error(f"give a dump folder or set {DUMP_ENV}")
    try:
        dump = MarketplaceDump.load(args.folder, args.mall_id, args.product_of)
    except DumpFormatError as exc:
        print(f"error: {exc}")
        return 2
    print(f"{args.folder}: {dump.summary()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
