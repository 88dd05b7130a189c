"""Speech and subtitles over the same time: link them both ways and measure how well they agree.

Both are kept: the subtitle is often the cleaner text, the speech carries word times and catches
lines that are not subtitled. Agreement is character-level similarity (`text.similarity`) in a
language both sides have, preferring text that neither side translated: Chinese subtitle vs Chinese
speech before English subtitle vs Whisper's English translation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from motiflens.core.records import Segment, Transcript
from motiflens.dialogue.text import similarity


def overlap(a: Segment, b: Segment) -> float:
    return min(a.end_seconds, b.end_seconds) - max(a.start_seconds, b.start_seconds)


def texts_by_language(segments: Sequence[Segment], translated_en: bool) -> dict[str, tuple[str, bool]]:
    """{language: (joined text, original?)} of a group of segments in time order. The `text_en` of
    speech is Whisper's translation; that of a subtitle was on screen (original)."""
    joined: dict[str, list[str]] = {}
    original: dict[str, bool] = {}
    for segment in sorted(segments, key=lambda item: item.start_seconds):
        if segment.language is not None:
            joined.setdefault(segment.language, []).append(segment.text)
            original[segment.language] = True
        if segment.text_en:
            joined.setdefault("en", []).append(segment.text_en)
            original.setdefault("en", not translated_en)
    return {language: (" ".join(parts), original[language]) for language, parts in joined.items()}


def agreement(subtitles: Sequence[Segment], speech: Sequence[Segment]) -> tuple[float, str] | None:
    """(similarity, language compared) of what both sides say, or None without a common language."""
    shown = texts_by_language(subtitles, translated_en=False)
    heard = texts_by_language(speech, translated_en=True)
    common = [language for language in shown if language in heard]
    if not common:
        return None
    # Two originals first; among equals, the subtitle's main language (its first entry).
    language = max(common, key=lambda lang: (shown[lang][1] and heard[lang][1], -list(shown).index(lang)))
    return similarity(shown[language][0], heard[language][0]), language


def with_english_source(subtitle: Segment) -> Segment:
    """A subtitle's text_en is the English row shown on screen, and says so (as speech's says it is
    Whisper's translation): a reader of the timeline can tell what was authored from what a model wrote."""
    if subtitle.text_en is None:
        return subtitle
    return replace(subtitle, extra={**subtitle.extra, "text_en_source": "subtitle"})


@dataclass(frozen=True)
class Reconciled:
    speech: list[Segment]
    subtitles: list[Segment]
    stats: dict[str, Any]


def reconcile(speech: Sequence[Segment], subtitles: Sequence[Segment], min_overlap: float) -> Reconciled:
    """Link each subtitle to the speech segments that overlap it by at least `min_overlap` of the
    shorter of the two; each side gets `linked_ids`, and `agreement` with its linked group."""
    subtitles = [with_english_source(subtitle) for subtitle in subtitles]
    links: dict[str, list[Segment]] = {}
    for subtitle in subtitles:
        for segment in speech:
            shorter = min(subtitle.end_seconds - subtitle.start_seconds, segment.end_seconds - segment.start_seconds)
            if overlap(subtitle, segment) > max(min_overlap * shorter, 0.0):
                links.setdefault(subtitle.id, []).append(segment)
                links.setdefault(segment.id, []).append(subtitle)

    def linked(segment: Segment, as_subtitle: bool) -> Segment:
        partners = links.get(segment.id)
        if not partners:
            return segment
        extra = {**segment.extra, "linked_ids": [partner.id for partner in partners]}
        measured = agreement([segment], partners) if as_subtitle else agreement(partners, [segment])
        if measured is not None:
            extra["agreement"] = round(measured[0], 3)
        return replace(segment, extra=extra)

    linked_subtitles = [linked(segment, True) for segment in subtitles]
    linked_speech = [linked(segment, False) for segment in speech]
    scores = [segment.extra["agreement"] for segment in linked_subtitles if "agreement" in segment.extra]
    stats = {
        "linked_subtitles": sum(1 for segment in linked_subtitles if segment.id in links),
        "subtitles_without_speech": sum(1 for segment in linked_subtitles if segment.id not in links),
        "speech_without_subtitles": sum(1 for segment in linked_speech if segment.id not in links),
        "mean_agreement": round(sum(scores) / len(scores), 3) if scores else None,
    }
    return Reconciled(speech=linked_speech, subtitles=linked_subtitles, stats=stats)


def main_language(segments: list[Segment]) -> str | None:
    """The language shown longest."""
    shown: defaultdict[str, float] = defaultdict(float)
    for segment in segments:
        if segment.language is not None:
            shown[segment.language] += segment.end_seconds - segment.start_seconds
    return max(shown, key=shown.__getitem__) if shown else None


def linked_transcript(
    transcript: Transcript | None, subtitles: Sequence[Segment], min_overlap: float
) -> tuple[Transcript, dict[str, Any]]:
    """One transcript of the speech in `transcript` and the subtitles, linked, in time order; and the link stats.
    Its language is the speech's, else the subtitles' main one."""
    previous = transcript or Transcript(language=None)
    speech = [segment for segment in previous.segments if segment.source == "asr"]
    linked = reconcile(speech, subtitles, min_overlap)
    segments = sorted(linked.speech + linked.subtitles, key=lambda s: (s.start_seconds, s.end_seconds, s.id))
    language = previous.language or main_language(linked.subtitles)
    return Transcript(language=language, segments=tuple(segments)), linked.stats
