"""Event-symbol links read from the dialogue (story/links.py), and the reading rules that feed them
(story/units.py): one reading per line, doubted speech, anaphora and its limits."""

from __future__ import annotations

import pytest
from motiflens.core.config import LinksConfig, MentionsConfig
from motiflens.core.records import PlotEvent, Segment, Shot
from motiflens.core.taxonomy import load_taxonomy, taxonomy_paths
from motiflens.story.links import has_anaphor, link_events, scene_breaks
from motiflens.story.mentions import MentionFinder
from motiflens.story.units import ReadingRules, dialogue_units, episode_languages

SETTINGS = LinksConfig(anaphora_lines=2, anaphora_max_gap_seconds=6.0, scene_pause_seconds=1.5)


@pytest.fixture(scope="module")
def finder() -> MentionFinder:
    # Keyword matching only: these tests are about the link rules, not about embeddings.
    return MentionFinder(load_taxonomy(taxonomy_paths(True, ())), MentionsConfig(semantic=False), None)


def subtitle(number: int, start: float, end: float, text: str, language: str = "zh", **extra) -> Segment:
    return Segment(f"ocr-{number:04d}", "ocr", start, end, text, language, extra=extra)


def speech(number: int, start: float, end: float, text: str, language: str = "zh", **extra) -> Segment:
    return Segment(f"asr-{number:04d}", "asr", start, end, text, language, extra=extra)


def beat_on(segment: Segment, type_: str = "betrayal") -> PlotEvent:
    return PlotEvent(
        "event-0001", type_, segment.start_seconds, segment.end_seconds, 0.9, ("dialogue",), (segment.id,), segment.text
    )


def links_of(segments: list[Segment], event_segment: Segment, finder: MentionFinder, breaks=()) -> list[tuple]:
    units = dialogue_units(segments)
    mentions = finder.find(units)
    (event,) = link_events([beat_on(event_segment)], units, mentions, list(breaks), SETTINGS)
    return [(link.symbol_id, link.kind, link.segment_id) for link in event.links]


def test_the_event_line_naming_the_symbol_is_a_same_line_link(finder) -> None:
    line = subtitle(1, 0.5, 3.0, "你竟然把祖传的玉壶卖了！")
    assert links_of([line], line, finder) == [("jade_teapot", "same_line", "ocr-0001")]


def test_a_pronoun_in_the_next_line_links_back_by_anaphora(finder) -> None:
    named = subtitle(1, 0.5, 3.0, "这张剪纸是外婆留给我的。")
    vow = subtitle(2, 3.6, 6.0, "我发誓，一定把它的手艺传下去。")
    assert links_of([named, vow], vow, finder) == [("paper_cutting", "anaphora", "ocr-0001")]


def test_named_3_s_before_an_unrelated_beat_is_no_link(finder) -> None:
    named = subtitle(1, 0.5, 3.0, "Grandpa's calligraphy still hangs in the study.", "en")
    beat = subtitle(2, 6.0, 8.0, "You lied to me about the wedding!", "en")
    assert links_of([named, beat], beat, finder) == []


def test_anaphora_does_not_cross_a_scene_break_a_long_pause_or_more_lines_than_allowed(finder) -> None:
    named = subtitle(1, 0.5, 3.0, "这张剪纸是外婆留给我的。")
    vow = subtitle(2, 3.6, 6.0, "我发誓，一定把它传下去。")
    assert links_of([named, vow], vow, finder, breaks=[3.3]) == []
    late = subtitle(2, 9.5, 12.0, "我发誓，一定把它传下去。")
    assert links_of([named, late], late, finder) == []
    filler = [subtitle(2, 3.4, 4.0, "嗯。"), subtitle(3, 4.2, 4.8, "是吗？")]
    third = subtitle(4, 5.0, 7.0, "我发誓，一定把它传下去。")
    assert links_of([named, *filler, third], third, finder) == []


def test_the_pronoun_points_at_the_nearest_line_that_names_something(finder) -> None:
    first = subtitle(1, 0.5, 2.5, "桌上有一盏红灯笼。")
    second = subtitle(2, 3.0, 5.0, "这把玉壶是爷爷的。")
    beat = subtitle(3, 5.5, 7.5, "你居然把它偷偷卖了！")
    assert links_of([first, second, beat], beat, finder) == [("jade_teapot", "anaphora", "ocr-0002")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("你竟然把它卖了", True), ("这盏是谁的", True), ("这个家我来扛", False), ("I will bring it home.", True),
     ("这样不行", False), ("因此我走了", False), ("那天下雨了", False), ("Come here now.", False)],
)  # fmt: skip
def test_anaphors(text: str, expected: bool) -> None:
    assert has_anaphor(text) is expected


def test_scene_breaks_are_cuts_inside_long_dialogue_pauses() -> None:
    units = dialogue_units(
        [subtitle(1, 0.0, 2.0, "一。"), subtitle(2, 2.3, 4.0, "二。"), subtitle(3, 7.0, 9.0, "三。")]
    )
    shots = [Shot(0, 0.0, 2.1), Shot(1, 2.1, 5.0), Shot(2, 5.0, 9.0)]
    assert scene_breaks(units, shots, 1.5) == [5.0]


def test_a_subtitled_line_is_read_once_from_the_subtitle() -> None:
    heard = speech(1, 0.5, 3.0, "我爱你，嫁给我吧。", confidence=0.8)
    shown = subtitle(1, 0.4, 3.1, "这件传家宝被你偷偷卖给了外国人！", linked_ids=["asr-0001"])
    (unit,) = dialogue_units([heard, shown])
    assert (unit.source, unit.text, unit.segment_ids) == ("ocr", shown.text, ("ocr-0001", "asr-0001"))


def test_speech_is_doubted_for_low_confidence_no_speech_and_a_foreign_script() -> None:
    rules = ReadingRules(min_speech_confidence=0.45, max_no_speech_probability=0.6, episode_languages=frozenset({"zh"}))
    sure, unsure, silent = (
        speech(1, 0, 1, "我们回家吧。", confidence=0.8, no_speech_prob=0.1),
        speech(2, 2, 3, "我们回家吧。", confidence=0.3, no_speech_prob=0.1),
        speech(3, 4, 5, "我们回家吧。", confidence=0.8, no_speech_prob=0.9),
    )
    thai = speech(4, 6, 7, "ฉันรักเธอ", "th", confidence=0.9)
    wrong_script = speech(5, 8, 9, "wo ai ni", "zh", confidence=0.9)
    units = dialogue_units([sure, unsure, silent, thai, wrong_script], rules)
    assert [unit.reliable for unit in units] == [True, False, False, False, False]
    assert "recognition confidence 0.30 < 0.45" in units[1].doubts[0]
    assert "no-speech probability" in units[2].doubts[0]
    assert "language th is not one the episode speaks (zh)" in units[3].doubts[0]
    assert units[4].doubts == ("text is not written in the script of zh",)


def test_episode_languages_come_from_subtitles_the_main_language_and_the_config() -> None:
    segments = [subtitle(1, 0, 1, "好。"), speech(1, 0, 1, "ok", "en")]
    assert episode_languages(segments, "en", ("th",)) == {"zh", "en", "th"}
