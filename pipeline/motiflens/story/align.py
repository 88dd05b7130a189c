"""Alignment: the narrative role of every symbol occurrence, its weight, and the evidence for both.

Rules (windows and weights in AlignConfig):
- catalyst: the symbol is *linked* to a plot event: the event's dialogue names it (same_line), points back
  at it (anaphora), is about it (semantic) — see story/links.py — or the symbol dominates the frame during
  the event and is named in the episode (visual_focus: mean presence score >= `visual_focus_min_score`).
  A link goes to the symbol's occurrences within `event_window_seconds` of the event, else to the nearest one.
- referenced: named in dialogue (near the occurrence, or anywhere in the episode) and linked to nothing.
  An event that is merely near in time is listed in the evidence as "near, not linked".
- decorative: shown, never named, linked to nothing.
A symbol that is named but has no visual occurrence gets dialogue occurrences, one per cluster of mentions.

narrative_weight = sum(weight_i x component_i) / sum(weight_i) with components in [0, 1]: prominence
(mean score x share of prominence_seconds; 0 for dialogue occurrences), reference (1 named near, 0.5
elsewhere), event_coupling (the strongest linked event's confidence) and recurrence (shots the symbol
appears in, saturating at recurrence_shots).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from motiflens.core.config import AlignConfig
from motiflens.core.records import Evidence, Mention, PlotEvent, Shot, SymbolOccurrence, SymbolRole, ThemeScore

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
class Link:
    """A plot event linked to a symbol, and how."""

    event: PlotEvent
    kind: str
    text: str

    def describe(self) -> str:
        how = {
            "same_line": "its line names the symbol",
            "anaphora": "its line points back to the symbol",
            "semantic": "its line is about the symbol",
            "visual_focus": "the symbol fills the frame during it",
        }[self.kind]
        return f"{self.event.id} ({self.event.type}) by {self.kind}: {how}"


def _shots_touched(spans: Sequence[tuple[float, float]], shots: Sequence[Shot]) -> list[int]:
    return sorted(
        {shot.index for shot in shots for start, end in spans if start < shot.end_seconds and end > shot.start_seconds}
    )


def _occurrence_gap(occurrence: SymbolOccurrence, event: PlotEvent) -> float:
    return gap(occurrence.start_seconds, occurrence.end_seconds, event.start_seconds, event.end_seconds)


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

    def links(
        self, occurrences: Sequence[SymbolOccurrence], events: Sequence[PlotEvent], named: set[str]
    ) -> dict[int, list[Link]]:
        """Links per occurrence (by position): dialogue links of the events, and visual focus."""
        found: dict[int, list[Link]] = {}
        window = self.settings.event_window_seconds
        for event in events:
            for link in event.links:
                candidates = [i for i, o in enumerate(occurrences) if o.symbol_id == link.symbol_id]
                if not candidates:
                    continue
                close = [i for i in candidates if _occurrence_gap(occurrences[i], event) <= window]
                nearest = min(candidates, key=lambda i: (_occurrence_gap(occurrences[i], event), i))
                for index in close or [nearest]:
                    found.setdefault(index, []).append(Link(event, link.kind, link.text))
            for index, occurrence in enumerate(occurrences):
                if (
                    occurrence.origin == "visual"
                    and occurrence.symbol_id in named
                    and occurrence.mean_score >= self.settings.visual_focus_min_score
                    and occurrence.start_seconds < event.end_seconds
                    and occurrence.end_seconds > event.start_seconds
                    and not any(link.event is event for link in found.get(index, []))
                ):
                    found.setdefault(index, []).append(Link(event, "visual_focus", ""))
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
        links = self.links(everything, events, {m.symbol_id for m in mentions})
        assigned = [
            self._one(
                o,
                [m for m in mentions if m.symbol_id == o.symbol_id],
                links.get(index, []),
                events,
                _shots_touched(spans[o.symbol_id], shots),
            )
            for index, o in enumerate(everything)
        ]
        # Stable: visual occurrences keep the visual stream's order (time, then taxonomy order).
        return sorted(assigned, key=lambda o: o.start_seconds)

    def _one(
        self,
        occurrence: SymbolOccurrence,
        mentions: Sequence[Mention],
        links: Sequence[Link],
        events: Sequence[PlotEvent],
        shot_ids: list[int],
    ) -> SymbolOccurrence:
        settings = self.settings
        start, end = occurrence.start_seconds, occurrence.end_seconds
        distance = {id(m): gap(start, end, m.start_seconds, m.end_seconds) for m in mentions}
        near = [m for m in mentions if distance[id(m)] <= settings.reference_window_seconds]
        far = sorted((m for m in mentions if m not in near), key=lambda m: (distance[id(m)], m.start_seconds))
        linked_events = {id(link.event) for link in links}
        nearby = [
            e
            for e in events
            if id(e) not in linked_events
            and gap(start, end, e.start_seconds, e.end_seconds) <= settings.event_window_seconds
        ]
        role: SymbolRole = "catalyst" if links else "referenced" if mentions else "decorative"

        components = {
            "prominence": 0.0
            if occurrence.origin == "dialogue"
            else min(1.0, occurrence.mean_score * min(1.0, occurrence.duration_seconds / settings.prominence_seconds)),
            "reference": 1.0 if near else 0.5 if far else 0.0,
            "event_coupling": max((link.event.confidence for link in links), default=0.0),
            "recurrence": min(1.0, max(0, len(shot_ids) - 1) / (settings.recurrence_shots - 1)),
        }
        total = sum(self.weights.values())
        weight = sum(self.weights[name] * value for name, value in components.items()) / total if total else 0.0

        evidence = [Evidence("role", start, end, text=self._explain(role, near, far, links, nearby))]
        evidence.extend(item for item in occurrence.evidence if item.kind == "visual")
        evidence.extend(Evidence("mention", m.start_seconds, m.end_seconds, m.segment_id, m.text) for m in near)
        evidence.extend(
            Evidence("episode_mention", m.start_seconds, m.end_seconds, m.segment_id, m.text)
            for m in far[:MAX_EPISODE_MENTIONS]
        )
        evidence.extend(
            Evidence(
                "event",
                link.event.start_seconds,
                link.event.end_seconds,
                link.event.id,
                f"{link.event.type} ({link.event.confidence:.2f}), linked by {link.kind}"
                + (f' via "{link.text}"' if link.kind == "anaphora" else "")
                + f": {link.event.text}",
            )
            for link in links
        )
        evidence.extend(
            Evidence(
                "near_event",
                e.start_seconds,
                e.end_seconds,
                e.id,
                f"{e.type} ({e.confidence:.2f}), near, not linked: {e.text}",
            )
            for e in nearby
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
    def _explain(
        role: str,
        near: Sequence[Mention],
        far: Sequence[Mention],
        links: Sequence[Link],
        nearby: Sequence[PlotEvent],
    ) -> str:
        named = near or far
        unlinked = f"; {', '.join(e.id for e in nearby)} near in time but not linked" if nearby else ""
        if not named and not links:
            return f"decorative: never named in the dialogue, linked to no plot event{unlinked}"
        parts = []
        if named:
            first = named[0]
            where = "near the occurrence" if near else "elsewhere in the episode"
            parts.append(f'named {where} at {first.start_seconds:.1f} s ({first.segment_id}: "{first.text}")')
        if role == "catalyst":
            strongest = max(links, key=lambda link: (link.event.confidence, -link.event.start_seconds))
            parts.append(f"linked to {strongest.describe()}")
        else:
            parts.append("linked to no plot event")
        return f"{role}: {'; '.join(parts)}{unlinked}"


def summarize(
    occurrences: Sequence[SymbolOccurrence], events: Sequence[PlotEvent], themes: Sequence[ThemeScore]
) -> dict[str, Any]:
    """Screen seconds (visual occurrences), symbol seconds (all), seconds per role, the internalization
    index (catalyst share of symbol *screen* seconds; null when nothing was on screen), the dialogue
    internalization (catalyst share of the occurrences of named symbols; null when none is named), and
    counts of events and themes."""
    screen: dict[str, float] = {}
    symbol: dict[str, float] = {}
    roles = {"decorative": 0.0, "referenced": 0.0, "catalyst": 0.0}
    screen_catalyst = 0.0
    for occurrence in occurrences:
        seconds = occurrence.duration_seconds
        symbol[occurrence.symbol_id] = symbol.get(occurrence.symbol_id, 0.0) + seconds
        if occurrence.origin == "visual":
            screen[occurrence.symbol_id] = screen.get(occurrence.symbol_id, 0.0) + seconds
            if occurrence.role == "catalyst":
                screen_catalyst += seconds
        roles[occurrence.role] += seconds
    screen_total = sum(screen.values())
    named = [o for o in occurrences if o.role != "decorative"]
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
        "internalization_index": round(screen_catalyst / screen_total, 4) if screen_total > 0 else None,
        "dialogue_internalization": (
            round(sum(1 for o in named if o.role == "catalyst") / len(named), 4) if named else None
        ),
        "event_counts": dict(sorted(counts.items())),
        "theme_counts": dict(sorted(theme_counts.items())),
    }
