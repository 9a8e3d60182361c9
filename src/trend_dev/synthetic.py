"""A seeded, deterministic synthetic marketplace with ground truth.

Products live in a few categories; each review is a handful of sentences, and
every sentence either talks about one known *aspect* with a known *polarity*
or is filler (aspect None). Later stages measure cluster purity, sentiment
accuracy and viewpoint-mapping F1 against this truth.

The same (seed, sizes) always yields the same marketplace, so an evaluation
can regenerate the truth instead of storing it.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

from trend.status import Mall

# aspect -> (subjects, positive predicates, negative predicates)
ASPECTS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "battery": (
        ["The battery", "Battery life", "The battery on this one", "Its battery"],
        [
            "lasts all day without a recharge",
            "easily gets me through a long flight",
            "holds its charge for days",
            "is outstanding and charges quickly",
        ],
        [
            "dies after a couple of hours",
            "drains far too fast",
            "barely survives my commute",
            "stopped holding a charge within a month",
        ],
    ),
    "sound": (
        ["The sound", "Audio quality", "The bass", "Sound quality"],
        [
            "is crisp and well balanced",
            "is rich and detailed at any volume",
            "is punchy without being muddy",
            "blew me away",
        ],
        [
            "is tinny and flat",
            "distorts badly at high volume",
            "is muffled and lacks clarity",
            "is disappointing for the price",
        ],
    ),
    "comfort": (
        ["The fit", "Wearing it", "The padding", "Comfort"],
        [
            "is comfortable even after hours",
            "feels soft and light on my head",
            "never hurts my ears",
            "is excellent for long sessions",
        ],
        [
            "hurts after twenty minutes",
            "feels tight and uncomfortable",
            "makes my ears sore",
            "is too heavy to wear for long",
        ],
    ),
    "price": (
        ["The price", "For the money it", "The value", "At this price it"],
        ["is a bargain", "is great value for money", "is very reasonable", "is cheaper than anything comparable"],
        [
            "is way too expensive",
            "is overpriced for what you get",
            "is not worth the money",
            "costs far more than it should",
        ],
    ),
    "durability": (
        ["The build", "The hinge", "Build quality", "The material"],
        [
            "feels solid and sturdy",
            "survived several drops without a scratch",
            "is robust and well made",
            "still looks new after a year",
        ],
        [
            "cracked after a week",
            "broke the first time I dropped it",
            "feels cheap and flimsy",
            "started falling apart within a month",
        ],
    ),
    "shipping": (
        ["Delivery", "The package", "Shipping", "The parcel"],
        [
            "arrived a day early",
            "came quickly and well packed",
            "was fast and the box was intact",
            "arrived right on schedule",
        ],
        [
            "arrived two weeks late",
            "came damaged and crushed",
            "took forever to arrive",
            "was lost and had to be resent",
        ],
    ),
    "design": (
        ["The design", "The colour", "The look", "Its style"],
        [
            "is sleek and modern",
            "looks elegant on my desk",
            "is beautiful and minimal",
            "gets compliments from everyone",
        ],
        [
            "looks dated and ugly",
            "is bulky and unattractive",
            "looks cheap in person",
            "is much uglier than the photos",
        ],
    ),
    "usability": (
        ["The controls", "Setup", "The app", "Pairing"],
        [
            "are intuitive and easy to use",
            "took less than a minute",
            "works smoothly every time",
            "is simple even for my parents",
        ],
        ["are confusing and unresponsive", "was a frustrating mess", "crashes constantly", "fails half the time"],
    ),
}

FILLER = [
    "I bought this as a gift for my brother.",
    "We ordered it last month.",
    "My wife picked this one out.",
    "I have owned several of these over the years.",
    "This is my second purchase from this brand.",
    "I read many reviews before deciding.",
    "It came in a plain cardboard box.",
    "I use it mostly on weekends.",
]

CATEGORIES: dict[str, tuple[list[str], list[str]]] = {
    # category -> (product nouns, aspects its reviews talk about)
    "headphones": (
        ["Wireless Headphones", "Noise Cancelling Headset", "Studio Headphones"],
        ["battery", "sound", "comfort", "price", "durability", "shipping"],
    ),
    "speakers": (
        ["Bluetooth Speaker", "Portable Speaker", "Smart Speaker"],
        ["battery", "sound", "price", "durability", "design", "usability"],
    ),
    "smartwatches": (
        ["Fitness Watch", "Smart Watch", "Sport Tracker"],
        ["battery", "comfort", "price", "design", "usability", "shipping"],
    ),
}
BRANDS = ["Aurora", "Bolt", "Cedar", "Dune", "Echo", "Flux", "Grove", "Helix"]
ADJECTIVES = ["Pro", "Lite", "Max", "Air", "Neo", "Plus"]


@dataclass(frozen=True)
class SyntheticSentence:
    text: str
    aspect: str | None
    polarity: str | None  # "positive" | "negative" | None for filler


@dataclass
class SyntheticProduct:
    mall_id: int
    mall_product_id: str
    name: str
    description: str
    category_code: str
    brand: str
    price: float
    specifications: dict


@dataclass
class SyntheticReview:
    mall_id: int
    mall_review_id: str
    mall_product_id: str
    title: str
    rating: int
    sentences: list[SyntheticSentence] = field(default_factory=list)

    @property
    def content(self) -> str:
        return " ".join(s.text for s in self.sentences)


@dataclass
class Marketplace:
    products: list[SyntheticProduct]
    reviews: list[SyntheticReview]

    def reviews_of(self, mall_product_id: str) -> list[SyntheticReview]:
        return [r for r in self.reviews if r.mall_product_id == mall_product_id]

    def truth(self) -> dict[tuple[str, int], SyntheticSentence]:
        """(mall_review_id, sentence_index) -> the sentence with its aspect and polarity."""
        return {(r.mall_review_id, i): s for r in self.reviews for i, s in enumerate(r.sentences)}

    def sentence_count(self) -> int:
        return sum(len(r.sentences) for r in self.reviews)

    def write_dump(self, folder: Path | str) -> Path:
        """Write products.jsonl, reviews.jsonl and truth.jsonl, the local source's dump format."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "products.jsonl").open("w", encoding="utf-8") as out:
            for p in self.products:
                out.write(json.dumps(asdict(p), ensure_ascii=False) + "\n")
        with (
            (folder / "reviews.jsonl").open("w", encoding="utf-8") as out,
            (folder / "truth.jsonl").open("w", encoding="utf-8") as truth,
        ):
            for r in self.reviews:
                row = {k: v for k, v in asdict(r).items() if k != "sentences"}
                row["content"] = r.content
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                for i, s in enumerate(r.sentences):
                    truth.write(
                        json.dumps({"mall_review_id": r.mall_review_id, "sentence_index": i, **asdict(s)}) + "\n"
                    )
        return folder


def _sentence(rng: random.Random, aspect: str, polarity: str) -> SyntheticSentence:
    subjects, positives, negatives = ASPECTS[aspect]
    predicate = rng.choice(positives if polarity == "positive" else negatives)
    ending = "!" if rng.random() < 0.2 else "."
    return SyntheticSentence(f"{rng.choice(subjects)} {predicate}{ending}", aspect, polarity)


def generate(
    seed: int = 7,
    products_per_category: int = 4,
    reviews_per_product: int = 12,
    categories: list[str] | None = None,
    mall_id: int = Mall.SYNTHETIC,
) -> Marketplace:
    """Build a marketplace. Each product has a hidden quality per aspect that drives polarity."""
    rng = random.Random(seed)
    products: list[SyntheticProduct] = []
    reviews: list[SyntheticReview] = []
    for category in categories or list(CATEGORIES):
        nouns, aspects = CATEGORIES[category]
        for n in range(products_per_category):
            brand = rng.choice(BRANDS)
            noun = nouns[n % len(nouns)]
            pid = f"SYN-{category[:3].upper()}-{n + 1:04d}"
            name = f"{brand} {noun} {rng.choice(ADJECTIVES)} {n + 1}"
            quality = {a: rng.uniform(0.1, 0.9) for a in aspects}
            products.append(
                SyntheticProduct(
                    mall_id=int(mall_id),
                    mall_product_id=pid,
                    name=name,
                    description=f"{name}: {noun.lower()} by {brand} in the {category} range.",
                    category_code=category,
                    brand=brand,
                    price=round(rng.uniform(20, 300), 2),
                    specifications={"colour": rng.choice(["black", "white", "blue"]), "weight_g": rng.randint(80, 600)},
                )
            )
            for r in range(reviews_per_product):
                sentences: list[SyntheticSentence] = []
                for aspect in rng.sample(aspects, rng.randint(1, 3)):
                    polarity = "positive" if rng.random() < quality[aspect] else "negative"
                    sentences.append(_sentence(rng, aspect, polarity))
                if rng.random() < 0.3:
                    sentences.insert(rng.randint(0, len(sentences)), SyntheticSentence(rng.choice(FILLER), None, None))
                pos = sum(s.polarity == "positive" for s in sentences)
                neg = sum(s.polarity == "negative" for s in sentences)
                share = pos / (pos + neg) if pos + neg else 0.5
                rating = max(1, min(5, round(1 + 4 * share + rng.uniform(-0.4, 0.4))))
                reviews.append(
                    SyntheticReview(
                        mall_id=int(mall_id),
                        mall_review_id=f"{pid}-R{r + 1:04d}",
                        mall_product_id=pid,
                        title=f"Review {r + 1} of {name}",
                        rating=rating,
                        sentences=sentences,
                    )
                )
    return Marketplace(products, reviews)
