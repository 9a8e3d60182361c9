"""``make eval-real XML="a.xml b.xml" [TRAIN=train.xml]``: the real pipeline on SemEval ABSA XML, scored.

The XML files are loaded as a marketplace by the local marketplace source; a wishlist names
their products (and, with TRAIN, gets the SemEval viewpoint category); then the same code the
DAGs run: crawl_sync (``sync_once``), dataset_create (``create_dataset_for_wishlist``),
analyzer_batch (``trend.analyzer.job.run`` on a local SparkSession), dataset_status_sync
(``sync_dataset_histories``) and spvp_batch (``trend.spvp.runner.run``). The results are read
back from MariaDB and joined to the gold labels on (review rid, sentence index), both taken
from ``local_source.semeval_reviews``.

Which sentences each line scores (TRAIN's labels are supervision, never scored):
- ``clusters``: every sentence of the XML files (TRAIN's too when TRAIN is one of them:
  clustering uses no labels) with exactly one gold category; outliers over all sentences.
  ``clusters (eval files)`` repeats it over the XML files other than TRAIN.
- ``sentiment`` and ``spvp``: the sentences of the XML files other than TRAIN.

Private databases ``real<pid>_*`` (``TP_DB_PREFIX``), dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from trend.status import Mall

TRAINED_KEYS = ("sentiment_method", "sentiment_training_file")
CATEGORY_NAME = "semeval-eval-real"


@dataclass(frozen=True)
class GoldSentence:
    file: str
    sentence_id: str
    text: str
    categories: frozenset[str]
    polarities: frozenset[str]
    is_train: bool


@dataclass
class Options:
    xml: list[Path]
    train: Path | None = None
    mall: Mall = Mall.AMAZON_JP
    product_of: str = "auto"
    top_n: int = 12
    overrides: dict = field(default_factory=dict)  # AnalyzerConfig fields


@dataclass
class Outcome:
    lines: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - started

    def say(self, line: str) -> None:
        self.lines.append(line)
        print(line, flush=True)


def read_gold(paths: Sequence[Path], train: Path | None) -> dict[tuple[str, int], GoldSentence]:
    """Gold labels keyed like the stored sentences: (review rid, sentence index)."""
    from trend.crawl.local_source import semeval_reviews
    from trend.spvp import semeval

    gold: dict[tuple[str, int], GoldSentence] = {}
    for path in paths:
        labelled = {s.sentence_id: s for s in semeval.parse(path)}
        for rid, sentences in semeval_reviews(path):
            if (rid, 0) in gold:
                raise SystemExit(f"eval-real: review rid {rid!r} of {path} is also in {gold[(rid, 0)].file}")
            for index, (sentence_id, text) in enumerate(sentences):
                label = labelled.get(sentence_id)
                if label is None:
                    raise SystemExit(f"eval-real: {path}: sentence {sentence_id!r} has no id semeval.parse knows")
                is_train = train is not None and path.resolve() == train.resolve()
                gold[(rid, index)] = GoldSentence(
                    str(path), sentence_id, text, label.categories, label.polarities, is_train
                )
    return gold


def _dump_folder(paths: Sequence[Path], folder: Path) -> Path:
    """The XML files linked into one folder (the local source reads folders); names kept."""
    for path in paths:
        link = folder / path.name
        if link.exists():
            raise SystemExit(f"eval-real: two XML files named {path.name}")
        link.symlink_to(path.resolve())
    return folder


def seed_wishlist(dump, category=None) -> tuple[int, int | None]:
    """A wishlist naming every product of the dump with its reviews; with ``category``, assigned to it.

    Returns the wishlist id and the category's stored id.
    """
    from trend.db import connect
    from trend.spvp.viewpoints import assign_to_wishlist, save_category
    from trend_dev import wishlists

    conn = connect()
    try:
        cur = conn.cursor()
        wishlist = wishlists.wishlist(cur, "eval-real")
        for m, product in sorted(dump.products):
            wishlists.product_with_reviews(cur, wishlist, product, mall_id=m, max_reviews=1_000_000)
        conn.commit()
    finally:
        conn.close()
    if category is None:
        return wishlist, None
    ds = connect("ds_analyzer")
    try:
        category_id = save_category(ds, category)
        assign_to_wishlist(ds, wishlist, category_id)
    finally:
        ds.close()
    return wishlist, category_id


def crawl_and_create_dataset(dump, wishlist: int) -> int:
    """crawl_sync passes until nothing is left to claim, then dataset_create; the dataset id."""
    from trend.crawl.local_source import LocalMarketplaceSource
    from trend.crawl.sync import sync_once
    from trend.datasets import create_dataset_for_wishlist
    from trend.db import connect

    source = LocalMarketplaceSource(dump, lambda: connect("analyzer_v2"))
    for _ in range(5):
        if sync_once(lambda: connect("gb_console"), source, 100_000, wishlist).claimed == 0:
            break
    conn = connect("ds_analyzer")
    try:
        return create_dataset_for_wishlist(conn, wishlist).dataset_id
    finally:
        conn.close()


def analyse(spark, dataset_id: int, overrides: dict) -> int:
    """analyzer_batch's job code on ``spark``; the k it used."""
    from trend.analyzer.job import run
    from trend.analyzer.settings import AnalyzerConfig

    result = run(spark, dataset_id, AnalyzerConfig.from_dict(overrides))
    if not result.ok:
        raise SystemExit(f"eval-real: analyzer_batch failed: [{result.error_code}] {result.error_message}")
    return int(result.k or 0)


def map_viewpoints(spark, dataset_id: int):
    """dataset_status_sync then spvp_batch's job code; its RunReport."""
    from trend.datasets import sync_dataset_histories
    from trend.db import connect
    from trend.spvp.runner import run
    from trend.spvp.settings import SpvpConfig

    gb = connect("gb_console")
    try:
        sync_dataset_histories(gb)
    finally:
        gb.close()
    return run(spark, dataset_id, SpvpConfig())


def stored_sentences(dataset_id: int) -> list[dict]:
    """Per sentence of the dataset: its key, the analyzer's output and the stored embedding."""
    from trend import embeddings
    from trend.db import connect, fetch_all, table

    conn = connect("ds_analyzer")
    try:
        rows = fetch_all(
            conn,
            f"""SELECT r.mall_review_id, s.sentence_index, s.id AS sentence_id, s.sentence, s.embedding,
                       d.cluster_id, d.is_noise, d.sentiment, d.sentiment_score
                FROM {table("ds_analyzer", "review_sentences")} d
                JOIN {table("analyzer_v2", "review_sentences")} s ON s.id = d.sentence_id
                JOIN {table("analyzer_v2", "reviews")} r ON r.id = s.review_id
                WHERE d.dataset_id = %s ORDER BY s.id""",
            (dataset_id,),
        )
    finally:
        conn.close()
    for row in rows:
        row["vector"] = embeddings.from_blob(row.pop("embedding"))
    return rows


def sentiments(dataset_id: int) -> dict[int, tuple[str | None, float | None]]:
    from trend.db import connect, fetch_all

    conn = connect("ds_analyzer")
    try:
        rows = fetch_all(
            conn,
            "SELECT sentence_id, sentiment, sentiment_score FROM review_sentences WHERE dataset_id = %s",
            (dataset_id,),
        )
    finally:
        conn.close()
    return {int(r["sentence_id"]): (r["sentiment"], r["sentiment_score"]) for r in rows}


def mappings(category_id: int) -> dict[int, set[int]]:
    """sentence id -> ordinals spvp_batch mapped it to."""
    from trend.db import connect, fetch_all

    conn = connect("ds_analyzer")
    try:
        rows = fetch_all(
            conn,
            "SELECT sentence_id, viewpoint_ordinal_number AS o FROM review_sentence_spvp "
            "WHERE viewpoint_category_id = %s",
            (category_id,),
        )
    finally:
        conn.close()
    found: dict[int, set[int]] = {}
    for r in rows:
        found.setdefault(int(r["sentence_id"]), set()).add(int(r["o"]))
    return found


def trained_sentiment_available() -> bool:
    from trend.analyzer.settings import AnalyzerConfig

    return set(TRAINED_KEYS) <= {f.name for f in dataclasses.fields(AnalyzerConfig)}


def write_training_file(train: list, path: Path) -> int:
    """TRAIN sentences with one polarity as {"text", "label"} JSONL; how many."""
    from trend_dev.real_metrics import single_polarity

    rows = [(s.text, single_polarity(s.polarities)) for s in train]
    kept = [{"text": text, "label": label} for text, label in rows if label]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept), encoding="utf-8")
    return len(kept)


def _joined(gold: dict[tuple[str, int], GoldSentence], rows: list[dict]) -> list[tuple[GoldSentence, dict]]:
    """Each stored sentence with its gold sentence; the texts must agree (same parser on both sides)."""
    joined = []
    for row in rows:
        key = (row["mall_review_id"], int(row["sentence_index"]))
        if key not in gold or gold[key].text != row["sentence"]:
            raise SystemExit(f"eval-real: stored sentence {key} does not match the XML ({row['sentence'][:60]!r})")
        joined.append((gold[key], row))
    return joined


def _header(options: Options, joined: list[tuple[GoldSentence, dict]], dataset_id: int) -> str:
    reviews = {r["mall_review_id"] for _, r in joined}
    files = " ".join(str(p) for p in options.xml)
    return (
        f"eval-real: XML {files}; TRAIN {options.train or '-'}; {len(joined)} sentences, {len(reviews)} reviews, "
        f"{len({g.file for g, _ in joined})} files loaded as mall {int(options.mall)} ({options.mall.name}), "
        f"products by {options.product_of}; dataset {dataset_id}"
    )


def _cluster_lines(out: Outcome, joined, k: int) -> None:
    from trend_dev import real_baselines, real_metrics

    cats = [g.categories for g, _ in joined]
    clusters = [real_metrics.NOISE if r["cluster_id"] is None else int(r["cluster_id"]) for _, r in joined]
    noise = [bool(r["is_noise"]) for _, r in joined]
    out.say(real_metrics.cluster_scores(cats, clusters, noise).line())
    evaluated = [i for i, (g, _) in enumerate(joined) if not g.is_train]
    if len(evaluated) < len(joined):
        picked = real_metrics.cluster_scores(
            [cats[i] for i in evaluated], [clusters[i] for i in evaluated], [noise[i] for i in evaluated]
        )
        out.say(picked.line("clusters (eval files)"))
    with out.stage("baseline KMeans"):
        found = real_baselines.kmeans(np.stack([r["vector"] for _, r in joined]), k)
    out.say(real_metrics.cluster_scores(cats, list(found)).line(f"baseline clusters (sklearn KMeans k={k})"))
    gold_k = len({next(iter(c)) for c in cats if len(c) == 1})
    if gold_k != k:  # a reference that knows how many categories there are, not a method
        with out.stage("reference KMeans"):
            found = real_baselines.kmeans(np.stack([r["vector"] for _, r in joined]), gold_k)
        out.say(real_metrics.cluster_scores(cats, list(found)).line(f"reference clusters (sklearn KMeans k={gold_k})"))


def _spvp_lines(out: Outcome, evaluated, category, found: dict[int, set[int]], report) -> None:
    from trend_dev.spvp_eval import score

    names = [v.name for v in category.viewpoints]
    truth = np.array([[n in g.categories for n in names] for g, _ in evaluated], dtype=bool)
    predicted = np.array(
        [[v.ordinal in found.get(int(r["sentence_id"]), ()) for v in category.viewpoints] for _, r in evaluated],
        dtype=bool,
    )
    s = score(truth, predicted, names)
    out.say(f"spvp: micro-F1={s.micro_f1:.3f} macro-F1={s.macro_f1:.3f}  (n={len(evaluated)}, {len(names)} categories)")
    routing = report.routing
    out.say(
        f"spvp router: uncertain share={routing.uncertain / max(1, routing.sentences):.3f} "
        f"LLM share={routing.llm_share:.3f} of {routing.sentences} sentences mapped"
    )


def _train_vectors(train: list, joined, encode: Callable) -> np.ndarray:
    """TRAIN's embeddings: the stored ones when TRAIN is part of the marketplace, else encoded now."""
    stored = {g.sentence_id: r["vector"] for g, r in joined if g.is_train}
    if all(s.sentence_id in stored for s in train):
        return np.stack([stored[s.sentence_id] for s in train])
    return np.asarray(encode([s.text for s in train]))


def _sentiment_baselines(out: Outcome, evaluated, train: list, train_x: np.ndarray) -> None:
    from trend_dev import real_baselines, real_metrics

    gold = [g.polarities for g, _ in evaluated]
    with out.stage("baseline VADER"):
        labels, compound = real_baselines.vader([g.text for g, _ in evaluated])
    out.say("baseline " + real_metrics.sentiment_scores(gold, labels, compound).line("VADER"))
    if not train:
        return
    polar = [i for i, s in enumerate(train) if real_metrics.single_polarity(s.polarities)]
    with out.stage("baseline logistic regression"):
        predicted = real_baselines.logistic_sentiment(
            train_x[polar],
            [real_metrics.single_polarity(train[i].polarities) or "" for i in polar],
            np.stack([r["vector"] for _, r in evaluated]),
        )
    out.say("baseline " + real_metrics.sentiment_scores(gold, predicted).line("logistic regression on MiniLM, TRAIN"))


def _spvp_baseline(out: Outcome, evaluated, category, train: list, train_x: np.ndarray) -> None:
    from trend_dev import real_baselines
    from trend_dev.spvp_eval import score

    names = [v.name for v in category.viewpoints]
    train_y = np.array([[n in s.categories for n in names] for s in train], dtype=bool)
    truth = np.array([[n in g.categories for n in names] for g, _ in evaluated], dtype=bool)
    with out.stage("baseline spvp"):
        predicted = real_baselines.logistic_multilabel(train_x, train_y, np.stack([r["vector"] for _, r in evaluated]))
    s = score(truth, predicted, names)
    out.say(f"baseline spvp (logistic regression per category, threshold by CV on TRAIN): micro-F1={s.micro_f1:.3f}")


def _trained_sentiment(out: Outcome, spark, dataset_id: int, options: Options, train: list, workdir: Path, evaluated):
    """TRAIN as the labelled file: ``finetuned`` (the encoder fine-tuned: the "trained" line) and
    ``trained`` (a head on the stored embeddings, no second encoder pass)."""
    from trend_dev import real_metrics

    if not trained_sentiment_available():
        out.say("sentiment (trained): n/a (sentiment_method not available)")
        return
    path = workdir / "train_sentiment.jsonl"
    write_training_file(train, path)
    for method, name in (("finetuned", "trained"), ("trained", "trained head on stored embeddings")):
        overrides = {
            **options.overrides,
            "sentiment_method": method,
            "sentiment_training_file": str(path),
            "force": True,
        }
        with out.stage(f"analyzer_batch (sentiment_method={method})"):
            analyse(spark, dataset_id, overrides)
        found = sentiments(dataset_id)
        labels = [found[int(r["sentence_id"])] for _, r in evaluated]
        scores = real_metrics.sentiment_scores([g.polarities for g, _ in evaluated], *zip(*labels))
        out.say(scores.line(name) + f"  (sentiment_method={method})")


def run(spark, options: Options, workdir: Path, encode: Callable | None = None) -> Outcome:
    """The pipeline on ``options.xml`` in the current databases (TP_DB_PREFIX), scored; lines printed."""
    from trend import embeddings
    from trend.crawl.local_source import MarketplaceDump
    from trend.spvp import semeval
    from trend_dev import real_metrics

    out = Outcome()
    gold = read_gold(options.xml, options.train)
    train = semeval.parse(options.train) if options.train else []
    eval_files = [p for p in options.xml if not (options.train and p.resolve() == options.train.resolve())]
    if not eval_files:
        raise SystemExit("eval-real: every XML file is TRAIN: nothing to score")
    labelled = [s for p in eval_files for s in semeval.parse(p)]
    category = semeval.build_category(labelled, options.top_n, train, name=CATEGORY_NAME) if train else None
    with out.stage("load + crawl_sync + dataset_create"):
        (workdir / "dump").mkdir(parents=True, exist_ok=True)
        dump = MarketplaceDump.load(_dump_folder(options.xml, workdir / "dump"), options.mall, options.product_of)
        wishlist, category_id = seed_wishlist(dump, category)
        dataset_id = crawl_and_create_dataset(dump, wishlist)
    with out.stage("analyzer_batch"):
        k = analyse(spark, dataset_id, options.overrides)
    joined = _joined(gold, stored_sentences(dataset_id))
    out.say(_header(options, joined, dataset_id) + f"; {len(dump.products)} products")
    evaluated = [(g, r) for g, r in joined if not g.is_train]
    _cluster_lines(out, joined, k)
    default = real_metrics.sentiment_scores(
        [g.polarities for g, _ in evaluated],
        [r["sentiment"] for _, r in evaluated],
        [r["sentiment_score"] for _, r in evaluated],
    )
    out.say(default.line("default"))
    if category is not None and category_id is not None:
        with out.stage("spvp_batch"):
            report = map_viewpoints(spark, dataset_id)
        _spvp_lines(out, evaluated, category, mappings(category_id), report)
        _trained_sentiment(out, spark, dataset_id, options, train, workdir, evaluated)
    train_x = _train_vectors(train, joined, encode or embeddings.encode) if train else np.zeros((0, 0))
    _sentiment_baselines(out, evaluated, train, train_x)
    if category is not None:
        _spvp_baseline(out, evaluated, category, train, train_x)
    out.say("timings (s): " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in out.timings.items()))
    return out


def _value(raw: str):
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw  # a bare string


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xml", nargs="+", type=Path, required=True, help="SemEval ABSA XML files (the marketplace)")
    parser.add_argument("--train", type=Path, help="SemEval XML whose labels are the only supervision (not scored)")
    parser.add_argument("--mall-id", default=str(int(Mall.AMAZON_JP)), help="mall the XML is loaded as (printed)")
    parser.add_argument("--product-of", default="auto", help="local_source product_of rule (auto | rid-prefix | ...)")
    parser.add_argument(
        "-n", "--top-n", type=int, default=12, help="SPVP viewpoints: TRAIN's N most frequent categories"
    )
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="AnalyzerConfig override")
    parser.add_argument("--keep", action="store_true", help="keep the real<pid>_ databases")
    args = parser.parse_args(argv)
    from trend.crawl.local_source import stated_mall
    from trend_dev.benchmarks import analyzer_common

    options = Options(
        xml=args.xml,
        train=args.train,
        mall=stated_mall(args.mall_id, "--mall-id"),
        product_of=args.product_of,
        top_n=args.top_n,
        overrides={key: _value(value) for key, _, value in (item.partition("=") for item in args.set)},
    )
    missing = [str(p) for p in [*options.xml, *([options.train] if options.train else [])] if not p.is_file()]
    if missing:
        parser.error(f"no such file: {', '.join(missing)}")
    prefix = f"real{os.getpid()}_"
    analyzer_common.use_private_databases(prefix)
    spark = analyzer_common.session("eval-real")
    try:
        with tempfile.TemporaryDirectory(prefix="eval-real-") as workdir:
            run(spark, options, Path(workdir))
    finally:
        spark.stop()
        if args.keep:
            print(f"eval-real: databases kept (TP_DB_PREFIX={os.environ['TP_DB_PREFIX']})")
        else:
            from trend import schema

            schema.drop_databases()
    return 0


if __name__ == "__main__":
    sys.exit(main())
