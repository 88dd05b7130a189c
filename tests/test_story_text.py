"""Keyword matching (Chinese without word boundaries, English inflections), sentence units with word
times, and loudness / cut-rate cues. No models needed."""

from __future__ import annotations

import numpy as np
import pytest
from motiflens.core.config import EventsConfig, MentionsConfig
from motiflens.core.records import Segment, Shot, Word
from motiflens.core.taxonomy import load_taxonomy, taxonomy_paths
from motiflens.story.cues import Cue, audio_peaks, cut_rate_bursts
from motiflens.story.eventmodel import TypeScore
from motiflens.story.events import Detection, build_event, merge_detections, replies
from motiflens.story.lexicon import TermMatcher, word_forms
from motiflens.story.mentions import MentionFinder
from motiflens.story.units import dialogue_units, split_sentences


@pytest.fixture(scope="module")
def finder() -> MentionFinder:
    taxonomy = load_taxonomy(taxonomy_paths(True, ()))
    return MentionFinder(taxonomy, MentionsConfig(semantic=False), encoder=None)


def segment(text: str, language: str, start=0.0, end=4.0, text_en=None, words=None, id_="asr-0001") -> Segment:
    return Segment(id_, "asr", start, end, text, language=language, text_en=text_en, words=words)


def test_chinese_terms_match_inside_running_text_and_in_traditional_characters() -> None:
    matcher = TermMatcher([], ["玉壶", "饺子"])
    assert [hit.term for hit in matcher.find("快来吃饺子，这把玉壶是传家宝")] == ["饺子", "玉壶"]
    (hit,) = matcher.find("這把玉壺是傳家寶")
    assert (hit.term, hit.begin, hit.end) == ("玉壶", 2, 4)
    assert matcher.find("玉器和茶壶") == []


def test_one_character_chinese_terms_are_ignored() -> None:
    assert not TermMatcher([], ["灯"], min_substring_chars=2)
    assert TermMatcher([], ["灯"], min_substring_chars=1).find("灯笼")


def test_english_terms_match_whole_words_with_inflections() -> None:
    matcher = TermMatcher(["jade teapot", "dumpling", "lantern", "embroider"], [])
    text = "Two Jade-Teapots, the dumplings' plate, a lanterns row and embroidered silk; no lanternfish."
    assert [hit.term for hit in matcher.find(text)] == ["jade teapot", "dumpling", "lantern", "embroider"]
    assert matcher.find("lanternfish and undumplings") == []
    assert {"story", "stories", "storied"} <= word_forms("story")
    assert {"promised", "promising"} <= word_forms("promise")


def test_a_longer_term_of_another_symbol_wins(finder: MentionFinder) -> None:
    units = dialogue_units([segment("This jade teapot is ours, and this jade bracelet is hers.", "en")])
    assert sorted((m.symbol_id, m.term) for m in finder.find(units)) == [
        ("jade_jewelry", "jade bracelet"),
        ("jade_teapot", "jade teapot"),
    ]


def test_mentions_come_from_chinese_text_or_its_english_subtitle(finder: MentionFinder) -> None:
    units = dialogue_units(
        [
            segment("快来吃饺子！", "zh", 4.0, 8.0, id_="ocr-0002"),
            segment("这个很重要。", "zh", 9.0, 11.0, text_en="This red lantern matters.", id_="ocr-0003"),
        ]
    )
    found = [(m.symbol_id, m.segment_id, m.term, m.match, m.score) for m in finder.find(units)]
    assert found == [
        ("dumplings", "ocr-0002", "饺子", "keyword", 1.0),
        ("red_lantern", "ocr-0003", "red lantern", "keyword", 1.0),
    ]


def test_a_mention_is_timed_by_the_words_that_say_it(finder: MentionFinder) -> None:
    words = tuple(
        Word(token, start, start + 0.4, 0.9)
        for token, start in ((" This", 1.0), (" red", 1.5), (" lantern", 2.0), (" is", 2.5), (" old.", 3.0))
    )
    units = dialogue_units([segment("This red lantern is old.", "en", 1.0, 3.4, words=words)])
    (mention,) = finder.find(units)
    assert (mention.start_seconds, mention.end_seconds) == (1.5, 2.4)


def test_a_two_sentence_segment_becomes_two_units_timed_by_their_words() -> None:
    text = "这把玉壶是我们家的传家宝。你竟然把它卖给了外人。"
    words = tuple(Word(char, 0.5 + 0.4 * i, 0.9 + 0.4 * i, 0.9) for i, char in enumerate(text))
    first, second = dialogue_units([segment(text, "zh", 0.5, 10.1, text_en="Both lines in English.", words=words)])
    assert first.text == "这把玉壶是我们家的传家宝。" and second.text == "你竟然把它卖给了外人。"
    assert (first.start_seconds, first.end_seconds) == pytest.approx((0.5, 0.5 + 0.4 * 12 + 0.4))
    assert second.start_seconds == pytest.approx(0.5 + 0.4 * 13)
    # English text of a two-sentence segment cannot be split; neither sentence claims it.
    assert first.text_en is None and second.text_en is None
    assert split_sentences("Mr. Li said no. Then he left!") == [(0, 15), (15, 29)]


def test_loud_moments_are_audio_peaks_and_speech_level_is_not() -> None:
    rate = 16000
    rng = np.random.default_rng(0)
    seconds = 10
    t = np.arange(seconds * rate) / rate
    # Speech-like: a 200 Hz tone whose loudness wanders by a few dB, plus a little noise.
    signal = 0.05 * (1 + 0.3 * np.sin(2 * np.pi * 0.7 * t)) * np.sin(2 * np.pi * 200 * t)
    signal += 0.002 * rng.standard_normal(len(t))
    assert audio_peaks(signal.astype(np.float32), rate, 0.05, 4.0) == []
    sting = (t >= 6.0) & (t < 6.3)
    signal[sting] = 0.9 * np.sin(2 * np.pi * 880 * t[sting])
    (peak,) = audio_peaks(signal.astype(np.float32), rate, 0.05, 4.0)
    assert peak.start_seconds == pytest.approx(6.0, abs=0.05) and peak.end_seconds == pytest.approx(6.3, abs=0.05)
    assert 0.5 <= peak.strength <= 1.0
    assert audio_peaks(np.zeros(rate, np.float32), rate, 0.05, 4.0) == []


def test_cut_bursts_need_enough_cuts_well_above_the_episode_rate() -> None:
    starts = [0, 10, 20, 30, 40, 41, 42, 43, 50, 60]
    shots = [Shot(i, s, e) for i, (s, e) in enumerate(zip(starts, [*starts[1:], 70], strict=True))]
    (burst,) = cut_rate_bursts(shots, 70.0, window_seconds=4.0, factor=2.0, min_cuts=3)
    assert (burst.kind, burst.start_seconds, burst.end_seconds) == ("cut_rate", 40.0, 43.0)
    assert cut_rate_bursts(shots[:4], 70.0, 4.0, 2.0, 3) == []


def test_speech_and_subtitle_detections_merge_and_cues_strengthen_and_move_the_start() -> None:
    settings = EventsConfig()
    units = dialogue_units(
        [
            segment("I swear it.", "en", 10.0, 12.0, id_="asr-0003"),
            Segment("ocr-0003", "ocr", 10.2, 12.5, "我发誓。", language="zh"),
            segment("I swear again.", "en", 30.0, 31.0, id_="asr-0009"),
        ]
    )
    scores = [TypeScore("vow", 0.8, 0.1, ("i swear",), ()) for _ in units]
    groups = merge_detections([Detection(u, s) for u, s in zip(units, scores, strict=True)], merge_gap_seconds=2.0)
    assert [[d.unit.segment_id for d in group] for group in groups] == [["asr-0003", "ocr-0003"], ["asr-0009"]]
    cues = [Cue("audio", 9.0, 9.2, 1.0), Cue("cut_rate", 40.0, 44.0, 1.0)]
    event = build_event(groups[0], cues, settings)
    assert event.cues == ("dialogue", "audio") and event.segment_ids == ("asr-0003", "ocr-0003")
    assert event.start_seconds == 9.0 and event.end_seconds == 12.5
    assert event.confidence == pytest.approx(1 - 0.2 * (1 - settings.audio_boost))
    assert event.text == "I swear it. / 我发誓。"
    quiet = build_event(groups[1], cues, settings)
    assert quiet.cues == ("dialogue",) and quiet.confidence == pytest.approx(0.8)


def test_the_reply_is_the_next_line_when_it_follows_within_the_gap() -> None:
    units = dialogue_units(
        [
            segment("Can you forgive me?", "en", 1.0, 2.5, id_="asr-0001"),
            segment("Never.", "en", 3.0, 3.5, id_="asr-0002"),
            segment("Dinner is ready.", "en", 9.0, 10.0, id_="asr-0003"),
        ]
    )
    assert replies(units, max_gap_seconds=3.0) == ["Never.", None, None]
