"""SemEval-2016 ABSA XML with its labels: reviews → sentences → <Opinion category="E#A">.

Builds the evaluation's viewpoint category: one viewpoint per ENTITY#ATTRIBUTE among
the N most frequent, described in words (zero-shot) and, given a training file,
with its labelled sentences as few-shot examples.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from trend.spvp.viewpoints import Viewpoint, ViewpointCategory

ATTRIBUTE_WORDS = {
    "GENERAL": "overall opinion",
    "PRICE": "price and value",
    "PRICES": "prices and value",
    "QUALITY": "quality",
    "OPERATION_PERFORMANCE": "performance and speed",
    "DESIGN_FEATURES": "design and features",
    "USABILITY": "ease of use",
    "CONNECTIVITY": "ports and connectivity",
    "PORTABILITY": "weight, size and portability",
    "MISCELLANEOUS": "other aspects",
    "STYLE_OPTIONS": "style and options",
}
ENTITY_WORDS = {
    "LAPTOP": "the laptop",
    "OS": "the operating system",
    "HARD_DISC": "the hard drive",
    "MULTIMEDIA_DEVICES": "speakers, camera and audio",
    "HARDWARE": "the hardware",
    "SUPPORT": "customer support and service",
    "COMPANY": "the manufacturer",
    "RESTAURANT": "the restaurant",
    "FOOD": "the food",
    "DRINKS": "the drinks",
    "SERVICE": "the service and staff",
    "AMBIENCE": "the atmosphere and decor",
    "LOCATION": "the location",
}


class SemEvalFormatError(ValueError):
    pass


@dataclass(frozen=True)
class LabelledSentence:
    sentence_id: str
    text: str
    categories: frozenset[str]


def parse(path: Path | str) -> list[LabelledSentence]:
    path = Path(path)
    if not path.is_file():
        raise SemEvalFormatError(f"{path} does not exist")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise SemEvalFormatError(f"{path}: not valid XML ({exc})") from None
    out = []
    for n, sentence in enumerate(root.iter("sentence"), 1):
        text = (sentence.findtext("text") or "").strip()
        if not text:
            continue
        categories = set()
        for opinion in sentence.iter("Opinion"):
            category = (opinion.get("category") or "").strip()
            if "#" not in category:
                raise SemEvalFormatError(
                    f"{path}: sentence {sentence.get('id') or n} has an Opinion "
                    f"without an ENTITY#ATTRIBUTE category ({category!r})"
                )
            categories.add(category.upper())
        out.append(LabelledSentence(sentence.get("id") or str(n), text, frozenset(categories)))
    if not out:
        raise SemEvalFormatError(f"{path}: no <sentence> with text")
    return out


def _words(token: str, table: dict[str, str]) -> str:
    return table.get(token, token.replace("_", " ").lower())


def build_category(
    labelled: list[LabelledSentence],
    top_n: int = 12,
    train: list[LabelledSentence] | None = None,
    max_examples: int = 10000,
    name: str = "semeval",
    negatives: bool = True,
) -> ViewpointCategory:
    """One viewpoint per frequent category (frequency from ``train`` if given, else ``labelled``).

    With ``train`` and ``negatives``, its sentences that carry none of the N categories become the
    category's ``negative_examples`` (the offline mapper learns what maps to nothing).
    """
    counts = Counter(c for s in (train or labelled) for c in s.categories)
    viewpoints = []
    for ordinal, (label, _) in enumerate(counts.most_common(top_n), 1):
        entity, _, attribute = label.partition("#")
        e, a = _words(entity, ENTITY_WORDS), _words(attribute, ATTRIBUTE_WORDS)
        examples = tuple(s.text for s in (train or []) if label in s.categories)[:max_examples]
        viewpoints.append(
            Viewpoint(
                ordinal=ordinal,
                name=label,
                description=f"{a} of {e}",
                keywords=(e.removeprefix("the "), a),
                examples=examples,
            )
        )
    if not viewpoints:
        raise SemEvalFormatError("no labelled opinions to build viewpoints from")
    chosen = {v.name for v in viewpoints}
    negative = tuple(s.text for s in (train or []) if negatives and not s.categories & chosen)
    return ViewpointCategory(
        name=name, description="SemEval ABSA categories", viewpoints=tuple(viewpoints), negative_examples=negative
    )
