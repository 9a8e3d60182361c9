"""The incremental job end to end: local Spark reading MariaDB over JDBC, real embeddings."""

import json

import pytest

from tests.spvp import seed
from tests.spvp.fake_llm import KEYWORDS, FakeLLM
from trend.crawl.local_source import MarketplaceDump, crawl_all_reviews
from trend.db import connect, fetch_all
from trend.spvp.runner import InjectedFailure, run
from trend.spvp.settings import SpvpConfig
from trend.spvp.viewpoints import parse_category, read_file, save_category
from trend.status import Mall
from trend_dev import synthetic

pytestmark = pytest.mark.spark


@pytest.fixture
def world(db, tmp_path):
    market = seed.load_market(tmp_path, seed=5, products_per_category=1, reviews_per_product=5)
    category = seed.load_viewpoints(db)
    dataset = seed.make_dataset(db, category, seed.product_ids(db))
    return market, category, dataset


def _copy_of_category(db, name: str, extra: list[dict] | None = None) -> int:
    c = read_file(seed.VIEWPOINT_FILE)
    doc = {
        "category": name,
        "viewpoints": [
            {"ordinal": v.ordinal, "name": v.name, "description": v.description, "keywords": list(v.keywords)}
            for v in c.viewpoints
        ]
        + (extra or []),
    }
    return save_category(db["ds_analyzer"], parse_category(doc))


def test_full_run_maps_every_sentence_and_completes(db, spark, world):
    market, category, dataset = world
    ids = seed.sentence_ids(db)
    report = run(spark, dataset, SpvpConfig(batch_size=16))
    assert report.status == "completed" and report.sentences == len(ids)
    assert report.batches == -(-len(ids) // 16)
    assert seed.history(db, dataset) == {"spvp_status": 3, "spvp_error": None}
    assert set(seed.last_ids(db, category).values()) == {max(ids)}

    # The mappings agree with the synthetic truth and carry the right product.
    rows = fetch_all(
        db["analyzer_v2"],
        "SELECT s.id, s.sentence AS text, p.mall_product_id FROM review_sentences s "
        "JOIN reviews r ON r.id = s.review_id JOIN products p ON p.id = r.product_id",
    )
    text, product = {r["id"]: r["text"] for r in rows}, {r["id"]: r["mall_product_id"] for r in rows}
    aspect = {s.text: s.aspect for s in market.truth().values()}
    names = {
        v["ordinal_number"]: v["name"].lower()
        for v in fetch_all(db["ds_analyzer"], "SELECT ordinal_number, name FROM specific_viewpoints")
    }
    mapped = seed.mappings(db, category)
    assert all(product[s] == p for s, _, p in mapped)
    correct = sum(aspect[text[s]] == names[o] for s, o, _ in mapped)
    relevant = sum(aspect[text[i]] is not None for i in ids)
    assert correct / len(mapped) > 0.85 and correct / relevant > 0.85

    # Nothing left to do: a second run is skipped, a forced re-run maps nothing new.
    assert run(spark, dataset, SpvpConfig()).status == "skipped"
    again = run(spark, dataset, SpvpConfig(), rerun=True)
    assert (again.status, again.sentences) == ("completed", 0)
    assert seed.mappings(db, category) == mapped


def test_crash_mid_run_then_rerun_gives_no_duplicates_and_no_gaps(db, spark, world):
    _, category, dataset = world
    ids = seed.sentence_ids(db)
    reference_category = _copy_of_category(db, "reference")
    reference = seed.make_dataset(db, reference_category, seed.product_ids(db))
    run(spark, reference, SpvpConfig(batch_size=1000))
    expected = {(s, o) for s, o, _ in seed.mappings(db, reference_category)}

    with pytest.raises(InjectedFailure):
        run(spark, dataset, SpvpConfig(batch_size=8, fail_after_batches=2))
    history = seed.history(db, dataset)
    assert history["spvp_status"] == 9 and "injected failure after 2" in history["spvp_error"]
    committed_up_to = ids[15]
    assert set(seed.last_ids(db, category).values()) == {committed_up_to}
    partial = {(s, o) for s, o, _ in seed.mappings(db, category)}
    assert partial == {(s, o) for s, o in expected if s <= committed_up_to}

    resumed = run(spark, dataset, SpvpConfig(batch_size=8), rerun=True)
    assert resumed.low == committed_up_to and resumed.sentences == len(ids) - 16
    final = seed.mappings(db, category)
    assert len(final) == len(set((s, o) for s, o, _ in final))
    assert {(s, o) for s, o, _ in final} == expected
    assert seed.history(db, dataset)["spvp_status"] == 3


def test_new_viewpoint_and_new_sentences_are_processed_incrementally(db, spark, world, tmp_path):
    _, category, dataset = world
    run(spark, dataset, SpvpConfig(batch_size=50))
    before = seed.mappings(db, category)
    old_high = max(seed.sentence_ids(db))

    # A ninth viewpoint joins the category (last_object_id 0) and new reviews arrive.
    _copy_of_category(
        db,
        "synthetic-electronics",
        extra=[
            {
                "ordinal": 9,
                "name": "Value",
                "description": "Value for money and the price paid.",
                "keywords": ["price", "value for money", "worth the money"],
            }
        ],
    )
    seed.load_market(tmp_path, seed=6, products_per_category=2, reviews_per_product=3, categories=["speakers"])
    new_ids = [i for i in seed.sentence_ids(db) if i > old_high]
    second = seed.make_dataset(db, category, seed.product_ids(db))
    report = run(spark, second, SpvpConfig(batch_size=10))
    assert (report.low, report.high_water) == (0, max(new_ids))
    after = seed.mappings(db, category)
    old_rows = [m for m in after if m[1] != 9 and m[0] <= old_high]
    assert old_rows == [m for m in before]  # the first eight viewpoints did not redo old sentences
    value_old = [m for m in after if m[1] == 9 and m[0] <= old_high]
    price_old = [m for m in before if m[1] == 4]
    assert value_old and len(value_old) >= len(price_old) // 2  # the newcomer caught up on old sentences
    assert any(m[0] > old_high for m in after)  # and everyone mapped the new ones
    assert set(seed.last_ids(db, category).values()) == {max(new_ids)}
    assert seed.history(db, second)["spvp_status"] == 3


def test_uncertain_sentences_go_to_the_llm_backend(db, spark, world, monkeypatch):
    _, _category, dataset = world
    monkeypatch.setenv("QWEN_API_KEY", "qw-test")
    ids = seed.sentence_ids(db)
    with FakeLLM() as fake:
        config = SpvpConfig.from_dict(
            {
                "backend": "openai",
                "batch_size": 20,
                "offline": {"band": 2.0},  # everything is "uncertain"
                "openai": {
                    "base_url": fake.base_url,
                    "model": "qwen-test",
                    "sentences_per_request": 8,
                    "concurrency": 2,
                    "backoff_seconds": 0.01,
                },
            }
        )
        report = run(spark, dataset, config)
    assert report.routing.sent_to_llm == len(ids) and report.routing.llm_share == 1.0
    assert report.usage.requests == len(fake.requests) > 0 and report.usage.total_tokens > 0
    rows = fetch_all(
        db["ds_analyzer"], "SELECT sentence_id, viewpoint_ordinal_number AS o, backend FROM review_sentence_spvp"
    )
    texts = {
        r["id"]: r["sentence"].lower()
        for r in fetch_all(db["analyzer_v2"], "SELECT id, sentence FROM review_sentences")
    }
    expected = {(i, o) for i, t in texts.items() for o, k in KEYWORDS.items() if k in t}
    assert {(r["sentence_id"], r["o"]) for r in rows} == expected and expected
    assert {r["backend"] for r in rows} == {"openai"}
    assert json.loads(config.to_json())["backend"] == "openai"


def _sentences_of(db, products: list[int]) -> list[int]:
    conn = db["analyzer_v2"]
    conn.commit()
    rows = fetch_all(
        conn,
        "SELECT s.id FROM review_sentences s JOIN reviews r ON r.id = s.review_id "
        f"WHERE r.product_id IN ({', '.join(['%s'] * len(products))}) ORDER BY s.id",
        products,
    )
    return [int(r["id"]) for r in rows]


def test_spvp_maps_only_the_datasets_sentences_and_ignores_unrelated_broken_products(db, spark, world):
    first, *_, last = seed.product_ids(db)
    cur = db["analyzer_v2"].cursor()
    cur.execute(  # an unrelated product, its sentences inside the dataset's id range, lost its embeddings
        "UPDATE review_sentences s JOIN reviews r ON r.id = s.review_id SET s.embedding = NULL WHERE r.product_id = %s",
        (first,),
    )
    db["analyzer_v2"].commit()
    other_category = _copy_of_category(db, "scoped")
    dataset = seed.make_dataset(db, other_category, [last])

    report = run(spark, dataset, SpvpConfig(batch_size=16))

    mine = _sentences_of(db, [last])
    assert report.status == "completed" and report.sentences == len(mine)
    assert {s for s, _, _ in seed.mappings(db, other_category)} <= set(mine)
    assert set(seed.last_ids(db, other_category).values()) == {max(mine)}
    assert seed.history(db, dataset)["spvp_status"] == 3


def test_two_datasets_sharing_a_category_each_get_every_sentence_mapped_once(db, spark, world):
    first, second, third = seed.product_ids(db)
    reference_category = _copy_of_category(db, "reference")
    reference = seed.make_dataset(db, reference_category, [first, second, third])
    run(spark, reference, SpvpConfig(batch_size=1000))
    expected = {(s, o) for s, o, _ in seed.mappings(db, reference_category)}

    shared = _copy_of_category(db, "shared")
    a = seed.make_dataset(db, shared, [second, third])
    run(spark, a, SpvpConfig(batch_size=8))
    watermark = max(_sentences_of(db, [second, third]))
    assert set(seed.last_ids(db, shared).values()) == {watermark}

    # B holds the first product, whose sentences all lie below A's watermark: B backfills them
    b = seed.make_dataset(db, shared, [first, second])
    report = run(spark, b, SpvpConfig(batch_size=8))
    assert report.status == "completed" and report.backfilled == len(_sentences_of(db, [first]))
    assert report.sentences == 0  # nothing above the watermark: B's other sentences came with A
    mapped = seed.mappings(db, shared)
    assert len(mapped) == len({(s, o) for s, o, _ in mapped})  # once per (sentence, viewpoint)
    assert {(s, o) for s, o, _ in mapped} == expected
    assert seed.history(db, b)["spvp_status"] == 3 and set(seed.last_ids(db, shared).values()) == {watermark}

    # a manual reset to 0 drops the mappings; re-running A maps every joined dataset's sentences
    # again (B's first product too: B joined, so its sentences count for the watermark)
    from trend.spvp.progress import reset_progress

    reset_progress(db["ds_analyzer"], shared, 0)
    again = run(spark, a, SpvpConfig(batch_size=1000), rerun=True)
    assert (again.low, again.backfilled) == (0, 0)
    assert {(s, o) for s, o, _ in seed.mappings(db, shared)} == expected


def test_llm_backend_without_key_fails_the_dataset_with_the_reason(db, spark, world, monkeypatch):
    _, _category, dataset = world
    monkeypatch.delenv("QWEN_API_KEY", raising=False)
    config = SpvpConfig.from_dict({"backend": "openai", "openai": {"base_url": "http://127.0.0.1:9/v1"}})
    with pytest.raises(Exception, match="no API key"):
        run(spark, dataset, config)
    history = seed.history(db, dataset)
    assert history["spvp_status"] == 9 and history["spvp_error"].startswith("E2007 LLM_NOT_CONFIGURED")


def test_llm_decisions_become_examples_and_the_llm_share_falls_run_over_run(db, spark, tmp_path, monkeypatch):
    """Run 1 (zero-shot) sends its uncertain sentences to the (fake, keyword) LLM and stores its
    decisions; run 2, on new sentences of the same kind, fits on them and sends a smaller share."""
    monkeypatch.setenv("QWEN_API_KEY", "qw-test")
    seed.load_market(tmp_path, seed=5, products_per_category=2, reviews_per_product=16)
    doc = {
        "category": "learner",
        "viewpoints": [
            {"ordinal": 1, "name": "Battery", "description": "battery life and charging"},
            {"ordinal": 2, "name": "Price", "description": "price and value for money"},
            {"ordinal": 3, "name": "Shipping", "description": "shipping and delivery of the parcel"},
        ],
    }
    category = save_category(db["ds_analyzer"], parse_category(doc))
    first_products = seed.product_ids(db)
    a = seed.make_dataset(db, category, first_products)
    with FakeLLM() as fake:
        config = SpvpConfig.from_dict(
            {
                "backend": "openai",
                "batch_size": 100,
                "offline": {"min_examples": 3},  # a small test market: few LLM decisions per viewpoint
                "openai": {"base_url": fake.base_url, "model": "qwen-test", "sentences_per_request": 10},
            }
        )
        run1 = run(spark, a, config)
        s1 = run1.routing.llm_share
        stored = fetch_all(
            db["ds_analyzer"],
            "SELECT sentence_hash, viewpoint_ordinal_number AS o, source, sentence_id FROM spvp_examples "
            "WHERE viewpoint_category_id = %s",
            (category,),
        )
        assert s1 > 0 and run1.learned == len(stored) > 0 and {r["source"] for r in stored} == {"llm"}
        assert len({r["sentence_id"] for r in stored}) <= run1.routing.sent_to_llm
        assert "0 supervised + 3 prototype" in run1.mapper

        # Re-running the same dataset from scratch stores no decision twice.
        from trend.spvp.progress import reset_progress

        reset_progress(db["ds_analyzer"], category, 0)
        run(spark, a, config, rerun=True)
        again = fetch_all(
            db["ds_analyzer"],
            "SELECT sentence_hash, viewpoint_ordinal_number AS o, COUNT(*) AS n FROM spvp_examples "
            "WHERE viewpoint_category_id = %s GROUP BY sentence_hash, viewpoint_ordinal_number",
            (category,),
        )
        assert all(r["n"] == 1 for r in again)
        assert {(r["sentence_hash"], r["o"]) for r in stored} <= {(r["sentence_hash"], r["o"]) for r in again}

        # New, similar reviews: a second dataset of the category, its mapper fitted on the examples.
        market = synthetic.generate(seed=6, products_per_category=2, reviews_per_product=8, mall_id=Mall.RAKUTEN)
        crawl_all_reviews(MarketplaceDump.load(market.write_dump(tmp_path / "more")), lambda: connect("analyzer_v2"))
        db["analyzer_v2"].commit()  # end the connection's snapshot: see the new products
        b = seed.make_dataset(db, category, [p for p in seed.product_ids(db) if p not in first_products])
        run2 = run(spark, b, config)
    s2 = run2.routing.llm_share
    assert run2.sentences > 0 and "supervised" in run2.mapper and "llm" in run2.mapper
    assert not run2.mapper.startswith("0 supervised")
    assert s2 < s1, (s1, s2, run1.mapper, run2.mapper)
    print(f"LLM share run 1 {s1:.1%} -> run 2 {s2:.1%}; mapper run 2: {run2.mapper}")
