"""Negation, questions and refusals: the polarity of a dialogue line, with the scope of each negation.

Sentence embeddings rate "我原谅你了" and "我永远不会原谅你" as near-duplicates, so polarity is read from the
words. A negator (不/没/别/绝不/永远不/并非/never/not/no longer …) governs the words after it up to the end of
its clause (punctuation, or "but"/但是), at most `SCOPE_CHARS_ZH` characters or `SCOPE_WORDS_EN` words; a cue
phrase inside that span is negated ("I will never *forgive* you"), one outside it is not ("I won't cry, I
*forgive* you"). Fixed expressions that contain a negator but do not negate (对不起, 不得不, 忍不住, 没关系,
"not only") are masked first. A reply that only refuses ("休想。", "No way.") turns down the line before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Matched longest first, so that 永远不 wins over 不.
_ZH_NEGATORS = (
    "永远不", "永远没", "再也不", "再也没", "从来不", "从来没", "从不", "从没", "绝不", "决不", "绝对不",
    "毫不", "并非", "并不", "并没", "不再", "不会", "不能", "不要", "不肯", "不想", "不配", "没有", "没",
    "不", "别", "未", "勿", "莫", "休想", "甭",
)  # fmt: skip
#: Words that hold a negator's character without negating anything after it.
_ZH_NOT_NEGATION = (
    "对不起", "不得不", "不得了", "了不起", "忍不住", "舍不得", "来不及", "差不多", "说不定", "不过", "不管",
    "不论", "不仅", "不但", "不断", "不久", "不少", "不同", "不然", "要不", "不好意思", "没关系", "没事",
    "不客气", "不用谢", "不错", "不如", "不禁", "受不了", "怪不得", "免不了", "少不了", "离不开", "不停",
    "没想到", "不知不觉", "不要紧", "未来", "莫非", "别人", "别的", "别墅", "特别", "分别", "告别", "区别",
    "级别", "性别", "离别", "临别", "道别", "辞别", "永别", "未婚", "未必",
)  # fmt: skip
_EN_NEGATORS = (
    "no longer", "not anymore", "never", "not", "no", "nobody", "nothing", "none", "nor", "neither", "without",
    "cannot", "can't", "won't", "don't", "doesn't", "didn't", "isn't", "aren't", "wasn't", "weren't",
    "shouldn't", "wouldn't", "couldn't", "haven't", "hasn't", "hadn't", "mustn't", "ain't",
)  # fmt: skip
_EN_NOT_NEGATION = ("not only", "no doubt", "no matter", "nothing but", "never mind", "no wonder", "not just")
#: Clause ends: a negation does not reach past them.
_CLAUSE_END = re.compile(r"[，,。.！!？?；;：:…\n]|\bbut\b|\bhowever\b|但是|可是|不过|然而", re.IGNORECASE)
SCOPE_CHARS_ZH = 8
SCOPE_WORDS_EN = 6
_EN_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")

#: Whole replies that turn down what was asked (after stripping punctuation and spaces, lower case).
_REFUSALS_ZH = (
    "不", "不行", "不要", "不可能", "休想", "做梦", "没门", "门都没有", "想都别想", "免谈", "绝不", "不会",
    "我不会", "我不原谅", "不原谅", "滚", "你做梦", "晚了", "太晚了", "已经晚了", "不必了", "不需要",
)  # fmt: skip
_REFUSALS_EN = (
    "no", "never", "no way", "not a chance", "not in a million years", "forget it", "too late", "it's too late",
    "dream on", "absolutely not", "i won't", "i will not", "not ever", "never again", "get out", "no thanks",
    "in your dreams", "over my dead body", "you wish",
)  # fmt: skip
_QUESTION_ZH = re.compile(r"[吗呢么]\s*[？?]?\s*$|[？?]")


@dataclass(frozen=True)
class Negation:
    """A negator at text[begin:end] and the span it governs, text[end:scope_end]."""

    cue: str
    begin: int
    end: int
    scope_end: int


def _blanking(phrases: tuple[str, ...], flags: int = 0) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(phrase) for phrase in sorted(phrases, key=len, reverse=True)), flags)


_ZH_MASK = _blanking(_ZH_NOT_NEGATION)
_ZH_NEGATOR = _blanking(_ZH_NEGATORS)
_EN_MASK = _blanking(_EN_NOT_NEGATION, re.IGNORECASE)
_EN_NEGATOR = re.compile(
    r"(?<![\w'])(?:"
    + "|".join(re.escape(cue) for cue in sorted(_EN_NEGATORS, key=len, reverse=True))
    + r")(?:'s)?(?![\w'])"
    r"|n't\b",
    re.IGNORECASE,
)


def _masked(text: str, mask: re.Pattern[str]) -> str:
    """`text` with each non-negating phrase blanked out (same length, so offsets still hold)."""
    return mask.sub(lambda m: " " * len(m.group()), text)


def _clause_end(text: str, begin: int) -> int:
    found = _CLAUSE_END.search(text, begin)
    return found.start() if found else len(text)


def negations(text: str) -> list[Negation]:
    """Every negator in `text` with its scope; Chinese and English negators alike."""
    found: list[Negation] = []
    zh = _masked(text, _ZH_MASK)
    for match in _ZH_NEGATOR.finditer(zh):
        end = min(_clause_end(text, match.end()), match.end() + SCOPE_CHARS_ZH)
        found.append(Negation(match.group(), match.start(), match.end(), end))
    en = _masked(text, _EN_MASK)
    for match in _EN_NEGATOR.finditer(en):
        clause = _clause_end(text, match.end())
        words = list(_EN_WORD.finditer(text, match.end(), clause))
        end = words[SCOPE_WORDS_EN - 1].end() if len(words) >= SCOPE_WORDS_EN else clause
        found.append(Negation(match.group().lower(), match.start(), match.end(), end))
    return sorted(found, key=lambda n: (n.begin, n.end))


def negated(found: list[Negation], begin: int, end: int) -> bool:
    """Whether text[begin:end] starts inside the scope of one of `found`."""
    return any(n.end <= begin < n.scope_end for n in found)


def is_question(text: str) -> bool:
    stripped = text.strip()
    return stripped.endswith(("?", "？")) or bool(_QUESTION_ZH.search(stripped))


def is_refusal(text: str) -> bool:
    """A reply that, on its own, turns down what the line before it asked or offered."""
    core = re.sub(r"[\s，,。.！!？?；;：:…\"“”'‘’—-]+", " ", text).strip().lower()
    if not core:
        return False
    if core.replace(" ", "") in _REFUSALS_ZH or core in _REFUSALS_EN:
        return True
    # "No. Never." / "不，我不会。": every clause of the reply is itself a refusal.
    parts = [part for part in re.split(r"[\s，,。.！!？?；;]+", text.strip().lower()) if part]
    return len(parts) > 1 and all(part in _REFUSALS_ZH or part in _REFUSALS_EN for part in parts)


@dataclass(frozen=True)
class Polarity:
    """What the classifier needs to know of a line's polarity."""

    negations: tuple[Negation, ...]
    question: bool

    @property
    def negative(self) -> bool:
        return bool(self.negations)


def polarity(text: str) -> Polarity:
    return Polarity(tuple(negations(text)), is_question(text))
