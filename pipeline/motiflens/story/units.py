"""Dialogue units: transcript segments split into sentences, each timed as precisely as the words allow.

Whisper often returns one segment for two lines; a plot event or a mention belongs to the sentence that
carries it, not to a nine-second segment. With word timestamps a sentence gets its own words' times;
without them it keeps the segment's times. The English text of a segment (text_en) can only be paired
with a sentence when the segment is one sentence.

One line, one reading: where speech and a burned-in subtitle carry the same line (the OCR stage links
them), the line is read once, from the subtitle (the authored text); speech is read only where no subtitle
shows it. Speech the recogniser was unsure of (`ReadingRules`) is kept for mentions but marked unreliable:
it raises no plot event on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from motiflens.core.records import Segment, Word
from motiflens.dialogue.text import has_cjk, has_latin, to_simplified

#: Characters a line in each language is written in; a line in another script was misheard.
_SCRIPTS: dict[str, re.Pattern[str]] = {
    "zh": re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"),
    "ja": re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]"),
    "ko": re.compile(r"[\uac00-\ud7af]"),
    "th": re.compile(r"[\u0e00-\u0e7f]"),
    "en": re.compile(r"[A-Za-z]"),
}

#: Titles and short forms whose period does not end a sentence ("Mr. Li said no.").
_ABBREVIATION = re.compile(r"(?<![\w.])(?:mr|mrs|ms|dr|st|jr|sr|prof|vs|mt|etc|e\.g|i\.e)$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[。！？!?；;…]+|(?<=[A-Za-z0-9\"')\]])\.(?=\s|$)")


@dataclass(frozen=True)
class DialogueUnit:
    segment_id: str
    source: str
    start_seconds: float
    end_seconds: float
    text: str
    language: str | None
    text_en: str | None
    #: The segment this sentence comes from and where the sentence starts in its text (for word times).
    segment: Segment = field(repr=False, compare=False)
    offset: int = 0
    #: Speech segments shown by this subtitle (read once, from the subtitle).
    linked_ids: tuple[str, ...] = ()
    #: Why the recognition of this line is doubted; a doubted line raises no plot event on its own.
    doubts: tuple[str, ...] = ()

    @property
    def reliable(self) -> bool:
        return not self.doubts

    @property
    def segment_ids(self) -> tuple[str, ...]:
        return (self.segment_id, *self.linked_ids)

    def times_of(self, begin: int, end: int) -> tuple[float, float]:
        """Times of the characters text[begin:end] of this sentence, as precise as the words allow."""
        if not self.segment.words:
            return self.start_seconds, self.end_seconds
        return span_times(self.segment, self.offset + begin, self.offset + end)

    @property
    def english(self) -> str | None:
        """The English wording of this sentence, if there is one."""
        if self.language == "en" or (self.language is None and has_latin(self.text) and not has_cjk(self.text)):
            return self.text
        return self.text_en

    @property
    def chinese(self) -> str | None:
        """The sentence in Simplified characters if it is Chinese (matching is done on Simplified text)."""
        return to_simplified(self.text) if has_cjk(self.text) else None


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text`, punctuation kept with the sentence it ends."""
    spans = []
    begin = 0
    for match in _SENTENCE_END.finditer(text):
        if match.group() == "." and _ABBREVIATION.search(text, 0, match.start()):
            continue
        if text[begin : match.end()].strip():
            spans.append((begin, match.end()))
        begin = match.end()
    if text[begin:].strip():
        spans.append((begin, len(text)))
    return spans


def _word_offsets(text: str, words: Iterable[Word]) -> list[tuple[int, int, Word]]:
    """Where each word's characters sit in the segment text (words are substrings of it, in order)."""
    offsets = []
    cursor = 0
    for word in words:
        token = word.word.strip()
        if not token:
            continue
        found = text.find(token, cursor)
        if found < 0:
            continue
        offsets.append((found, found + len(token), word))
        cursor = found + len(token)
    return offsets


def span_times(segment: Segment, begin: int, end: int) -> tuple[float, float]:
    """Times of the characters text[begin:end] of a segment, from its words when they cover them."""
    if segment.words:
        inside = [word for lo, hi, word in _word_offsets(segment.text, segment.words) if lo < end and hi > begin]
        if inside:
            return inside[0].start_seconds, max(inside[0].start_seconds, inside[-1].end_seconds)
    return segment.start_seconds, segment.end_seconds


@dataclass(frozen=True)
class ReadingRules:
    """When speech is doubted (StoryConfig.reading): thresholds on Whisper's own scores and the languages
    the episode speaks."""

    min_speech_confidence: float = 0.0
    max_no_speech_probability: float = 1.0
    episode_languages: frozenset[str] = frozenset()

    def doubts(self, segment: Segment) -> tuple[str, ...]:
        if segment.source != "asr":
            return ()
        found = []
        confidence = segment.extra.get("confidence")
        if confidence is not None and confidence < self.min_speech_confidence:
            found.append(f"recognition confidence {confidence:.2f} < {self.min_speech_confidence:.2f}")
        no_speech = segment.extra.get("no_speech_prob")
        if no_speech is not None and no_speech > self.max_no_speech_probability:
            found.append(f"no-speech probability {no_speech:.2f} > {self.max_no_speech_probability:.2f}")
        language = segment.language
        if language is not None and self.episode_languages and language not in self.episode_languages:
            found.append(
                f"language {language} is not one the episode speaks ({', '.join(sorted(self.episode_languages))})"
            )
        script = _SCRIPTS.get(language or "")
        if script is not None and not script.search(segment.text):
            found.append(f"text is not written in the script of {language}")
        return tuple(found)


def episode_languages(
    segments: Iterable[Segment], main_language: str | None, declared: Iterable[str]
) -> frozenset[str]:
    """The languages an episode speaks: its main language, its subtitles' languages and `asr.languages`."""
    found = {segment.language for segment in segments if segment.source == "ocr" and segment.language}
    if main_language:
        found.add(main_language)
    return frozenset(found | set(declared))


def reading(segments: Iterable[Segment]) -> list[Segment]:
    """One reading per line: every subtitle, and the speech that no subtitle shows."""
    ordered = list(segments)
    shown = {linked for segment in ordered if segment.source == "ocr" for linked in segment.extra.get("linked_ids", ())}
    return [segment for segment in ordered if segment.source == "ocr" or segment.id not in shown]


def dialogue_units(segments: Iterable[Segment], rules: ReadingRules | None = None) -> list[DialogueUnit]:
    """Sentences of one reading of `segments`, in time order, with the doubts of `rules` on speech."""
    rules = rules or ReadingRules()
    units = []
    for segment in reading(segments):
        doubts = rules.doubts(segment)
        linked = tuple(segment.extra.get("linked_ids", ())) if segment.source == "ocr" else ()
        spans = split_sentences(segment.text)
        single = len(spans) <= 1
        for begin, end in spans:
            raw = segment.text[begin:end]
            text = raw.strip()
            if not text:
                continue
            begin += len(raw) - len(raw.lstrip())
            end = begin + len(text)
            start, stop = (
                span_times(segment, begin, end) if not single else (segment.start_seconds, segment.end_seconds)
            )
            units.append(
                DialogueUnit(
                    segment_id=segment.id,
                    source=segment.source,
                    start_seconds=start,
                    end_seconds=stop,
                    text=text,
                    language=segment.language,
                    text_en=segment.text_en if single else None,
                    segment=segment,
                    offset=begin,
                    linked_ids=linked,
                    doubts=doubts,
                )
            )
    units.sort(key=lambda unit: (unit.start_seconds, unit.end_seconds, unit.source))
    return units
