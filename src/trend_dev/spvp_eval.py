"""``make eval-spvp``: micro/macro F1, per-viewpoint precision/recall and sentences/s.

    python -m trend_dev.spvp_eval --xml test.xml [--train train.xml] [-n 12] [--config cfg.json]
                                  [--embedding-cache /work/data/cache/minilm.pkl] [--no-baselines]
    python -m trend_dev.spvp_eval                # the synthetic marketplace against its truth

With --train, the configured mapper is printed side by side with two baselines on the same
embeddings and examples: "prototype" (the kNN/prototype mapper before the supervised one) and
"plain LR" (a logistic regression per viewpoint on the embedding only, unweighted, threshold by
cross-validation on the train examples, no text features, no top-1 guarantee).

Sentences are embedded with the same MiniLM model the crawler stores; the timed
part is the mapping (offline classifier + router + LLM if configured), which is
what the Spark job does per batch.
"""

from __future__ import annotations

import argparse
import dataclasses
import pickle
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trend import embeddings
from trend.config import REPO_ROOT
from trend.spvp import offline, semeval
from trend.spvp.router import Router, build_llm
from trend.spvp.settings import SpvpConfig
from trend.spvp.viewpoints import ViewpointCategory, read_file
from trend_dev import synthetic


@dataclass
class Scores:
    micro_precision: float
    micro_recall: float
    micro_f1: float
    macro_f1: float
    per_viewpoint: list[tuple[str, float, float, float, int]]  # name, P, R, F1, support


def _prf(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def score(truth: np.ndarray, predicted: np.ndarray, names: list[str]) -> Scores:
    tp = (truth & predicted).sum(axis=0).astype(float)
    fp = (~truth & predicted).sum(axis=0).astype(float)
    fn = (truth & ~predicted).sum(axis=0).astype(float)
    micro = _prf(tp.sum(), fp.sum(), fn.sum())
    per = [(n, *_prf(tp[j], fp[j], fn[j]), int(truth[:, j].sum())) for j, n in enumerate(names)]
    return Scores(*micro, float(np.mean([p[3] for p in per])) if per else 0.0, per)


@dataclass
class EvalResult:
    scores: Scores
    sentences: int
    seconds: float
    llm_share: float
    uncertain_share: float
    thresholds: np.ndarray
    fit_seconds: float = 0.0
    mapper: str = ""


def evaluate(
    category: ViewpointCategory,
    texts: list[str],
    vectors: np.ndarray,
    truth: np.ndarray,
    config: SpvpConfig,
    encode=embeddings.encode,
) -> EvalResult:
    from trend.spvp.runner import describe

    started = time.perf_counter()
    model = offline.fit(category, encode, config.offline)
    fit_seconds = time.perf_counter() - started
    router = Router(category.ordinals, build_llm(config, category), config.route, config.on_invalid_output)
    started = time.perf_counter()
    predicted = np.zeros(truth.shape, dtype=bool)
    for i in range(0, len(texts), config.batch_size):
        scores = model.scores(vectors[i : i + config.batch_size], texts=texts[i : i + config.batch_size])
        labels, uncertain = model.decide(scores)
        predicted[i : i + config.batch_size], _ = router.resolve(texts[i : i + config.batch_size], labels, uncertain)
    seconds = time.perf_counter() - started
    return EvalResult(
        score(truth, predicted, [v.name for v in category.viewpoints]),
        len(texts),
        seconds,
        router.stats.llm_share,
        router.stats.uncertain / max(1, len(texts)),
        model.thresholds,
        fit_seconds,
        describe(model),
    )


BASELINES = {
    "prototype (before)": {"classifier": "prototype"},
    "plain LR (embedding)": {"tfidf_weight": 0.0, "class_weight": None, "C": 1.0, "top1": False},
}


def baselines(category, texts, vectors, truth, config: SpvpConfig, encode) -> list[tuple[str, EvalResult]]:
    """The baseline mappers, offline only, on the same inputs."""
    out = []
    for name, overrides in BASELINES.items():
        cfg = dataclasses.replace(config, backend="offline", offline=dataclasses.replace(config.offline, **overrides))
        out.append((name, evaluate(category, texts, vectors, truth, cfg, encode)))
    return out


def cached_encoder(path: str | None):
    """embeddings.encode with an on-disk cache (a pickled dict text → vector), for repeated evals."""
    if not path:
        return embeddings.encode
    file = Path(path)
    cache: dict[str, np.ndarray] = pickle.loads(file.read_bytes()) if file.is_file() else {}

    def encode(texts):
        missing = sorted({t for t in texts if t not in cache})
        if missing:
            cache.update(zip(missing, embeddings.encode(missing)))
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(pickle.dumps(cache))
        return np.array([cache[t] for t in texts], dtype=np.float32).reshape(len(texts), embeddings.DIMENSION)

    return encode


def semeval_inputs(xml: str, train: str | None, top_n: int):
    labelled = semeval.parse(xml)
    category = semeval.build_category(labelled, top_n, semeval.parse(train) if train else None)
    names = [v.name for v in category.viewpoints]
    truth = np.array([[n in s.categories for n in names] for s in labelled], dtype=bool)
    return category, [s.text for s in labelled], truth


def synthetic_inputs(seed: int, products_per_category: int, reviews_per_product: int):
    category = read_file(REPO_ROOT / "include" / "viewpoints" / "synthetic.yaml")
    market = synthetic.generate(
        seed=seed, products_per_category=products_per_category, reviews_per_product=reviews_per_product
    )
    sentences = list(market.truth().values())
    names = [v.name.lower() for v in category.viewpoints]
    truth = np.array([[s.aspect == n for n in names] for s in sentences], dtype=bool)
    return category, [s.text for s in sentences], truth


def side_by_side(rows: list[tuple[str, EvalResult]], out=sys.stdout) -> None:
    print(f"{'mapper':<24} {'micro-F1':>8} {'P':>6} {'R':>6} {'macro-F1':>8} {'uncertain':>9} {'fit s':>6}", file=out)
    for name, r in rows:
        s = r.scores
        print(
            f"{name:<24} {s.micro_f1:8.4f} {s.micro_precision:6.3f} {s.micro_recall:6.3f} {s.macro_f1:8.4f} "
            f"{r.uncertain_share:9.1%} {r.fit_seconds:6.1f}",
            file=out,
        )


def report(result: EvalResult, embed_seconds: float, out=sys.stdout) -> None:
    s = result.scores
    if result.mapper:
        print(f"mapper: {result.mapper}", file=out)
    print(f"micro-F1 {s.micro_f1:.4f}", file=out)
    print(f"micro-precision {s.micro_precision:.4f}  micro-recall {s.micro_recall:.4f}", file=out)
    print(f"macro-F1 {s.macro_f1:.4f}", file=out)
    print(f"{'viewpoint':<34} {'P':>6} {'R':>6} {'F1':>6} {'support':>8} {'thr':>6}", file=out)
    for (name, p, r, f1, support), t in zip(s.per_viewpoint, result.thresholds):
        print(f"{name:<34} {p:6.3f} {r:6.3f} {f1:6.3f} {support:8d} {t:6.3f}", file=out)
    rate = result.sentences / result.seconds if result.seconds else float("inf")
    print(
        f"sentences {result.sentences}; mapping {rate:,.0f} sentences/s; "
        f"embedding {result.sentences / embed_seconds if embed_seconds else 0:,.0f} sentences/s; "
        f"share sent to LLM {result.llm_share:.1%} "
        f"(uncertain, i.e. routed with an LLM backend and route=uncertain: {result.uncertain_share:.1%})",
        file=out,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xml", help="SemEval-2016 ABSA XML to evaluate on (default: synthetic marketplace)")
    parser.add_argument("--train", help="SemEval XML whose labelled sentences become few-shot examples")
    parser.add_argument("-n", "--top-n", type=int, default=12, help="viewpoints: the N most frequent categories")
    parser.add_argument("--config", default="", help="SpvpConfig JSON (file or inline); default offline")
    parser.add_argument("--embedding-cache", default="", help="pickle file caching MiniLM vectors (outside the repo)")
    parser.add_argument("--no-baselines", action="store_true", help="skip the baseline mappers")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--products-per-category", type=int, default=8)
    parser.add_argument("--reviews-per-product", type=int, default=20)
    args = parser.parse_args(argv)
    config = SpvpConfig.from_json(args.config)
    try:
        if args.xml:
            category, texts, truth = semeval_inputs(args.xml, args.train, args.top_n)
            source = f"{args.xml}" + (f" (few-shot from {args.train})" if args.train else " (zero-shot)")
        else:
            category, texts, truth = synthetic_inputs(args.seed, args.products_per_category, args.reviews_per_product)
            source = f"synthetic marketplace seed {args.seed} against ground truth"
    except semeval.SemEvalFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"eval-spvp: {source}; {len(texts)} sentences, {len(category.viewpoints)} viewpoints, backend {config.backend}"
    )
    encode = cached_encoder(args.embedding_cache)
    embeddings.encode(["warm-up"])  # model load is not embedding throughput
    started = time.perf_counter()
    vectors = encode(texts)
    embed_seconds = time.perf_counter() - started
    result = evaluate(category, texts, vectors, truth, config, encode)
    report(result, embed_seconds)
    if args.train and not args.no_baselines:
        rows = [*baselines(category, texts, vectors, truth, config, encode), ("this mapper", result)]
        print("side by side (same embeddings, same examples; uncertain = share the router would send to an LLM):")
        side_by_side(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
