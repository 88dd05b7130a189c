"""Text helpers shared by speech and subtitles: normalisation, similarity, script and Chinese variant."""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Compare on content only: width-folded, lower case, no punctuation, symbols or spaces."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(char for char in folded if unicodedata.category(char)[0] in "LN")


def similarity(a: str, b: str) -> float:
    """Character-level agreement of two texts in [0, 1] (1: same characters after normalising)."""
    left, right = normalise(a), normalise(b)
    if not left and not right:
        return 1.0
    return SequenceMatcher(None, left, right, autojunk=False).ratio()


def collapse_spaces(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def has_latin(text: str) -> bool:
    return _LATIN.search(text) is not None


def to_simplified(text: str) -> str:
    """Traditional → Simplified by character (zh-hans: no regional word substitutions)."""
    if not has_cjk(text):
        return text
    import zhconv

    return zhconv.convert(text, "zh-hans")
