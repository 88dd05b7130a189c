"""Alignment: the narrative role of every symbol occurrence, its weight, and the evidence for both.

Rules (windows and weights in AlignConfig):
- referenced: the symbol is named in dialogue within `reference_window_seconds` of the occurrence, or
  anywhere in the episode (weaker: the reference component is 1 near, 0.5 elsewhere).
- catalyst: referenced, and coupled to a plot event: the event overlaps the occurrence, or starts within
  `event_window_seconds` after it ends, or the event's own dialogue names the symbol (and the event lies
  within `event_window_seconds` of the occurrence, either side).
- decorative: everything else. An occurrence that is never named stays decorative even if an event
  overlaps it: being on screen during a beat does not make a symbol drive it; the overlap still raises
  its event-coupling component and is listed in its evidence.
A symbol that is named but has no visual occurrence gets dialogue occurrences, one per cluster of mentions.

narrative_weight = sum(weight_i x component_i) / sum(weight_i) with components in [0, 1]: prominence
(mean score x share of prominence_seconds; 0 for dialogue occurrences), reference, event_coupling (the
strongest coupled event's confidence) and recurrence (shots the symbol appears in, saturating at
recurrence_shots).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..config import AlignConfig
from ..records import Evidence, Mention, PlotEvent, Shot, SymbolOccurrence, ThemeScore

#: Episode-level mentions listed as evidence per occurrence, nearest first (a symbol may be named 50 times).
MAX_EPISODE_MENTIONS = 5


def gap(a_start: float, a_end: float, b_start: float, b_end: float) -> float:
    """Seconds between two spans; 0 when they touch or overlap."""
    return max(0.0, b_start - a_end, a_start - b_end)


def dialogue_occurrences(
    mentions: Sequence[Mention], labels: dict[str, str], merge_gap_seconds: float
) -> list[SymbolOccurrence]:
    """Occurrences of a symbol that is named but never seen: one per cluster of close mentions."""
    by_symbol: dict[str, list[Mention]] = {}
    for mention in sorted(mentions, key=lambda m: (m.start_seconds, m.end_seconds, m.segment_id)):
        by_symbol.setdefault(mention.symbol_id, []).append(mention)
    found = []
    for symbol_id, named in by_symbol.items():
        clusters: list[list[Mention]] = []
        for mention in named:
            if clusters and mention.start_seconds <= max(m.end_seconds for m in clusters[-1]) + merge_gap_seconds:
                clusters[-1].append(mention)
            else:
                clusters.append([mention])
        for cluster in clusters:
            start = min(m.start_seconds for m in cluster)
            end = max(m.end_seconds for m in cluster)
            strongest = max(cluster, key=lambda m: (m.score, -m.start_seconds))
            found.append(
                SymbolOccurrence(
                    symbol_id=symbol_id,
                    label=labels.get(symbol_id, symbol_id),
                    start_seconds=start,
                    end_seconds=end,
                    peak_seconds=min(max(strongest.start_seconds, start), end),
                    peak_score=strongest.score,
                    mean_score=sum(m.score for m in cluster) / len(cluster),
                    screen_region=None,
                    narrative_weight=0.0,
                    origin="dialogue",
                )
            )
    return found


@dataclass(frozen=True)
class Coupling:
    event: PlotEvent
    reason: str


def _shots_touched(spans: Sequence[tuple[float, float]], shots: Sequence[Shot]) -> list[int]:
    return sorted(
        {shot.index for shot in shots for start, end in spans if start < shot.end_seconds and end > shot.start_seconds}
    )


class RoleAssigner:
    def __init__(self, settings: AlignConfig) -> None:
        self.settings = settings
        weights = settings.weights
        self.weights = {
            "prominence": weights.prominence,
            "reference": weights.reference,
            "event_coupling": weights.event_coupling,
            "recurrence": weights.recurrence,
        }

    def couplings(self, occurrence: SymbolOccurrence, events: Sequence[PlotEvent], naming: set[str]) -> list[Coupling]:
        window = self.settings.event_window_seconds
        found = []
        for event in events:
            start, end = occurrence.start_seconds, occurrence.end_seconds
            names_it = bool(naming & set(event.segment_ids))
            if event.start_seconds < end and event.end_seconds > start:
                reason = "overlaps the occurrence"
            elif end <= event.start_seconds <= end + window:
                reason = f"starts {event.start_seconds - end:.1f} s after the occurrence ends"
            elif names_it and gap(start, end, event.start_seconds, event.end_seconds) <= window:
                reason = "its dialogue names the symbol"
            else:
                continue
            if names_it and "names" not in reason:
                reason += "; its dialogue names the symbol"
            found.append(Coupling(event, reason))
        return found

    def assign(
        self,
        occurrences: Sequence[SymbolOccurrence],
        mentions: Sequence[Mention],
        events: Sequence[PlotEvent],
        shots: Sequence[Shot],
        labels: dict[str, str],
    ) -> list[SymbolOccurrence]:
        visual = [replace(o, origin="visual") for o in occurrences if o.origin == "visual"]
        seen = {o.symbol_id for o in visual}
        spoken = [m for m in mentions if m.symbol_id not in seen]
        named_only = dialogue_occurrences(spoken, labels, self.settings.mention_merge_gap_seconds)
        everything = visual + sorted(named_only, key=lambda o: (o.start_seconds, o.symbol_id))
        spans: dict[str, list[tuple[float, float]]] = {}
        for occurrence in everything:
            spans.setdefault(occurrence.symbol_id, []).append((occurrence.start_seconds, occurrence.end_seconds))
        assigned = [
            self._one(
                o,
                [m for m in mentions if m.symbol_id == o.symbol_id],
                events,
                _shots_touched(spans[o.symbol_id], shots),
            )
            for o in everything
        ]
        # Stable: visual occurrences keep the visual stream's order (time, then taxonomy order).
        return sorted(assigned, key=lambda o: o.start_seconds)

    def _one(
        self,
        occurrence: SymbolOccurrence,
        mentions: Sequence[Mention],
        events: Sequence[PlotEvent],
        shot_ids: list[int],
    ) -> SymbolOccurrence:
        settings = self.settings
        start, end = occurrence.start_seconds, occurrence.end_seconds
        distance = {id(m): gap(start, end, m.start_seconds, m.end_seconds) for m in mentions}
        near = [m for m in mentions if distance[id(m)] <= settings.reference_window_seconds]
        far = sorted((m for m in mentions if m not in near), key=lambda m: (distance[id(m)], m.start_seconds))
        couplings = self.couplings(occurrence, events, {m.segment_id for m in mentions})
        referenced = bool(mentions)
        role = "catalyst" if referenced and couplings else "referenced" if referenced else "decorative"

        components = {
            "prominence": 0.0
            if occurrence.origin == "dialogue"
            else min(1.0, occurrence.mean_score * min(1.0, occurrence.duration_seconds / settings.prominence_seconds)),
            "reference": 1.0 if near else 0.5 if far else 0.0,
            "event_coupling": max((c.event.confidence for c in couplings), default=0.0),
            "recurrence": min(1.0, max(0, len(shot_ids) - 1) / (settings.recurrence_shots - 1)),
        }
        total = sum(self.weights.values())
        weight = sum(self.weights[name] * value for name, value in components.items()) / total if total else 0.0

        evidence = [Evidence("role", start, end, text=self._explain(role, near, far, couplings))]
        evidence.extend(item for item in occurrence.evidence if item.kind == "visual")
        evidence.extend(Evidence("mention", m.start_seconds, m.end_seconds, m.segment_id, m.text) for m in near)
        evidence.extend(
            Evidence("episode_mention", m.start_seconds, m.end_seconds, m.segment_id, m.text)
            for m in far[:MAX_EPISODE_MENTIONS]
        )
        evidence.extend(
            Evidence(
                "event",
                c.event.start_seconds,
                c.event.end_seconds,
                c.event.id,
                f"{c.event.type} ({c.event.confidence:.2f}), {c.reason}: {c.event.text}",
            )
            for c in couplings
        )
        if len(shot_ids) > 1:
            evidence.append(
                Evidence("recurrence", start, end, text=f"in {len(shot_ids)} shots: {', '.join(map(str, shot_ids))}")
            )
        return replace(
            occurrence,
            role=role,
            narrative_weight=round(min(1.0, max(0.0, weight)), 6),
            weight_components=components,
            evidence=tuple(evidence),
        )

    @staticmethod
    def _explain(role: str, near: Sequence[Mention], far: Sequence[Mention], couplings: Sequence[Coupling]) -> str:
        named = near or far
        if not named:
            reason = "never named in the dialogue"
            if couplings:
                reason += (
                    f"; on screen during {', '.join(c.event.id for c in couplings)} but not named, so not a catalyst"
                )
            return f"decorative: {reason}"
        first = named[0]
        where = "near the occurrence" if near else "elsewhere in the episode"
        reason = f'named {where} at {first.start_seconds:.1f} s ({first.segment_id}: "{first.text}")'
        if role == "catalyst":
            strongest = max(couplings, key=lambda c: c.event.confidence)
            reason += f"; coupled to {strongest.event.id} ({strongest.event.type}), which {strongest.reason}"
        else:
            reason += "; coupled to no plot event"
        return f"{role}: {reason}"


def summarize(
    occurrences: Sequence[SymbolOccurrence], events: Sequence[PlotEvent], themes: Sequence[ThemeScore]
) -> dict[str, Any]:
    """Screen seconds (visual occurrences), symbol seconds (all), seconds per role, the internalization
    index (catalyst share of symbol seconds), and counts of events and themes."""
    screen: dict[str, float] = {}
    symbol: dict[str, float] = {}
    roles = {"decorative": 0.0, "referenced": 0.0, "catalyst": 0.0}
    for occurrence in occurrences:
        seconds = occurrence.duration_seconds
        symbol[occurrence.symbol_id] = symbol.get(occurrence.symbol_id, 0.0) + seconds
        if occurrence.origin == "visual":
            screen[occurrence.symbol_id] = screen.get(occurrence.symbol_id, 0.0) + seconds
        roles[occurrence.role] += seconds
    total = sum(roles.values())
    counts: dict[str, int] = {}
    for event in events:
        counts[event.type] = counts.get(event.type, 0) + 1
    theme_counts: dict[str, int] = {}
    for theme in themes:
        theme_counts[theme.theme] = theme_counts.get(theme.theme, 0) + 1
    return {
        "symbol_screen_seconds": {key: round(value, 3) for key, value in sorted(screen.items())},
        "symbol_seconds": {key: round(value, 3) for key, value in sorted(symbol.items())},
        "role_seconds": {key: round(value, 3) for key, value in roles.items()},
        "internalization_index": round(roles["catalyst"] / total, 4) if total > 0 else None,
        "event_counts": dict(sorted(counts.items())),
        "theme_counts": dict(sorted(theme_counts.items())),
    }
