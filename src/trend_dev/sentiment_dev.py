"""Sentence-sentiment figures on SemEval ABSA XML, without Spark (fast iteration).

    python -m trend_dev.sentiment_dev --train TRAIN.xml --test TEST.xml [--rated REVIEWS.csv] [--explore]

Gold: a sentence counts when all its <Opinion polarity=...> agree (no opinion: not scored).
pos/neg accuracy = share of gold positive/negative sentences whose score has the right sign
(a score of exactly 0 is wrong); 3-class accuracy = share whose label equals the gold polarity.
The trained head sees TRAIN only; ``--explore`` chooses settings by 5-fold CV on TRAIN only.
``--rated``: a CSV of whole reviews with star ratings (columns ``target`` = "Very Negative" ..
"Very Positive" or 1..5, and ``input`` = text, e.g. a sample of the Amazon full-score set):
its reviews are split into sentences labelled by their review's stars, as the ``ratings``
method does with crawled reviews, and that head is scored on TEST.
Embeddings are cached under /work/data/cache/ (never in the repository).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from trend.analyzer import sentiment_head
from trend.analyzer.sentiment_head import fit_head
from trend.spvp import semeval

CACHE = Path(os.environ.get("TP_DEV_CACHE", "/work/data/cache"))


def embed(texts: Sequence[str]) -> np.ndarray:
    from trend import embeddings

    key = hashlib.sha1("\n".join(texts).encode()).hexdigest()[:16]
    path = CACHE / f"sentiment_minilm_{key}.npy"
    if path.is_file():
        return np.load(path)
    vectors = embeddings.encode(list(texts))
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def accuracies(gold: Sequence[str], labels: Sequence[str], scores: np.ndarray) -> tuple[float, float]:
    gold_a, score_a = np.array(gold), np.asarray(scores)
    polar = gold_a != "neutral"
    sign = np.where(score_a > 0, "positive", np.where(score_a < 0, "negative", "neutral"))
    pos_neg = float((sign[polar] == gold_a[polar]).mean())
    three = float((np.array(labels) == gold_a).mean())
    return pos_neg, three


def line(name: str, gold: Sequence[str], labels: Sequence[str], scores: np.ndarray) -> str:
    pos_neg, three = accuracies(gold, labels, scores)
    return f"sentiment ({name}): pos/neg accuracy={pos_neg:.3f} 3-class accuracy={three:.3f}"


def vader(texts: Sequence[str], threshold: float = 0.05) -> tuple[list[str], np.ndarray]:
    compound = sentiment_head.vader_compound(texts)
    return [_label(v, threshold) for v in compound], compound


def _label(value: float, threshold: float) -> str:
    return "positive" if value >= threshold else "negative" if value <= -threshold else "neutral"


def plain_lr(train_x, train_y, test_x) -> tuple[list[str], np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(max_iter=2000).fit(train_x, train_y)
    proba = model.predict_proba(test_x)
    cls = list(model.classes_)
    score = proba[:, cls.index("positive")] - proba[:, cls.index("negative")]
    return list(model.predict(test_x)), score


def explore(vectors: np.ndarray, texts: list[str], labels: list[str]) -> None:
    """5-fold CV on TRAIN of the head's settings; prints one line per setting."""
    from sklearn.model_selection import StratifiedKFold

    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(vectors, labels))
    for vader_weight in (0.0, 2.0):
        for c in (1.0, 4.0, 16.0):
            sentiment_head.VADER_WEIGHT = vader_weight
            gold, pred, score = [], [], []
            for fit_idx, held_idx in folds:
                head = fit_head(vectors[fit_idx], [texts[i] for i in fit_idx], [labels[i] for i in fit_idx], "cv", c=c)
                lab, sc = head.predict(vectors[held_idx], [texts[i] for i in held_idx])
                gold += [labels[i] for i in held_idx]
                pred += lab
                score.append(sc)
            print(f"cv vader_weight={vader_weight} C={c}: " + line("cv", gold, pred, np.concatenate(score)))
    sentiment_head.VADER_WEIGHT = 2.0


STAR_NAMES = {"very negative": 1, "negative": 2, "neutral": 3, "positive": 4, "very positive": 5}


def rated_sentences(path: str) -> tuple[list[str], list[str]]:
    import pandas as pd

    from trend.text import split_sentences

    frame = pd.read_csv(path)
    texts, labels = [], []
    for target, review in zip(frame["target"], frame["input"], strict=True):
        stars = STAR_NAMES.get(str(target).strip().lower()) or int(target)
        label = sentiment_head.rating_label(stars)
        for sentence in split_sentences(str(review)):
            texts.append(sentence)
            labels.append(str(label))
    return texts, labels


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m trend_dev.sentiment_dev")
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--rated", help="CSV of star-rated reviews for the ratings line")
    parser.add_argument("--explore", action="store_true")
    parser.add_argument("--finetune", type=int, default=0, help="epochs: also fine-tune the encoder (finetuned)")
    args = parser.parse_args(argv)
    train = semeval.sentiment_examples(args.train)
    test = semeval.sentiment_examples(args.test)
    train_texts, train_y = [t for t, _ in train], [y for _, y in train]
    test_texts, test_y = [t for t, _ in test], [y for _, y in test]
    started = time.perf_counter()
    train_x, test_x = embed(train_texts), embed(test_texts)
    print(f"train {len(train)} / test {len(test)} scored sentences; embeddings {time.perf_counter() - started:.1f}s")
    if args.explore:
        explore(train_x, train_texts, train_y)
        return
    print(line("always-positive", test_y, ["positive"] * len(test_y), np.ones(len(test_y))))
    labels, scores = vader(test_texts)
    print(line("vader", test_y, labels, scores))
    print(line("default", test_y, labels, scores) + "  (= VADER, sentiment_method=vader)")
    print(line("plain LR on MiniLM", test_y, *plain_lr(train_x, train_y, test_x)))
    started = time.perf_counter()
    head = fit_head(train_x, train_texts, train_y, args.train)
    print(line("trained", test_y, *head.predict(test_x, test_texts)) + f"  (fit {time.perf_counter() - started:.1f}s)")
    if args.finetune:
        from trend.analyzer.sentiment import score_with_model
        from trend.analyzer.sentiment_finetune import FinetuneSettings, finetuned_model

        started = time.perf_counter()
        folder, cached = finetuned_model(train, args.train, FinetuneSettings(epochs=args.finetune))
        fitted = time.perf_counter() - started
        scored = score_with_model(test_texts, str(folder), 0.05)
        note = f"  ({args.finetune} epochs, {'cached' if cached else f'fit {fitted:.0f}s'})"
        print(line("finetuned", test_y, [s for s, _ in scored], np.array([v for _, v in scored])) + note)
    if args.rated:
        rated_texts, rated_y = rated_sentences(args.rated)
        rated = fit_head(embed(rated_texts), rated_texts, rated_y, args.rated)
        print(line("ratings", test_y, *rated.predict(test_x, test_texts)) + f"  (head from {rated.examples} sentences)")


if __name__ == "__main__":
    main()
