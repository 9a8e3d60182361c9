"""A small, general English review-sentiment lexicon (offline default; nothing to download).

Scores follow VADER's idea: word valences summed, flipped after a negator,
scaled by intensifiers, squashed into [-1, 1]. Not tuned per aspect.
"""

from __future__ import annotations

import math
import re

_POSITIVE = {
    3: "amazing awesome excellent exceptional fantastic flawless incredible outstanding perfect "
    "superb wonderful brilliant love loved loves phenomenal",
    2: "great good nice beautiful comfortable comfy crisp durable easy elegant enjoy enjoyed fast "
    "happy impressive intuitive quick quickly reliable rich robust sleek smooth smoothly solid "
    "sturdy stylish bargain compliments recommend recommended satisfied clear clarity balanced "
    "detailed gorgeous responsive lightweight",
    1: "fine ok okay decent reasonable affordable soft light simple modern minimal early intact "
    "value worth well works punchy lasts holds survived new schedule cheaper charges",
}
_NEGATIVE = {
    3: "terrible horrible awful worst useless garbage hate hated broken broke junk defective",
    2: "bad poor cheap flimsy ugly uncomfortable disappointing disappointed disappointment "
    "overpriced expensive slow confusing frustrating unresponsive crashes crashed damaged "
    "crushed lost dies died drains sore hurts hurt tinny muffled distorts distorted "
    "cracked unattractive dated bulky fails failed failing mess",
    1: "late tight heavy flat lacks lack problem problems issue issues noisy weak forever "
    "apart annoying odd fragile stopped barely",
}
LEXICON: dict[str, float] = {}
for weight, words in _POSITIVE.items():
    LEXICON.update({w: float(weight) for w in words.split()})
for weight, words in _NEGATIVE.items():
    LEXICON.update({w: -float(weight) for w in words.split()})

NEGATORS = {
    "not",
    "no",
    "never",
    "without",
    "nothing",
    "neither",
    "nor",
    "hardly",
    "isn't",
    "wasn't",
    "don't",
    "doesn't",
    "didn't",
    "can't",
    "cannot",
    "won't",
    "aren't",
}
INTENSIFIERS = {
    "very": 1.3,
    "really": 1.3,
    "so": 1.2,
    "extremely": 1.5,
    "super": 1.3,
    "too": 1.2,
    "far": 1.2,
    "way": 1.2,
    "badly": 1.3,
    "constantly": 1.3,
    "totally": 1.3,
    "absolutely": 1.4,
    "easily": 1.2,
}
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def score(text: str, alpha: float = 15.0) -> float:
    """Sentiment in [-1, 1]; 0 when no lexicon word occurs."""
    words = _WORD.findall((text or "").lower())
    total = 0.0
    for i, word in enumerate(words):
        valence = LEXICON.get(word)
        if valence is None:
            continue
        window = words[max(0, i - 3) : i]
        if any(w in NEGATORS for w in window):
            valence *= -0.75
        if i and words[i - 1] in INTENSIFIERS:
            valence *= INTENSIFIERS[words[i - 1]]
        total += valence
    if "!" in (text or "") and total:
        total *= 1.1
    return total / math.sqrt(total * total + alpha)


def label(value: float, threshold: float = 0.05) -> str:
    if value >= threshold:
        return "positive"
    if value <= -threshold:
        return "negative"
    return "neutral"
