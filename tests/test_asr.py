"""Speech: guards, chunking by language, translations and exports on synthetic segments; then the real
Whisper base model (no download) on the bundled samples against their script (data/samples/samples.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import numpy as np
import pytest
from motiflens.core.config import AsrConfig, Config
from motiflens.core.records import AudioTrack, Segment, StreamStatus, Transcript, VideoSource, Word
from motiflens.dialogue.guards import (
    NoSpeechGuard,
    PhantomGuard,
    PromptEchoGuard,
    RepeatGuard,
    SpeechSegment,
    apply_guards,
    build_guards,
)
from motiflens.dialogue.language_id import Detection, EpisodeLanguages, episode_languages, line_language, speech_windows
from motiflens.dialogue.subtitles import to_srt, to_vtt, write_exports
from motiflens.dialogue.text import has_cjk, normalise, similarity, to_simplified
from motiflens.dialogue.transcribe import (
    SIMPLIFIED_PROMPTS,
    BatchedDecoder,
    DecodeOptions,
    SequentialDecoder,
    SpeechChunk,
    SpeechResult,
    SpeechTranscriber,
    attach_translations,
    group_chunks,
    speech_records,
)
from motiflens.dialogue.whisper_model import (
    WHISPER_SIZES,
    WhisperResolver,
    WhisperWeights,
    at_least,
    card_size,
    speech_cards,
    whisper_size,
)
from motiflens.media.audio import AudioExtractor, read_wav_float32
from motiflens.stages.asr import AsrStage
from motiflens.stages.base import VideoWork


def speech(text: str, start: float = 0.0, end: float = 1.0, **scores) -> SpeechSegment:
    values = {"language": "en", "language_probability": 0.9, "avg_logprob": -0.3, "no_speech_prob": 0.05}
    values.update(scores)
    return SpeechSegment(start=start, end=end, text=text, **values)


# Hallucination guards


def test_a_segment_repeating_the_previous_one_is_dropped() -> None:
    guard = RepeatGuard()
    first = speech("Come home with me.")
    assert guard.rejects(speech("come home with me", 1, 2), first)
    assert not guard.rejects(speech("Come home with me, now.", 1, 2), first)
    assert not guard.rejects(first, None)


def test_no_speech_needs_both_a_high_no_speech_probability_and_a_low_log_probability() -> None:
    guard = NoSpeechGuard(no_speech_threshold=0.6, log_prob_threshold=-1.0)
    assert guard.rejects(speech("hmm", no_speech_prob=0.9, avg_logprob=-1.5), None)
    assert not guard.rejects(speech("hmm", no_speech_prob=0.9, avg_logprob=-0.4), None)
    assert not guard.rejects(speech("hmm", no_speech_prob=0.2, avg_logprob=-1.5), None)


@pytest.mark.parametrize(
    "text",
    [
        "字幕由Amara.org社区提供",
        "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目",
        "Thanks for watching!",
        "Thank you for watching.",
        "谢谢观看。",
    ],
)
def test_known_phantom_lines_are_dropped(text: str) -> None:
    assert PhantomGuard().rejects(speech(text), None)


@pytest.mark.parametrize("text", ["Thank you.", "我们回家吧", "Watching the teapot, thanks to you, was a joy."])
def test_real_lines_are_not_phantoms(text: str) -> None:
    assert not PhantomGuard().rejects(speech(text), None)


def test_an_echo_of_the_initial_prompt_is_dropped() -> None:
    guard = PromptEchoGuard(["以下是普通话的句子，使用简体中文。"])
    assert guard.rejects(speech("普通话的句子,使用简体中文", language="zh"), None)
    assert not guard.rejects(speech("以下", language="zh"), None)  # too short to tell
    assert not guard.rejects(speech("我们说普通话", language="zh"), None)


def test_a_prompt_echoed_after_a_word_of_the_line_is_dropped() -> None:
    """Whisper base on a short 回家吧, with the Simplified prompt: "我以为一部短剧的对白"."""
    guard = PromptEchoGuard(SIMPLIFIED_PROMPTS.values())
    assert guard.rejects(speech("我以为一部短剧的对白。", language="zh"), None)
    assert not guard.rejects(speech("这部短剧的结局很好", language="zh"), None)  # a line about a short drama


def test_guards_count_what_they_drop_by_reason() -> None:
    segments = [
        speech("The teapot is ours.", 0, 1),
        speech("The teapot is ours.", 1, 2),
        speech("字幕由Amara.org社区提供", 2, 3),
        speech("Mm.", 3, 4, no_speech_prob=0.95, avg_logprob=-2.0),
        speech("   ", 4, 5),
        speech("We leave tonight.", 5, 6),
    ]
    kept, dropped = apply_guards(segments, build_guards(AsrConfig()))
    assert [segment.text for segment in kept] == ["The teapot is ours.", "We leave tonight."]
    assert dropped == {"repeat": 1, "phantom": 1, "no_speech": 1, "empty": 1}


def test_guards_can_be_turned_off() -> None:
    segments = [speech("Thanks for watching", 0, 1), speech("Thanks for watching", 1, 2)]
    kept, dropped = apply_guards(segments, build_guards(AsrConfig(drop_phantoms=False, drop_repeats=False)))
    assert len(kept) == 2 and not dropped


# Language: the episode's first, then each line's


def region(start: float, end: float, language: str, probability: float = 0.9) -> SpeechChunk:
    return SpeechChunk(start, end, language, probability)


def heard_as(seconds: float, **probabilities: float) -> Detection:
    return Detection(seconds, probabilities)


# What Whisper base answered on the short-lines video of tests/test_real_speech.py (top four languages):
# English lines, one sure Mandarin line, and two short Mandarin lines heard as Thai and Japanese.
ENGLISH = [heard_as(3.1, en=0.81, nn=0.07, la=0.05, km=0.02), heard_as(3.5, en=0.86, la=0.09, cy=0.02, nn=0.01)]
SURE_MANDARIN = heard_as(1.7, zh=0.94, vi=0.01, en=0.01, th=0.01)
AS_THAI = heard_as(1.5, th=0.48, en=0.23, zh=0.08, ms=0.02)
AS_JAPANESE = heard_as(1.3, ja=0.26, zh=0.2, ko=0.2, en=0.11)
WINDOW = heard_as(17.6, en=0.89, la=0.03, nn=0.02)


def short_lines_episode(allowed: tuple[str, ...] = ()) -> EpisodeLanguages:
    return episode_languages([WINDOW], [*ENGLISH, SURE_MANDARIN, AS_THAI, AS_JAPANESE], allowed, sure=0.7)


def test_the_episode_speaks_its_dominant_language_and_those_detected_surely() -> None:
    episode = short_lines_episode()
    assert episode.dominant == "en" and sorted(episode.profiles) == ["en", "zh"]  # never Thai or Japanese
    assert episode.to_json()["spoken"] == ["en", "zh"]


@pytest.mark.parametrize("allowed", [(), ("zh", "en")])
def test_an_unsure_line_speaks_the_episode_language_its_detection_resembles(allowed) -> None:
    """English outranks Chinese on both short lines; their Asian answers match the episode's Mandarin."""
    episode = short_lines_episode(allowed)
    for line in (AS_THAI, AS_JAPANESE):
        language, probability = line_language(line, episode, allowed, sure=0.7)
        assert language == "zh" and 0.5 < probability <= 1
    assert line_language(ENGLISH[0], episode, allowed, sure=0.7) == ("en", 0.81)  # sure: its own


def test_a_sure_line_keeps_its_language_even_outside_the_episode() -> None:
    episode = episode_languages([WINDOW], ENGLISH, (), sure=0.7)
    assert line_language(heard_as(2.0, ko=0.9, ja=0.1), episode, (), sure=0.7) == ("ko", 0.9)
    # ...unless not allowed: then it is unsure, and the episode's language is the only candidate
    assert line_language(heard_as(2.0, ko=0.9, ja=0.1), episode, ("en", "zh"), sure=0.7)[0] == "en"


def test_an_episode_language_without_sure_speech_has_a_profile_of_itself() -> None:
    episode = episode_languages([heard_as(30, zh=0.6, en=0.4)], [heard_as(2, zh=0.5, ja=0.5)], (), sure=0.7)
    assert episode.dominant == "zh" and list(episode.profiles) == ["zh"]
    assert max(episode.profiles["zh"], key=episode.profiles["zh"].get) == "zh"


def test_windows_pack_up_to_30_s_of_speech_and_spread_over_the_episode() -> None:
    regions = [(10.0 * index, 10.0 * index + 8) for index in range(20)]  # 8 s of speech every 10 s
    windows = speech_windows(regions, count=5)
    assert [len(window) for window in windows] == [3, 3, 3, 3, 2]
    assert [window[0][0] for window in windows] == [0.0, 60.0, 90.0, 120.0, 180.0]  # windows 0, 2, 3, 4, 6 of 7
    assert speech_windows(regions[:2], count=5) == [regions[:2]]


class ScriptedDetection:
    """A stand-in for WhisperModel.detect_language: answers by the length of the audio it gets, and logs
    each call (each is one 30 s encoder pass in the real model)."""

    def __init__(self, answers: dict[float, tuple[str, float]]) -> None:
        self.answers = answers
        self.calls: list[float] = []

    def detect_language(self, audio: np.ndarray) -> tuple[str, float, list[tuple[str, float]]]:
        seconds = round(len(audio) / 16000, 1)
        self.calls.append(seconds)
        language, probability = self.answers[seconds]
        other = "en" if language == "zh" else "zh"
        return language, probability, [(language, probability), (other, 1 - probability)]


def test_each_line_and_each_window_is_detected_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Regions of 2, 1.5 and 4 s (told apart by their lengths): one window of all three (7.5 s of speech)."""
    answers = {2.0: ("zh", 0.95), 1.5: ("en", 0.6), 4.0: ("zh", 0.99), 7.5: ("zh", 0.8)}
    transcriber = SpeechTranscriber(weights=None, config=AsrConfig(languages=("zh", "en")), device="cpu")
    transcriber.model = ScriptedDetection(answers)
    monkeypatch.setattr(transcriber, "speech_regions", lambda audio: [(0.0, 2.0), (3.0, 4.5), (10.0, 14.0)])
    chunks, episode = transcriber.language_chunks(np.zeros(16000 * 15, dtype=np.float32))
    assert transcriber.model.calls == [2.0, 1.5, 4.0, 7.5]
    assert episode.dominant == "zh" and [chunk.language for chunk in chunks] == ["zh", "zh"]  # unsure en → zh


def test_a_forced_language_detects_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    transcriber = SpeechTranscriber(weights=None, config=AsrConfig(language="zh"), device="cpu")
    transcriber.model = ScriptedDetection({})
    monkeypatch.setattr(transcriber, "speech_regions", lambda audio: [(0.0, 2.0), (3.0, 4.5)])
    chunks, episode = transcriber.language_chunks(np.zeros(16000 * 5, dtype=np.float32))
    assert [(chunk.language, chunk.language_probability) for chunk in chunks] == [("zh", 1.0)] and episode is None
    assert transcriber.model.calls == []


def test_regions_group_by_language_length_and_pause() -> None:
    regions = [
        region(0.0, 2.0, "zh"),
        region(2.3, 4.0, "zh"),  # same language, short pause: joins
        region(4.2, 6.0, "en"),  # language changes: new chunk
        region(9.0, 10.0, "en"),  # 3 s pause: new chunk
        region(10.2, 40.0, "en"),  # would exceed 30 s: new chunk
    ]
    chunks = group_chunks(regions, max_seconds=30, max_gap=1.5)
    assert [(c.start, c.end, c.language) for c in chunks] == [
        (0.0, 4.0, "zh"),
        (4.2, 6.0, "en"),
        (9.0, 10.0, "en"),
        (10.2, 40.0, "en"),
    ]


def test_translations_go_to_the_segment_they_overlap_most() -> None:
    segments = [speech("我们回家", 0, 2, language="zh"), speech("OK", 2, 3), speech("茶壶在哪里", 3, 5, language="zh")]
    translated = [(0.1, 1.9, "We go home."), (3.0, 4.0, "Where is"), (4.0, 5.2, "the teapot?")]
    result = attach_translations(segments, translated)
    assert [segment.text_en for segment in result] == ["We go home.", None, "Where is the teapot?"]


# Decoding: each chunk alone, in its language


class LoggingModel:
    """A stand-in for WhisperModel.transcribe that logs what each call was given."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def transcribe(self, audio: np.ndarray, **options) -> tuple[list, None]:
        seconds = len(audio) / 16000
        self.calls.append(
            (seconds, options["language"], options["initial_prompt"], options["condition_on_previous_text"])
        )
        return [], None


def test_each_chunk_is_decoded_alone_with_only_its_languages_prompt() -> None:
    """No English text or prompt conditions a Mandarin chunk: one transcribe() call per chunk."""
    model = LoggingModel()
    options = DecodeOptions.from_config(AsrConfig(), SIMPLIFIED_PROMPTS)
    chunks = [SpeechChunk(0.0, 11.0, "en", 0.9), SpeechChunk(12.5, 18.0, "zh", 0.95)]
    SequentialDecoder(model, options).decode(np.zeros(16000 * 19, dtype=np.float32), chunks, "transcribe", True)
    assert model.calls == [(11.0, "en", None, False), (5.5, "zh", SIMPLIFIED_PROMPTS["zh"], False)]


# Translations: only from models big enough to translate


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("whisper-base", "base"),
        ("openai/whisper-base (CTranslate2)", "base"),
        ("Systran/faster-whisper-large-v3", "large"),
        ("mobiuslabsgmbh/faster-whisper-large-v3-turbo", "large"),
        ("whisper-turbo", "large"),
        ("distil-whisper-small.en", "small"),
        ("my-speech-model", None),
    ],
)
def test_a_model_size_is_told_by_its_name(name: str, size: str | None) -> None:
    assert whisper_size(name) == size


def test_every_speech_model_card_tells_its_size() -> None:
    sizes = {name: card_size(card) for name, card in speech_cards().items()}
    assert sizes == {
        "whisper-base": "base",
        "whisper-small": "small",
        "whisper-medium": "medium",
        "whisper-large-v3": "large",
        "whisper-turbo": "large",
    }


def test_sizes_are_ordered_and_an_unknown_size_is_below_every_minimum() -> None:
    assert get_args(AsrConfig.model_fields["translate_min_model"].annotation) == WHISPER_SIZES
    assert at_least("small", "small") and at_least("large", "small") and not at_least("base", "small")
    assert not at_least(None, "tiny")


class ScriptedDecoder:
    """Decodes every chunk as one line, "translating" it to English; logs the tasks asked."""

    def __init__(self) -> None:
        self.tasks: list[str] = []

    def decode(self, audio: np.ndarray, chunks: list[SpeechChunk], task: str, words: bool) -> list[SpeechSegment]:
        self.tasks.append(task)
        text = "We go home." if task == "translate" else "我们回家"
        return [speech(text, chunk.start, chunk.end, language=chunk.language) for chunk in chunks]


@pytest.mark.parametrize(("model", "translated"), [("whisper-base", False), ("whisper-small", True)])
def test_only_models_of_translate_min_model_and_up_translate(monkeypatch, model: str, translated: bool) -> None:
    weights = WhisperWeights(model, Path(model), model, None, whisper_size(model))
    transcriber = SpeechTranscriber(weights, AsrConfig(), "cpu")
    transcriber.model, transcriber.decoder = object(), ScriptedDecoder()
    monkeypatch.setattr(transcriber, "language_chunks", lambda audio: ([SpeechChunk(0.0, 2.0, "zh", 0.9)], None))
    result = transcriber.transcribe(np.zeros(16000 * 2, dtype=np.float32))
    assert transcriber.decoder.tasks == ["transcribe", "translate"][: 1 + translated]
    assert result.segments[0].text_en == ("We go home." if translated else None)


def test_speech_records_are_numbered_in_time_order_and_clipped() -> None:
    records = speech_records([speech("b", 3, 4), speech("a", 1, 2), speech("c", 9, 12)], duration=10.0)
    assert [(r.id, r.text, r.end_seconds) for r in records] == [
        ("asr-0001", "a", 2),
        ("asr-0002", "b", 4),
        ("asr-0003", "c", 10.0),
    ]
    assert records[0].source == "asr" and 0 < records[0].extra["confidence"] <= 1


# Exports


def transcript() -> Transcript:
    words = (Word("我们", 1.2, 1.6, 0.9),)
    return Transcript(
        language="zh",
        segments=(
            Segment("asr-0001", "asr", 1.2, 3.456, "我们回家 <吧>", "zh", "Let's go home & rest", words),
            Segment("ocr-0001", "ocr", 1.0, 3.5, "我们回家吧", "zh", extra={"linked_ids": ["asr-0001"]}),
            Segment("ocr-0002", "ocr", 3661.0, 3662.25, "Only on screen", "en"),
        ),
    )


def test_webvtt_export() -> None:
    assert to_vtt(transcript()) == (
        "WEBVTT\n\n"
        "asr-0001\n00:00:01.200 --> 00:00:03.456\n我们回家 &lt;吧&gt;\nLet's go home &amp; rest\n\n"
        "ocr-0002\n01:01:01.000 --> 01:01:02.250\nOnly on screen\n"
    )


def test_srt_export() -> None:
    assert to_srt(transcript()) == (
        "1\n00:00:01,200 --> 00:00:03,456\n我们回家 <吧>\nLet's go home & rest\n\n"
        "2\n01:01:01,000 --> 01:01:02,250\nOnly on screen\n"
    )


def test_exports_are_written_whole(tmp_path: Path) -> None:
    written = write_exports(transcript(), tmp_path)
    assert sorted(path.name for path in written) == ["transcript.srt", "transcript.vtt"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["transcript.srt", "transcript.vtt"]
    assert to_vtt(Transcript(language=None)) == "WEBVTT\n"


# The stage without usable audio (no model is loaded for these)


def work_with_audio(tmp_path: Path, audio: AudioTrack | None, status: StreamStatus) -> VideoWork:
    source = VideoSource(path=tmp_path / "x.mp4", relative_path="x.mp4", video_id="x")
    work = VideoWork(source=source, workdir=tmp_path)
    work.audio = audio
    work.streams["audio"] = status
    return work


def test_no_audio_stream_skips_asr_with_the_reason(tmp_path: Path) -> None:
    work = work_with_audio(tmp_path, None, StreamStatus("skipped", "the file has no audio stream"))
    AsrStage(Config()).process(work)
    assert work.streams["asr"] == StreamStatus("skipped", "the file has no audio stream")
    assert work.transcript is None


def test_failed_audio_extraction_fails_asr(tmp_path: Path) -> None:
    work = work_with_audio(tmp_path, None, StreamStatus("failed", "cannot decode audio"))
    AsrStage(Config()).process(work)
    assert work.streams["asr"] == StreamStatus("failed", "cannot decode audio")


def test_silent_audio_skips_asr(tmp_path: Path) -> None:
    track = AudioTrack(path=tmp_path / "audio.wav", sample_rate=16000, num_samples=16000, peak=0.0)
    work = work_with_audio(tmp_path, track, StreamStatus("ok", "silent track"))
    AsrStage(Config()).process(work)
    assert work.streams["asr"].status == "skipped" and "silent" in work.streams["asr"].reason


def test_disabled_asr_is_skipped(tmp_path: Path) -> None:
    work = work_with_audio(tmp_path, None, StreamStatus("ok"))
    AsrStage(Config(asr=AsrConfig(enabled=False))).process(work)
    assert work.streams["asr"] == StreamStatus("skipped", "asr.enabled is false")


def test_unknown_language_codes_are_refused_before_work() -> None:
    from motiflens.core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"unknown language code\(s\) \['xx'\]"):
        AsrStage(Config(asr=AsrConfig(languages=("zh", "xx")))).prepare()


# The real Whisper base model on the bundled samples (data/samples/samples.json is their script).


def words_of(text: str) -> list[str]:
    return [word for word in (normalise(raw) for raw in text.split()) if word]


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = words_of(reference), words_of(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, start=1):
        previous, row[0] = row[0], i
        for j, other in enumerate(hyp, start=1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != other))
    return row[-1] / max(len(ref), 1)


@pytest.fixture(scope="module")
def script(samples_dir: Path) -> dict[str, dict]:
    manifest = json.loads((samples_dir / "samples.json").read_text(encoding="utf-8"))
    return {sample["file"]: sample for sample in manifest["samples"]}


@pytest.fixture(scope="module")
def transcriber() -> SpeechTranscriber:
    """One model for the whole module, as a run loads it once per chunk of videos."""
    config = AsrConfig()
    speech_model = SpeechTranscriber(WhisperResolver(config).resolve(), config, "cpu")
    speech_model.load()
    yield speech_model
    speech_model.close()


@pytest.fixture(scope="module")
def heard(samples_dir: Path, script, transcriber, tmp_path_factory) -> dict[str, SpeechResult]:
    folder = tmp_path_factory.mktemp("asr-samples")
    results = {}
    for name in script:
        track = AudioExtractor().extract(samples_dir / name, folder / f"{name}.wav")
        results[name] = transcriber.transcribe(np.array(read_wav_float32(track.path), dtype=np.float32))
    return results


def overlapping(result: SpeechResult, line: dict) -> list[SpeechSegment]:
    return [
        segment
        for segment in result.segments
        if min(segment.end, line["end_seconds"]) - max(segment.start, line["start_seconds"]) > 0
    ]


ENGLISH_LINES = [("lantern_vow.mp4", 0), ("lantern_vow.mp4", 1), ("dumplings_mixed.mp4", 0)]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "index"), ENGLISH_LINES)
def test_english_lines_come_out_with_a_low_word_error_rate(heard, script, name: str, index: int) -> None:
    line = script[name]["lines"][index]
    segments = overlapping(heard[name], line)
    assert segments and {segment.language for segment in segments} == {"en"}
    text = " ".join(segment.text for segment in segments)
    assert word_error_rate(line["text"], text) < 0.2, text


@pytest.mark.slow
@pytest.mark.parametrize(("name", "index"), ENGLISH_LINES)
def test_english_word_times_lie_inside_the_spoken_line(heard, script, name: str, index: int) -> None:
    line = script[name]["lines"][index]
    words = [word for segment in overlapping(heard[name], line) for word in segment.words]
    assert len(words) >= len(words_of(line["text"])) - 1
    tolerance = 0.5
    for word in words:
        assert line["start_seconds"] - tolerance <= word.start_seconds <= word.end_seconds
        assert word.end_seconds <= line["end_seconds"] + tolerance, word
        assert 0 <= word.probability <= 1
    assert [word.start_seconds for word in words] == sorted(word.start_seconds for word in words)


@pytest.mark.slow
def test_mandarin_is_detected_as_chinese_in_simplified_characters(heard, script) -> None:
    result = heard["jade_teapot.mp4"]
    assert result.language == "zh"
    assert result.segments and {segment.language for segment in result.segments} == {"zh"}
    text = "".join(segment.text for segment in result.segments)
    assert has_cjk(text) and to_simplified(text) == text
    for segment in result.segments:
        assert all(to_simplified(word.word) == word.word for word in segment.words)
    spoken = "".join(line["text"] for line in script["jade_teapot.mp4"]["lines"])
    assert similarity(text, spoken) > 0.5, text  # base on synthetic speech: the gist, not every word


@pytest.mark.slow
def test_a_mixed_clip_yields_both_languages_each_at_its_line(heard, script) -> None:
    result = heard["dumplings_mixed.mp4"]
    english, chinese = script["dumplings_mixed.mp4"]["lines"]
    assert {segment.language for segment in overlapping(result, english)} == {"en"}
    assert {segment.language for segment in overlapping(result, chinese)} == {"zh"}
    # Whisper base is below asr.translate_min_model: no English text_en that the speech may not say
    assert all(segment.text_en is None for segment in result.segments)
    assert set(result.stats()["speech_seconds_by_language"]) == {"en", "zh"}
    assert all(chunk["language_probability"] > 0.5 for chunk in result.stats()["chunks"])


@pytest.mark.slow
def test_the_batched_pipeline_gives_the_same_lines(heard, transcriber, samples_dir: Path, tmp_path: Path) -> None:
    """The GPU path (faster-whisper's BatchedInferencePipeline), run on CPU so that no GPU can skip it."""
    track = AudioExtractor().extract(samples_dir / "lantern_vow.mp4", tmp_path / "a.wav")
    audio = np.array(read_wav_float32(track.path), dtype=np.float32)
    chunks = heard["lantern_vow.mp4"].chunks
    options = DecodeOptions.from_config(transcriber.config, transcriber.prompts)
    segments = BatchedDecoder(transcriber.model, options, batch_size=4).decode(audio, chunks, "transcribe", True)
    expected = " ".join(segment.text for segment in heard["lantern_vow.mp4"].segments)
    assert word_error_rate(expected, " ".join(segment.text for segment in segments)) < 0.2
    assert all(segment.words for segment in segments)
