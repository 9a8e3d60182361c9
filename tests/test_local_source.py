import numpy as np
import pytest

from trend import embeddings
from trend.crawl.items import CrawlItem, CrawlKind, InvalidCrawlItem
from trend.crawl.local_source import (
    DumpFormatError,
    LocalMarketplaceSource,
    MarketplaceDump,
    crawl_all_reviews,
    main,
    semeval_reviews,
)
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
    dump = MarketplaceDump.load(tmp_path, mall_id=Mall.AMAZON_JP)
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


# As in SemEval-2016 laptops_test.xml: text HTML-escaped before it was put in XML (`&amp;quot;`),
# some of it twice (`&amp;amp;#34;`), train-file rids without a product prefix, restaurant codes.
ESCAPED = """<?xml version="1.0" encoding="UTF-8"?>
<Reviews>
  <Review rid="B00ABC_1_ANONYMOUS"><sentences>
    <sentence id="B00ABC_1_ANONYMOUS:0"><text>And he said&amp;quot; this is &amp;quot;clunky&amp;quot;</text></sentence>
    <sentence id="B00ABC_1_ANONYMOUS:1"><text>   </text></sentence>
    <sentence id="B00ABC_1_ANONYMOUS:2"><text>My 15&amp;amp;#34; Mac, thin &amp;amp; light</text></sentence>
  </sentences></Review>
  <Review rid="79"><sentences><sentence id="79:0"><text>No prefix here.</text></sentence></sentences></Review>
  <Review rid="ADLT#8"><sentences><sentence id="ADLT#8:0"><text>Great pasta.</text></sentence></sentences></Review>
  <Review rid="80"><sentences><sentence id="80:0"><text>Nor here.</text></sentence></sentences></Review>
</Reviews>"""


def _escaped(tmp_path):
    (tmp_path / "reviews_x.xml").write_text(ESCAPED)
    return tmp_path


def test_xml_text_is_html_unescaped_exactly_once(tmp_path):
    [(rid, sentences), *_] = list(semeval_reviews(_escaped(tmp_path) / "reviews_x.xml"))
    assert rid == "B00ABC_1_ANONYMOUS"
    # The empty sentence is left out; ids are kept, so (rid, index) joins back to the XML.
    assert sentences == [
        ("B00ABC_1_ANONYMOUS:0", 'And he said" this is "clunky"'),
        ("B00ABC_1_ANONYMOUS:2", "My 15&#34; Mac, thin & light"),  # escaped twice at the source: once undone
    ]


@pytest.mark.parametrize(
    "product_of, products",
    [
        ("auto", ["B00ABC", "reviews_x", "ADLT", "reviews_x"]),
        ("file", ["reviews_x"] * 4),
        ("group:3", ["reviews_x-1", "reviews_x-1", "reviews_x-1", "reviews_x-2"]),
        (r"regex:^(\w+?)(?:_|#|$)", ["B00ABC", "79", "ADLT", "80"]),
    ],
)
def test_xml_product_of_each_review(tmp_path, product_of, products):
    dump = MarketplaceDump.load(_escaped(tmp_path), mall_id="1", product_of=product_of)
    by_review = {r.mall_review_id: r.mall_product_id for rs in dump.reviews.values() for r in rs}
    assert [by_review[rid] for rid in ("B00ABC_1_ANONYMOUS", "79", "ADLT#8", "80")] == products
    assert {m for m, _ in dump.products} == {Mall.AMAZON_JP}


@pytest.mark.parametrize(
    "mall_id, product_of, error",
    [
        (None, "auto", "names no mall: set TP_LOCAL_MARKETPLACE_MALL_ID"),
        ("", "auto", "names no mall"),
        ("12345", "auto", "unknown mall_id '12345'"),
        ("1", "rid-prefix", "rid '79' has no product prefix"),
        ("1", "regex:^B", "rid '79' does not match"),
        ("1", "group:0", "expected auto, rid-prefix"),
        ("1", "regex:(", "invalid regular expression"),
    ],
)
def test_xml_options_fail_clearly(tmp_path, mall_id, product_of, error):
    with pytest.raises(DumpFormatError, match=error):
        MarketplaceDump.load(_escaped(tmp_path), mall_id=mall_id, product_of=product_of)


def test_jsonl_dumps_need_no_stated_mall_and_env_is_read(tmp_path):
    market = synthetic.generate(seed=1, products_per_category=1, reviews_per_product=1)
    folder = market.write_dump(tmp_path / "json")
    assert len(MarketplaceDump.from_env({"TP_LOCAL_MARKETPLACE_DUMP": str(folder)}).products) == len(market.products)
    env = {"TP_LOCAL_MARKETPLACE_DUMP": str(_escaped(tmp_path)), "TP_LOCAL_MARKETPLACE_MALL_ID": "2"}
    dump = MarketplaceDump.from_env({**env, "TP_LOCAL_MARKETPLACE_PRODUCT_OF": "file"})
    assert set(dump.products) == {(Mall.RAKUTEN, "reviews_x")}
    with pytest.raises(DumpFormatError, match="names no mall"):
        MarketplaceDump.from_env({"TP_LOCAL_MARKETPLACE_DUMP": str(tmp_path)})


def test_cli_states_the_mall_or_fails(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TP_LOCAL_MARKETPLACE_MALL_ID", raising=False)
    folder = str(_escaped(tmp_path))
    assert main([folder, "--mall-id", "1"]) == 0
    assert "mall 1 (AMAZON_JP): 3 products" in capsys.readouterr().out
    assert main([folder]) == 2
    assert "names no mall" in capsys.readouterr().out
