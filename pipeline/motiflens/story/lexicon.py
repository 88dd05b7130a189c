"""Keyword matching for dialogue: English as whole words with regular inflections, Chinese and Thai as
substrings (neither script marks word boundaries), Traditional characters folded to Simplified first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from motiflens.dialogue.text import has_cjk, to_simplified

_VOWELS = set("aeiou")


@dataclass(frozen=True)
class TermHit:
    term: str
    begin: int
    end: int


def word_forms(word: str) -> set[str]:
    """Regular inflections of an English word: plural, possessive, past, gerund (irregular forms are
    listed in the definitions themselves)."""
    forms = {word, word + "s", word + "es", word + "'s", word + "s'", word + "ed", word + "ing"}
    if word.endswith("y") and len(word) > 1 and word[-2] not in _VOWELS:
        forms |= {word[:-1] + "ies", word[:-1] + "ied"}
    if word.endswith("e"):
        forms |= {word + "d", word[:-1] + "ing"}
    return forms


def english_pattern(term: str) -> re.Pattern[str]:
    """`jade teapot` matches "jade teapots", "Jade-teapot's"; spaces or hyphens between the words."""
    words = term.lower().split()
    head = [re.escape(word) for word in words[:-1]]
    last = "|".join(re.escape(form) for form in sorted(word_forms(words[-1]), key=len, reverse=True))
    body = r"[\s\-]+".join([*head, f"(?:{last})"])
    return re.compile(rf"(?<![\w'])(?:{body})(?![\w])", re.IGNORECASE)


class TermMatcher:
    """Finds any of a label's terms in a sentence; longest match wins where two terms overlap."""

    def __init__(self, english: Iterable[str], substring: Iterable[str], min_substring_chars: int = 2) -> None:
        self.english = [(term, english_pattern(term)) for term in sorted({t.strip() for t in english if t.strip()})]
        self.substring = sorted(
            {to_simplified(t.strip()) for t in substring if len(t.strip()) >= min_substring_chars},
            key=lambda term: (-len(term), term),
        )

    def __bool__(self) -> bool:
        return bool(self.english or self.substring)

    def find(self, text: str) -> list[TermHit]:
        hits: list[TermHit] = []
        for term, pattern in self.english:
            hits.extend(TermHit(term, m.start(), m.end()) for m in pattern.finditer(text))
        if self.substring:
            # Offsets refer to `text`; zhconv folds characters one for one in practice, checked below.
            folded = to_simplified(text) if has_cjk(text) else text
            same_offsets = len(folded) == len(text)
            for term in self.substring:
                begin = folded.find(term)
                while begin >= 0:
                    end = begin + len(term)
                    hits.append(TermHit(term, begin, end) if same_offsets else TermHit(term, 0, len(text)))
                    begin = folded.find(term, end)
        return _longest_first(hits)


def _longest_first(hits: list[TermHit]) -> list[TermHit]:
    chosen: list[TermHit] = []
    for hit in sorted(hits, key=lambda h: (-(h.end - h.begin), h.begin, h.term)):
        if all(hit.end <= other.begin or hit.begin >= other.end for other in chosen):
            chosen.append(hit)
    return sorted(chosen, key=lambda h: (h.begin, h.term))
