"""Role rules on scripted timelines: each link rule and its negatives, the weight formula, the evidence trail,
and the summary indices."""

from __future__ import annotations

import pytest
from motiflens.core.config import AlignConfig, RoleWeights
from motiflens.core.records import EventLink, Evidence, Mention, PlotEvent, Shot, SymbolOccurrence
from motiflens.story.align import RoleAssigner, dialogue_occurrences, summarize

LABELS = {"jade_teapot": "Jade teapot", "red_lantern": "Red lantern", "dumplings": "Dumplings"}
SHOTS = [Shot(0, 0.0, 10.0), Shot(1, 10.0, 20.0), Shot(2, 20.0, 40.0), Shot(3, 40.0, 120.0)]
SETTINGS = AlignConfig(reference_window_seconds=10.0, event_window_seconds=8.0)


def seen(symbol_id: str, start: float, end: float, mean: float = 0.5) -> SymbolOccurrence:
    return SymbolOccurrence(
        symbol_id=symbol_id,
        label=LABELS[symbol_id],
        start_seconds=start,
        end_seconds=end,
        peak_seconds=start,
        peak_score=mean,
        mean_score=mean,
        screen_region=None,
        narrative_weight=0.1,
        evidence=(Evidence("visual", start, end, ref=f"thumbnails/{symbol_id}.jpg"),),
    )


def named(symbol_id: str, start: float, end: float, segment_id: str, text: str = "a line") -> Mention:
    return Mention(symbol_id, segment_id, "asr", start, end, text, "keyword", 1.0, term=symbol_id)


def event(event_id: str, type_: str, start: float, end: float, segments: tuple[str, ...], confidence=0.8, links=()):
    return PlotEvent(
        event_id, type_, start, end, confidence, ("dialogue",), segments, f"{type_} line", links=tuple(links)
    )


def link(symbol_id: str, kind: str, segment_id: str = "asr-0001", text: str = "the naming line") -> EventLink:
    return EventLink(symbol_id, kind, segment_id, text)


def assign(occurrences, mentions=(), events=(), settings=SETTINGS) -> list[SymbolOccurrence]:
    return RoleAssigner(settings).assign(list(occurrences), list(mentions), list(events), SHOTS, LABELS)


def kinds(occurrence: SymbolOccurrence) -> list[str]:
    return [item.kind for item in occurrence.evidence]


def test_shown_never_named_is_decorative_even_during_an_event() -> None:
    (alone,) = assign([seen("jade_teapot", 1, 4)])
    assert alone.role == "decorative"
    assert kinds(alone) == ["role", "visual"]
    assert alone.evidence[0].text == "decorative: never named in the dialogue, linked to no plot event"

    (during,) = assign([seen("jade_teapot", 1, 4)], events=[event("event-0001", "betrayal", 2, 3, ("asr-0009",))])
    assert during.role == "decorative"
    assert during.weight_components["event_coupling"] == 0.0
    assert "event-0001 near in time but not linked" in during.evidence[0].text
    assert kinds(during) == ["role", "visual", "near_event"]
    assert "near, not linked" in during.evidence[-1].text


def test_named_near_the_occurrence_is_referenced() -> None:
    (occurrence,) = assign(
        [seen("jade_teapot", 20, 25)], [named("jade_teapot", 30, 32, "asr-0002", "The jade teapot!")]
    )
    assert occurrence.role == "referenced"
    assert occurrence.weight_components["reference"] == 1.0
    mention = occurrence.evidence[2]
    assert (mention.kind, mention.ref, mention.text) == ("mention", "asr-0002", "The jade teapot!")
    assert "named near the occurrence at 30.0 s (asr-0002" in occurrence.evidence[0].text
    assert "linked to no plot event" in occurrence.evidence[0].text


def test_named_only_elsewhere_in_the_episode_is_referenced_at_half_strength() -> None:
    (occurrence,) = assign([seen("jade_teapot", 20, 25)], [named("jade_teapot", 90, 92, "asr-0040")])
    assert occurrence.role == "referenced"
    assert occurrence.weight_components["reference"] == 0.5
    assert kinds(occurrence) == ["role", "visual", "episode_mention"]
    assert "elsewhere in the episode" in occurrence.evidence[0].text


def test_named_3_s_before_an_unrelated_beat_is_referenced_not_a_catalyst() -> None:
    """The clock alone never makes a catalyst: the event's dialogue is about something else."""
    (occurrence,) = assign(
        [],
        [named("jade_teapot", 10, 12, "ocr-0001", "The jade teapot is on the shelf.")],
        [event("event-0001", "betrayal", 15, 17, ("ocr-0002",), confidence=0.9)],
    )
    assert occurrence.role == "referenced"
    assert occurrence.weight_components["event_coupling"] == 0.0
    assert kinds(occurrence)[-1] == "near_event"
    assert occurrence.evidence[-1].text == "betrayal (0.90), near, not linked: betrayal line"


@pytest.mark.parametrize("kind", ["same_line", "anaphora", "semantic"])
def test_an_event_linked_by_its_dialogue_makes_a_catalyst(kind: str) -> None:
    linked = event("event-0001", "vow", 15, 17, ("ocr-0002",), confidence=0.9, links=[link("jade_teapot", kind)])
    (occurrence,) = assign([], [named("jade_teapot", 10, 12, "ocr-0001")], [linked])
    assert occurrence.role == "catalyst"
    assert occurrence.weight_components["event_coupling"] == pytest.approx(0.9)
    evidence = occurrence.evidence[-1]
    assert (evidence.kind, evidence.ref) == ("event", "event-0001")
    assert f"linked by {kind}" in evidence.text
    assert f"linked to event-0001 (vow) by {kind}" in occurrence.evidence[0].text


def test_anaphora_evidence_quotes_the_line_the_pronoun_points_back_to() -> None:
    linked = event(
        "event-0001", "betrayal", 5, 9, ("ocr-0002",), links=[link("jade_teapot", "anaphora", "ocr-0001", "这把玉壶")]
    )
    (occurrence,) = assign([], [named("jade_teapot", 0.5, 4.8, "ocr-0001", "这把玉壶")], [linked])
    assert 'linked by anaphora via "这把玉壶"' in occurrence.evidence[-1].text


def test_a_link_goes_to_the_occurrences_near_the_event_else_to_the_nearest() -> None:
    linked = event("event-0001", "vow", 40, 42, ("asr-0009",), links=[link("jade_teapot", "same_line")])
    early, late = assign(
        [seen("jade_teapot", 0, 5), seen("jade_teapot", 35, 38)], [named("jade_teapot", 40, 42, "asr-0009")], [linked]
    )
    assert (early.role, late.role) == ("referenced", "catalyst")
    (only,) = assign([seen("jade_teapot", 0, 5)], [named("jade_teapot", 40, 42, "asr-0009")], [linked])
    assert only.role == "catalyst"


def test_visual_focus_needs_a_dominant_symbol_that_is_named_in_the_episode() -> None:
    beat = event("event-0001", "revelation", 12, 14, ("asr-0004",))
    mention = named("red_lantern", 90, 91, "asr-0030")
    (focus,) = assign([seen("red_lantern", 10, 16, mean=0.75)], [mention], [beat])
    assert focus.role == "catalyst" and "by visual_focus" in focus.evidence[0].text
    (faint,) = assign([seen("red_lantern", 10, 16, mean=0.5)], [mention], [beat])
    assert faint.role == "referenced"
    (unnamed,) = assign([seen("red_lantern", 10, 16, mean=0.75)], [], [beat])
    assert unnamed.role == "decorative"


def test_a_symbol_named_but_never_seen_becomes_a_dialogue_occurrence() -> None:
    mentions = [
        named("dumplings", 4.0, 6.0, "asr-0002", "Come eat dumplings!"),
        named("dumplings", 4.5, 6.5, "ocr-0002", "快来吃饺子"),
        named("dumplings", 50.0, 51.0, "asr-0010", "More dumplings?"),
    ]
    first, second = assign([], mentions)
    assert (first.origin, first.start_seconds, first.end_seconds) == ("dialogue", 4.0, 6.5)
    assert (second.start_seconds, second.end_seconds) == (50.0, 51.0)
    assert first.role == second.role == "referenced"
    assert first.screen_region is None and first.weight_components["prominence"] == 0.0
    assert [e.ref for e in first.evidence if e.kind == "mention"] == ["asr-0002", "ocr-0002"]
    assert [e.ref for e in first.evidence if e.kind == "episode_mention"] == ["asr-0010"]
    assert first.to_json()["origin"] == "dialogue" and "thumbnail" not in first.to_json()


def test_a_seen_symbol_gets_no_extra_dialogue_occurrence() -> None:
    occurrences = assign([seen("jade_teapot", 20, 25)], [named("jade_teapot", 100, 101, "asr-0050")])
    assert [o.origin for o in occurrences] == ["visual"]


def test_two_symbols_named_in_one_event_line_are_both_catalysts() -> None:
    occurrences = assign(
        [seen("jade_teapot", 20, 30), seen("red_lantern", 22, 28)],
        [named("jade_teapot", 24, 25, "asr-0007"), named("red_lantern", 24, 25, "asr-0007")],
        [
            event(
                "event-0001",
                "revelation",
                24,
                26,
                ("asr-0007",),
                links=[link("jade_teapot", "same_line", "asr-0007"), link("red_lantern", "same_line", "asr-0007")],
            )
        ],
    )
    assert [(o.symbol_id, o.role) for o in occurrences] == [("jade_teapot", "catalyst"), ("red_lantern", "catalyst")]
    assert all(o.evidence[-1].ref == "event-0001" for o in occurrences)


def test_narrative_weight_is_the_documented_weighted_mean_of_its_components() -> None:
    weights = RoleWeights(prominence=1, reference=2, event_coupling=3, recurrence=4)
    settings = AlignConfig(prominence_seconds=10.0, recurrence_shots=3, weights=weights)
    occurrences = assign(
        [seen("jade_teapot", 5, 10, mean=0.8), seen("jade_teapot", 22, 27, mean=0.6)],
        [named("jade_teapot", 6, 7, "asr-0001")],
        [event("event-0001", "vow", 11, 12, ("asr-0002",), confidence=0.7, links=[link("jade_teapot", "anaphora")])],
        settings=settings,
    )
    first = occurrences[0]
    # 5 s at mean 0.8 = 0.4; named inside; linked event 0.7; shots 0 and 2 → (2 - 1) / (3 - 1).
    assert first.weight_components == pytest.approx(
        {"prominence": 0.4, "reference": 1.0, "event_coupling": 0.7, "recurrence": 0.5}
    )
    assert first.narrative_weight == pytest.approx((0.4 + 2 * 1.0 + 3 * 0.7 + 4 * 0.5) / 10)
    assert first.evidence[-1].kind == "recurrence" and first.evidence[-1].text == "in 2 shots: 0, 2"
    # The second is 12 s past the mention (beyond the 10 s window) and 10 s past the event (beyond its window).
    assert occurrences[1].role == "referenced" and occurrences[1].weight_components["reference"] == 0.5


def test_occurrences_keep_the_visual_order_and_every_role_has_its_reason_first() -> None:
    occurrences = assign([seen("red_lantern", 3, 5), seen("jade_teapot", 3, 6)], [named("dumplings", 1, 2, "asr-0001")])
    assert [o.symbol_id for o in occurrences] == ["dumplings", "red_lantern", "jade_teapot"]
    for occurrence in occurrences:
        assert occurrence.evidence[0].kind == "role"
        assert occurrence.evidence[0].text.startswith(occurrence.role + ":")


def test_mentions_cluster_by_gap_into_dialogue_occurrences() -> None:
    mentions = [named("dumplings", 0, 1, "a"), named("dumplings", 1.9, 2.5, "b"), named("dumplings", 4, 5, "c")]
    clusters = dialogue_occurrences(mentions, LABELS, merge_gap_seconds=1.0)
    assert [(o.start_seconds, o.end_seconds) for o in clusters] == [(0, 2.5), (4, 5)]


def test_summary_indices_follow_design_md() -> None:
    """internalization_index: catalyst share of *screen* seconds; dialogue_internalization: catalyst share of the
    occurrences of named symbols."""
    beat = event("event-0001", "betrayal", 5, 8, ("asr-0002",), links=[link("jade_teapot", "anaphora")])
    occurrences = assign(
        [seen("jade_teapot", 0, 10), seen("red_lantern", 50, 60)],
        [named("jade_teapot", 2, 3, "asr-0001"), named("dumplings", 80, 84, "asr-0009")],
        [beat],
    )
    summary = summarize(occurrences, [beat], [])
    assert summary["symbol_screen_seconds"] == {"jade_teapot": 10.0, "red_lantern": 10.0}
    assert summary["symbol_seconds"] == {"dumplings": 4.0, "jade_teapot": 10.0, "red_lantern": 10.0}
    assert summary["role_seconds"] == {"decorative": 10.0, "referenced": 4.0, "catalyst": 10.0}
    assert summary["internalization_index"] == pytest.approx(10 / 20)
    assert summary["dialogue_internalization"] == pytest.approx(1 / 2)
    assert summary["event_counts"] == {"betrayal": 1}


def test_summary_indices_are_null_without_screen_time_or_names() -> None:
    spoken = assign([], [named("dumplings", 1, 2, "asr-0001")])
    summary = summarize(spoken, [], [])
    assert summary["internalization_index"] is None
    assert summary["dialogue_internalization"] == 0.0
    empty = summarize([], [], [])
    assert empty["internalization_index"] is None and empty["dialogue_internalization"] is None
