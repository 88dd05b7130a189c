"""Subtitles: region choice, script split, merging reads into timed segments and reconciling them with
speech, on synthetic reads; then real RapidOCR on the bundled sample with Chinese and English subtitles."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from motiflens.cli.main import cli
from motiflens.core.config import Config, OcrConfig
from motiflens.core.records import Band, Box, FrameLayout, Segment, VideoSource
from motiflens.dialogue.ocr import (
    FrameRead,
    RecognisedFrame,
    SubtitleReader,
    merge_reads,
    ocr_regions,
    span_segments,
    split_by_script,
    unchanged,
)
from motiflens.dialogue.reconcile import agreement, reconcile
from motiflens.dialogue.text import similarity
from motiflens.stages.base import VideoWork
from motiflens.stages.ingest import IngestStage
from motiflens.stages.ocr import OcrStage
from motiflens.stages.reconcile import ReconcileStage


def layout(*bands: Band) -> FrameLayout:
    return FrameLayout(width=720, height=1280, content=Box(0, 0, 720, 1280), bands=bands, tiles=())


def test_the_subtitle_band_is_read_with_padding() -> None:
    band = Band("subtitle", 1000, 1100, 0.9)
    boxes, why = ocr_regions(layout(band), OcrConfig(band_padding=0.3, band_min_padding=0))
    assert boxes == (Box(0, 970, 720, 1130),) and why is None
    # at least 4 % of the picture height (51 px): room for one more row than ingest saw
    boxes, _ = ocr_regions(layout(band), OcrConfig(band_padding=0.3, band_min_padding=0.04))
    assert boxes == (Box(0, 949, 720, 1151),)


def test_an_upper_and_a_lower_band_are_both_read_top_first() -> None:
    bands = (Band("subtitle", 100, 150, 0.8), Band("subtitle", 1000, 1100, 0.9))
    boxes, _ = ocr_regions(layout(*bands), OcrConfig(band_padding=0.3, band_min_padding=0))
    assert boxes == (Box(0, 85, 720, 165), Box(0, 970, 720, 1130))


def test_without_a_band_ocr_skips_or_reads_the_lower_part() -> None:
    boxes, why = ocr_regions(layout(), OcrConfig())
    assert boxes == () and "no burned-in subtitle band" in why
    boxes, why = ocr_regions(layout(), OcrConfig(scan_lower_fraction=0.25))
    assert boxes == (Box(0, 960, 720, 1280),) and "lowest 25%" in why


def test_rows_split_into_chinese_and_english_in_reading_order() -> None:
    rows = ["我们今晚", "出发", "We leave", "tonight", "12:30"]
    assert split_by_script(rows) == ("我们今晚出发", "We leave tonight")


def test_recognition_is_reused_only_while_the_text_pixels_stay_put() -> None:
    rng = np.random.default_rng(0)
    grey = rng.uniform(0, 255, (60, 400)).astype(np.float32)
    boxes = np.array([[[50, 10], [350, 10], [350, 50], [50, 50]]], dtype=np.float32)
    seen = RecognisedFrame(boxes=boxes, grey=grey, read=read(0.0, en="Run"))
    drifting = grey + 8  # the scene behind the subtitle brightens a little
    assert unchanged(seen, boxes + 1, drifting, max_change=0.05)
    new_text = grey.copy()
    new_text[10:50, 50:350] = rng.uniform(0, 255, (40, 300))
    assert not unchanged(seen, boxes, new_text, max_change=0.05)
    assert not unchanged(seen, boxes + 30, grey, max_change=0.05)  # the line moved
    assert not unchanged(seen, np.concatenate([boxes, boxes + 60]), grey, max_change=0.05)


def test_detection_is_skipped_only_while_the_whole_region_stays_put() -> None:
    reader = SubtitleReader(OcrConfig())
    rng = np.random.default_rng(1)
    before = rng.uniform(0, 255, (60, 400)).astype(np.float32)
    noisy = (before + rng.normal(0, 6, before.shape)).astype(np.float32)  # sensor noise, compression
    assert reader.static(before, noisy)
    one_glyph = before.copy()
    one_glyph[20:40, 100:120] = 255 - one_glyph[20:40, 100:120]  # a 20x20 px character: 1.7 % of the region
    assert not reader.static(before, one_glyph)
    assert not reader.static(before, before[:, :300])
    assert not SubtitleReader(OcrConfig(static_max_change=0)).static(before, before)


def read(time: float, zh: str = "", en: str = "", confidence: float = 0.9) -> FrameRead:
    return FrameRead(time=time, zh=zh, en=en, confidence=confidence)


def test_consecutive_reads_of_one_subtitle_merge_into_one_timed_segment() -> None:
    config = OcrConfig(sample_fps=2.0)
    reads = [
        read(0.0),
        read(0.5, "玉茶壶想回家", "The teapot wants to go home"),
        read(1.0, "玉茶壸想回家", "The teapot wants to go home", confidence=0.7),  # one misread glyph
        read(1.5),  # a missed read inside the subtitle
        read(2.0, "玉茶壶想回家", "The teapot wants to go home"),
        read(2.5),
        read(3.0),
        read(3.5, "我们今晚出发", "We leave tonight"),
        read(4.0, "我们今晚出发", "We leave tonight"),
    ]
    segments = span_segments(merge_reads(reads, config), config.sample_fps, duration=4.2)
    assert [(s.id, s.start_seconds, s.end_seconds, s.text, s.text_en) for s in segments] == [
        ("ocr-0001", 0.25, 2.25, "玉茶壶想回家", "The teapot wants to go home"),
        ("ocr-0002", 3.25, 4.2, "我们今晚出发", "We leave tonight"),
    ]
    assert segments[0].language == "zh" and segments[0].extra["reads"] == 3


def test_a_long_gap_or_a_new_line_starts_a_new_segment() -> None:
    config = OcrConfig(sample_fps=2.0, max_gap_seconds=0.6)
    reads = [read(0.0, en="Run"), read(2.0, en="Run"), read(2.5, en="Hide")]
    assert [len(span.reads) for span in merge_reads(reads, config)] == [1, 1, 1]


def test_english_only_subtitles() -> None:
    segments = span_segments([*merge_reads([read(1.0, en="Hello")], OcrConfig())], 2.0, 10.0)
    assert (segments[0].text, segments[0].language, segments[0].text_en) == ("Hello", "en", None)


def segment(id: str, start: float, end: float, text: str, language: str, text_en: str | None = None) -> Segment:
    return Segment(id, "asr" if id.startswith("asr") else "ocr", start, end, text, language, text_en)


def test_similarity_ignores_case_punctuation_and_width() -> None:
    assert similarity("We leave, tonight!", "we leave tonight") == 1.0
    assert similarity("我们回家吧！", "我们回家吧") == 1.0
    assert 0.5 < similarity("The Jade Depot wants to go home", "The jade teapot wants to go home") < 1


def test_agreement_prefers_text_that_neither_side_translated() -> None:
    shown = [segment("ocr-0001", 0, 2, "我们回家吧", "zh", "Let's go home")]
    heard = [segment("asr-0001", 0, 2, "我们回家吧", "zh", "We go back home")]
    assert agreement(shown, heard) == (1.0, "zh")
    english_speech = [segment("asr-0002", 0, 2, "Let's go home.", "en")]
    assert agreement(shown, english_speech) == (1.0, "en")
    assert agreement([segment("ocr-0002", 0, 2, "Hola", "es")], english_speech) is None


def test_overlapping_speech_and_subtitles_are_linked_both_ways() -> None:
    speech = [
        segment("asr-0001", 0.4, 2.6, "我们回家吧", "zh", "Let's go home"),
        segment("asr-0002", 5.0, 6.0, "Hurry", "en"),
    ]
    subtitles = [
        segment("ocr-0001", 0.25, 2.75, "我们回家吧", "zh", "Let's go home"),
        segment("ocr-0002", 8.0, 9.0, "音乐", "zh"),  # under music: no speech
    ]
    result = reconcile(speech, subtitles, min_overlap=0.3)
    assert result.speech[0].extra == {"linked_ids": ["ocr-0001"], "agreement": 1.0}
    assert result.subtitles[0].extra == {"linked_ids": ["asr-0001"], "agreement": 1.0, "text_en_source": "subtitle"}
    assert "linked_ids" not in result.speech[1].extra and "linked_ids" not in result.subtitles[1].extra
    assert result.stats == {
        "linked_subtitles": 1,
        "subtitles_without_speech": 1,
        "speech_without_subtitles": 1,
        "mean_agreement": 1.0,
    }


def test_a_grazing_overlap_is_not_a_link() -> None:
    speech = [segment("asr-0001", 0.0, 2.0, "a", "en")]
    subtitles = [segment("ocr-0001", 1.9, 4.0, "b", "en")]  # 0.1 s of 2 s: under 30 %
    assert reconcile(speech, subtitles, min_overlap=0.3).stats["linked_subtitles"] == 0


# Real RapidOCR on the bundled samples: every clip has a Chinese line over its English translation.


@pytest.fixture(scope="module")
def script(samples_dir: Path) -> dict[str, dict]:
    manifest = json.loads((samples_dir / "samples.json").read_text(encoding="utf-8"))
    return {sample["file"]: sample for sample in manifest["samples"]}


@pytest.fixture(scope="module")
def shown(samples_dir: Path, script, tmp_path_factory) -> dict[str, VideoWork]:
    """Ingest (for the subtitle band) then the OCR stage, with one engine for all clips."""
    config = Config()
    ingest, ocr, reconcile = IngestStage(config), OcrStage(config), ReconcileStage(config)
    ocr.prepare()
    ocr.open()
    works = {}
    for name in script:
        source = VideoSource(path=samples_dir / name, relative_path=name, video_id=Path(name).stem)
        work = VideoWork(source=source, workdir=tmp_path_factory.mktemp(Path(name).stem))
        ingest.process(work)
        ocr.process(work)
        reconcile.process(work)
        works[name] = work
    ocr.close()
    return works


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lantern_vow.mp4", "jade_teapot.mp4", "dumplings_mixed.mp4"])
def test_bilingual_subtitles_are_read_with_their_text_and_timing(shown, script, name: str) -> None:
    work = shown[name]
    assert work.streams["ocr"].status == "ok", work.streams["ocr"]
    subtitles = [segment for segment in work.transcript.segments if segment.source == "ocr"]
    lines = script[name]["lines"]
    assert [segment.id for segment in subtitles] == [f"ocr-{n:04d}" for n in range(1, len(lines) + 1)]
    # On screen for the frames inside the spoken line; sampling at 2 fps places each edge within
    # half an interval (0.25 s), plus a frame.
    tolerance = 0.25 + 1 / script[name]["fps"] + 0.01
    for segment, line in zip(subtitles, lines, strict=True):
        assert segment.language == "zh"
        assert similarity(segment.text, line["subtitle_zh"]) >= 0.9, segment.text
        assert similarity(segment.text_en, line["subtitle_en"]) >= 0.9, segment.text_en
        assert segment.start_seconds == pytest.approx(line["start_seconds"], abs=tolerance)
        assert segment.end_seconds == pytest.approx(line["end_seconds"], abs=tolerance)
        assert segment.extra["confidence"] > 0.8


@pytest.mark.slow
def test_english_subtitle_words_keep_their_spaces(shown) -> None:
    subtitles = [s for s in shown["jade_teapot.mp4"].transcript.segments if s.source == "ocr"]
    assert subtitles[0].text_en.split()[:3] == ["This", "jade", "teapot"]


@pytest.mark.slow
def test_ocr_stats_and_exports(shown) -> None:
    work = shown["dumplings_mixed.mp4"]
    stats = work.stats["ocr"]
    assert stats["segments"] == 2 and stats["frames_read"] >= 24
    assert work.stats["reconcile"]["subtitles_without_speech"] == 2
    # The sample's shots hold still: frames that did not change reuse the last detection.
    assert stats["frames_recognised"] <= stats["frames_detected"] < stats["frames_read"]
    vtt = (work.workdir / "transcript.vtt").read_text(encoding="utf-8")
    assert "ocr-0002" in vtt and "快来吃饺子" in vtt  # no speech stage ran: the subtitles are the cues


@pytest.mark.slow
def test_a_run_links_speech_and_subtitles_in_one_sorted_transcript(samples_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(samples_dir / "dumplings_mixed.mp4"), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    video = run["videos"][0]
    assert video["streams"]["asr"] == {"status": "ok"} and video["streams"]["ocr"] == {"status": "ok"}
    assert video["stats"]["asr"]["dropped"] == {}
    assert set(video["stats"]["asr"]["speech_seconds_by_language"]) == {"en", "zh"}
    assert video["stats"]["reconcile"]["linked_subtitles"] == 2
    assert {"speech", "ocr"} <= set(run["models"])

    timeline = json.loads((out / video["timeline"]).read_text(encoding="utf-8"))  # validated by the run
    segments = timeline["transcript"]["segments"]
    assert timeline["transcript"]["language"] == "zh"  # spoken longest
    assert [s["start_seconds"] for s in segments] == sorted(s["start_seconds"] for s in segments)
    by_id = {segment["id"]: segment for segment in segments}
    assert {segment["source"] for segment in segments} == {"asr", "ocr"}
    for segment in segments:
        for other in segment.get("linked_ids", []):
            assert segment["id"] in by_id[other]["linked_ids"]
            assert by_id[other]["source"] != segment["source"]
    english = next(s for s in segments if s["source"] == "asr" and s["language"] == "en")
    assert english["agreement"] > 0.9  # the English subtitle row against the English speech

    folder = out / video["timeline"].rsplit("/", 1)[0]
    vtt = (folder / "transcript.vtt").read_text(encoding="utf-8")
    srt = (folder / "transcript.srt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT\n") and "asr-0001" in vtt and "ocr-" not in vtt  # each line once
    assert srt.startswith("1\n00:00:00,")
