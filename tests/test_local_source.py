import numpy as np
import pytest

from trend import embeddings
from trend.crawl.items import CrawlItem, CrawlKind, InvalidCrawlItem
from trend.crawl.local_source import DumpFormatError, LocalMarketplaceSource, MarketplaceDump, crawl_all_reviews
from trend.db import connect, fetch_all
from trend.status import CrawlStatus, Mall
from trend_dev import synthetic

SEMEVAL = """<?xml version="1.0" encoding="UTF-8"?>
<Reviews>
  <Review rid="B00ABC_1"><sentences>
    <sentence id="B00ABC_1:0"><text>The battery lasts forever.</text>
      <Opinions><Opinion category="BATTERY#OPERATION_PERFORMANCE" polarity="positive"/></Opinions></sentence>
    <sentence id="B00ABC_1:1"><text>Screen is dim.</text></sentence>
  </sentences></Review>
  <Review rid="B00XYZ_7"><sentences>
    <sentence id="B00XYZ_7:0"><text>Shipping was slow.</text></sentence>
  </sentences></Review>
</Reviews>"""


def _analyzer():
    return connect("analyzer_v2")


def test_synthetic_marketplace_is_deterministic():
    a = synthetic.generate(seed=3, products_per_category=2, reviews_per_product=3)
    b = synthetic.generate(seed=3, products_per_category=2, reviews_per_product=3)
    c = synthetic.generate(seed=4, products_per_category=2, reviews_per_product=3)
    assert [r.content for r in a.reviews] == [r.content for r in b.reviews]
    assert [r.content for r in a.reviews] != [r.content for r in c.reviews]
    assert all(s.aspect in synthetic.ASPECTS or s.aspect is None for s in a.truth().values())


def test_dump_roundtrip_loads_products_reviews_and_embeddings(db, tmp_path):
    market = synthetic.generate(seed=1, products_per_category=1, reviews_per_product=4)
    dump = MarketplaceDump.load(market.write_dump(tmp_path))
    stats = crawl_all_reviews(dump, _analyzer)
    assert stats.reviews_added == len(market.reviews)
    assert stats.sentences_added == market.sentence_count()

    rows = fetch_all(
        db["analyzer_v2"],
        "SELECT s.sentence, s.embedding, s.embedding_dim, s.embedding_model, r.mall_review_id, "
        "s.sentence_index FROM review_sentences s JOIN reviews r ON r.id = s.review_id",
    )
    truth = market.truth()
    assert {(r["mall_review_id"], r["sentence_index"]): r["sentence"] for r in rows} == {
        k: s.text for k, s in truth.items()
    }
    vector = embeddings.from_blob(rows[0]["embedding"])
    assert rows[0]["embedding_dim"] == 384 and abs(np.linalg.norm(vector) - 1) < 1e-3
    assert rows[0]["embedding_model"] == embeddings.MODEL_NAME

    # Re-crawling adds nothing and embeds nothing again.
    again = crawl_all_reviews(dump, _analyzer)
    assert (again.reviews_added, again.sentences_added) == (0, 0)
    assert again.reviews_skipped == len(market.reviews)


def test_category_and_search_items_find_products(db, tmp_path):
    market = synthetic.generate(seed=2, products_per_category=3, reviews_per_product=1)
    source = LocalMarketplaceSource(MarketplaceDump.load(market.write_dump(tmp_path)), _analyzer)
    by_category = CrawlItem(CrawlKind.CATEGORY, 1, 1, Mall.SYNTHETIC, "speakers", limit=2)
    brand = market.products[0].brand
    by_keyword = CrawlItem(CrawlKind.SEARCH_QUERY, 2, 1, Mall.SYNTHETIC, brand.lower())
    missing = CrawlItem(CrawlKind.PRODUCT, 3, 1, Mall.SYNTHETIC, "NOPE-1")
    cat, kw, miss = source.crawl([by_category, by_keyword, missing])
    assert cat.status is CrawlStatus.SUCCESS and len(cat.found_products) == 2
    assert all(pid.startswith("SYN-SPE") for pid in cat.found_products)
    assert kw.status is CrawlStatus.SUCCESS
    assert set(kw.found_products) == {p.mall_product_id for p in market.products if p.brand == brand}
    assert miss.status is CrawlStatus.ERROR and "NOPE-1" in miss.error


def test_semeval_xml_products_from_rid_prefix(db, tmp_path):
    (tmp_path / "laptops.xml").write_text(SEMEVAL)
    dump = MarketplaceDump.load(tmp_path)
    assert set(dump.products) == {(Mall.AMAZON_JP, "B00ABC"), (Mall.AMAZON_JP, "B00XYZ")}
    crawl_all_reviews(dump, _analyzer)
    rows = fetch_all(db["analyzer_v2"], "SELECT sentence FROM review_sentences ORDER BY id")
    assert [r["sentence"] for r in rows] == ["The battery lasts forever.", "Screen is dim.", "Shipping was slow."]


def test_malformed_dump_names_file_and_line(tmp_path):
    (tmp_path / "reviews.jsonl").write_text(
        '{"mall_id": 99, "mall_review_id": "a", "mall_product_id": "p", "content": "x"}\n{oops\n'
    )
    with pytest.raises(DumpFormatError, match=r"reviews.jsonl:2"):
        MarketplaceDump.load(tmp_path)


@pytest.mark.parametrize(
    "item, reason",
    [
        (CrawlItem(CrawlKind.PRODUCT, 1, 1, 12345, "X"), "unknown mall_id 12345"),
        (CrawlItem(CrawlKind.SEARCH_QUERY, 2, 1, Mall.RAKUTEN, "   "), "empty keyword"),
        (CrawlItem(CrawlKind.CATEGORY, 3, 1, Mall.RAKUTEN, "tv", limit=0), "max_products must be positive"),
    ],
)
def test_invalid_items_are_rejected_with_a_reason(item, reason):
    with pytest.raises(InvalidCrawlItem, match=reason):
        item.validate()
