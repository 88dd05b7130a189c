"""Plot events: dialogue sentences labelled with a beat type, merged across speech and subtitles,
then strengthened (and their start moved) by audio peaks and cut-rate bursts nearby."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..config import EventsConfig
from ..records import PlotEvent
from .classifier import LabelScore, PrototypeClassifier
from .cues import Cue
from .units import DialogueUnit


@dataclass(frozen=True)
class Detection:
    """One sentence carrying one beat type."""

    unit: DialogueUnit
    score: LabelScore


def line_detections(
    units: Sequence[DialogueUnit], scores: Sequence[Sequence[LabelScore]], settings: EventsConfig
) -> list[Detection]:
    found = []
    for unit, row in zip(units, scores, strict=True):
        ranked = sorted(row, key=lambda s: (-s.confidence, s.label))
        found.extend(
            Detection(unit, s) for s in ranked[: settings.max_types_per_line] if s.confidence >= settings.min_confidence
        )
    return found


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


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
    texts = _unique([d.unit.text for d in sorted(group, key=lambda d: (d.unit.start_seconds, d.unit.source))])
    return PlotEvent(
        id="",
        type=group[0].score.label,
        start_seconds=start,
        end_seconds=end,
        confidence=min(1.0, confidence),
        cues=tuple(fired),  # type: ignore[arg-type]
        segment_ids=_unique([d.unit.segment_id for d in sorted(group, key=lambda d: d.unit.start_seconds)]),
        text=" / ".join(texts),
        cue_scores=cue_scores,
        matched_terms=tuple(sorted({term for d in group for term in d.score.terms})),
    )


class EventDetector:
    def __init__(self, classifier: PrototypeClassifier, settings: EventsConfig) -> None:
        self.classifier = classifier
        self.settings = settings

    def detect(self, units: Sequence[DialogueUnit], cues: Sequence[Cue]) -> list[PlotEvent]:
        detections = line_detections(units, self.classifier.score(units), self.settings)
        events = [
            build_event(group, cues, self.settings)
            for group in merge_detections(detections, self.settings.merge_gap_seconds)
        ]
        events.sort(key=lambda event: (event.start_seconds, event.type))
        return [
            PlotEvent(**{**event.__dict__, "id": f"event-{index:04d}"}) for index, event in enumerate(events, start=1)
        ]
