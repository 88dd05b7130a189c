"""Plot events: dialogue lines typed by the dev-set-fitted event model (with the reply as context), merged
when one beat spans neighbouring lines, then strengthened (and their start moved) by audio peaks and
cut-rate bursts nearby. Lines whose recognition is doubted raise no event (units.ReadingRules)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from motiflens.core.config import EventsConfig
from motiflens.core.records import PlotEvent
from motiflens.story.cues import Cue
from motiflens.story.eventmodel import EventClassifier, LineInput, TypeScore
from motiflens.story.units import DialogueUnit


@dataclass(frozen=True)
class Detection:
    """One sentence carrying one beat type."""

    unit: DialogueUnit
    score: TypeScore


def replies(units: Sequence[DialogueUnit], max_gap_seconds: float) -> list[str | None]:
    """The line that answers each unit: the next line of another segment (the other side of the exchange; the
    sentences of one segment are one turn), when it starts within the gap."""
    found: list[str | None] = []
    for index, unit in enumerate(units):
        following = next((u for u in units[index + 1 :] if u.segment_id != unit.segment_id), None)
        close = following is not None and following.start_seconds - unit.end_seconds <= max_gap_seconds
        found.append(following.text if close and following is not None else None)
    return found


def merge_detections(detections: Sequence[Detection], merge_gap_seconds: float) -> list[list[Detection]]:
    """Same-type detections that overlap or follow within the gap form one event."""
    groups: list[list[Detection]] = []
    ordered = sorted(detections, key=lambda d: (d.score.label, d.unit.start_seconds, d.unit.end_seconds))
    for detection in ordered:
        last = groups[-1] if groups else None
        if (
            last is not None
            and last[0].score.label == detection.score.label
            and detection.unit.start_seconds <= max(d.unit.end_seconds for d in last) + merge_gap_seconds
        ):
            last.append(detection)
        else:
            groups.append([detection])
    return groups


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _boost(confidence: float, boost: float, strength: float) -> float:
    return 1.0 - (1.0 - confidence) * (1.0 - boost * strength)


def build_event(group: Sequence[Detection], cues: Sequence[Cue], settings: EventsConfig) -> PlotEvent:
    start = min(d.unit.start_seconds for d in group)
    end = max(d.unit.end_seconds for d in group)
    dialogue = max(d.score.confidence for d in group)
    confidence = dialogue
    fired: list[str] = ["dialogue"]
    cue_scores = {"dialogue": dialogue}
    boosts = {"audio": settings.audio_boost, "cut_rate": settings.cut_rate_boost}
    for kind in ("audio", "cut_rate"):
        near = [cue for cue in cues if cue.kind == kind and cue.near(start, end, settings.cue_window_seconds)]
        if not near:
            continue
        strongest = max(near, key=lambda cue: cue.strength)
        fired.append(kind)
        cue_scores[kind] = strongest.strength
        confidence = _boost(confidence, boosts[kind], strongest.strength)
        # A sting or a burst of cuts just before the line is where the beat begins.
        start = min(start, max(0.0, min(cue.start_seconds for cue in near)))
    ordered = sorted(group, key=lambda d: (d.unit.start_seconds, d.unit.source))
    return PlotEvent(
        id="",
        type=group[0].score.label,
        start_seconds=start,
        end_seconds=end,
        confidence=min(1.0, confidence),
        cues=tuple(fired),  # type: ignore[arg-type]
        segment_ids=_unique([segment_id for d in ordered for segment_id in d.unit.segment_ids]),
        text=" / ".join(_unique([d.unit.text for d in ordered])),
        cue_scores=cue_scores,
        matched_terms=tuple(sorted({term for d in group for term in d.score.terms})),
    )


class EventDetector:
    def __init__(self, classifier: EventClassifier, settings: EventsConfig) -> None:
        self.classifier = classifier
        self.settings = settings

    def detections(self, units: Sequence[DialogueUnit]) -> list[Detection]:
        """Reliable lines whose most likely type reaches the threshold, judged with their reply."""
        answers = replies(units, self.settings.reply_gap_seconds)
        lines = [
            LineInput(unit.text, unit.language, unit.text_en, reply) for unit, reply in zip(units, answers, strict=True)
        ]
        scores = self.classifier.score(lines)
        return [
            Detection(unit, score)
            for unit, score in zip(units, scores, strict=True)
            if unit.reliable and self.classifier.is_event(score)
        ]

    def detect(self, units: Sequence[DialogueUnit], cues: Sequence[Cue]) -> list[PlotEvent]:
        groups = merge_detections(self.detections(units), self.settings.merge_gap_seconds)
        events = [build_event(group, cues, self.settings) for group in groups]
        events.sort(key=lambda event: (event.start_seconds, event.type))
        return [
            PlotEvent(**{**event.__dict__, "id": f"event-{index:04d}"}) for index, event in enumerate(events, start=1)
        ]
