"""Sentence splitting for English and Japanese review text."""

from __future__ import annotations

import re

# End of sentence: . ! ? followed by white space (English), or 。！？ anywhere (Japanese).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])")


def split_sentences(text: str) -> list[str]:
    """Split review text into sentences, keeping the closing punctuation.

    >>> split_sentences("Great sound. Battery is weak!  電池が長持ち。音も良い！")
    ['Great sound.', 'Battery is weak!', '電池が長持ち。', '音も良い！']
    """
    if not text or not text.strip():
        return []
    parts: list[str] = []
    for chunk in re.split(r"[\r\n]+", text):
        pieces = _SENTENCE_END.split(chunk)
        parts.extend(p.strip() for p in pieces if p and p.strip())
    return parts
