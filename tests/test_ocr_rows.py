"""Subtitle cues on several rows: a wrapped English line, Chinese over English, Chinese over two English rows.
Reading order and script split on synthetic boxes; then the band found on generated 540x960 frames and
real RapidOCR reading each cue whole (CER under 5 %), in frames, in a generated clip through ingest and the
OCR stage, and in the bundled sample whose Chinese row RapidOCR returns in two boxes."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import media
import numpy as np
import pytest
from motiflens.core.config import BandsConfig, Config, OcrConfig, TilesConfig
from motiflens.core.records import SampledFrame, VideoSource
from motiflens.dialogue.ocr import (
    SubtitleReader,
    TextBox,
    centred,
    join_parts,
    ocr_regions,
    region_image,
    split_by_script,
    text_rows,
)
from motiflens.media.layout import analyse_layout
from motiflens.stages.base import VideoWork
from motiflens.stages.ingest import IngestStage
from motiflens.stages.ocr import OcrStage
from motiflens.stages.reconcile import ReconcileStage
from test_media_generators import _docstring_commands

ROOT = Path(__file__).resolve().parents[1]
needs_font = pytest.mark.skipif(media.subtitle_font() is None, reason=media.SUBTITLE_FONT_MISSING)

WRAPPED = ("Don't tell anyone that we were here", "last night.")
ZH_OVER_EN = ("我带了月饼，原谅我吧。", "I brought mooncakes.")
THREE_ROWS = ("这块玉佩是我母亲留给我的。", "This jade pendant was left to me", "by my mother.")


def load_bench() -> ModuleType:
    """scripts/bench_ocr_rows.py, for its CER."""
    spec = importlib.util.spec_from_file_location("bench_ocr_rows", ROOT / "scripts" / "bench_ocr_rows.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bench = load_bench()


def cue_cer(rows: tuple[str, ...], zh: str, en: str) -> float:
    cue = bench.Cue(0.0, 1.0, rows)
    errors = bench.edit_distance(bench.units(cue.zh), bench.units(zh))
    errors += bench.edit_distance(bench.units(cue.en), bench.units(en))
    return errors / (len(bench.units(cue.zh)) + len(bench.units(cue.en)))


# Reading order and script split on boxes as RapidOCR returns them (region pixels, 1080 wide)


def box(left: float, top: float, right: float, bottom: float, text: str) -> TextBox:
    return TextBox(left, top, right, bottom, text, 0.95)


def test_a_split_row_is_read_left_to_right_whatever_order_the_boxes_come_in() -> None:
    # The second half of the Chinese row sits two pixels higher: sorting by top alone swapped the halves.
    boxes = [
        box(560, 18, 820, 80, "原谅我吧"),
        box(200, 20, 550, 82, "我带了月饼，"),
        box(330, 110, 750, 150, "I brought mooncakes."),
    ]
    rows = text_rows(boxes)
    assert [[part.text for part in row] for row in rows] == [["我带了月饼，", "原谅我吧"], ["I brought mooncakes."]]
    assert split_by_script([join_parts([part.text for part in row]) for row in rows]) == (
        "我带了月饼，原谅我吧",
        "I brought mooncakes.",
    )


def test_rows_of_a_wrapped_line_join_with_a_space_and_chinese_rows_without() -> None:
    rows = [
        [box(300, 100, 780, 140, "This jade pendant was left to me")],
        [box(200, 20, 880, 80, "这块玉佩是我母亲")],
        [box(430, 160, 650, 200, "by my mother.")],
        [box(220, 220, 860, 280, "留给我的。")],  # a Chinese line wrapped as well
    ]
    texts = [join_parts([part.text for part in row]) for row in text_rows([part for row in rows for part in row])]
    assert split_by_script(texts) == ("这块玉佩是我母亲留给我的。", "This jade pendant was left to me by my mother.")


def test_parts_join_with_a_space_only_between_latin_words() -> None:
    assert join_parts(["This jade", "pendant"]) == "This jade pendant"
    assert join_parts(["我带了月饼，", "原谅我吧"]) == "我带了月饼，原谅我吧"
    assert join_parts(["Mom,", "妈"]) == "Mom,妈"


def test_a_long_row_split_off_centre_stays_and_scene_text_beside_it_goes() -> None:
    # Each half of the subtitle is off centre on its own; together they are centred. The sign at the left
    # edge is far from them.
    row = [box(10, 20, 90, 60, "EXIT"), box(240, 20, 530, 60, "Don't tell anyone"), box(545, 20, 840, 60, "that we")]
    assert [part.text for part in centred(row, width=1080, tolerance=0.25)] == ["Don't tell anyone", "that we"]


# Real RapidOCR on generated frames and clips (needs a CJK font for the subtitles)


def frames_of(cues: list[tuple[str, ...]]) -> list[SampledFrame]:
    """Two frames of each cue on its own scene, as ingest samples a clip, then a frame without text."""
    images = [
        np.asarray(media.render_subtitle_frame(rows, seed=index)) for index, rows in enumerate(cues) for _ in range(2)
    ]
    images.append(np.asarray(media.render_subtitle_frame((), seed=len(cues))))
    return [SampledFrame(index=i, time_seconds=i * 0.5, image=image, scale=1.0) for i, image in enumerate(images)]


@pytest.fixture(scope="module")
def reader() -> Iterator[SubtitleReader]:
    reader = SubtitleReader(OcrConfig())
    reader.load()
    yield reader
    reader.close()


@needs_font
@pytest.mark.slow
@pytest.mark.parametrize("rows", [WRAPPED, ZH_OVER_EN, THREE_ROWS], ids=["wrapped", "zh-over-en", "three-rows"])
def test_a_cue_on_several_rows_is_read_whole_from_frames(reader: SubtitleReader, rows: tuple[str, ...]) -> None:
    # Mostly one-row cues, as in an episode; the cue under test is one of them.
    cues = [("We leave tonight.",), ("快走！",), rows, ("Hurry, the car is waiting.",)]
    frames = frames_of(cues)
    layout = analyse_layout(frames, 540, 960, BandsConfig(), TilesConfig())
    boxes, _ = ocr_regions(layout, OcrConfig())
    shown = frames[4]  # the first frame of the cue under test
    read = reader.read_all([(shown.time_seconds, region_image(shown, boxes))])[0]
    assert cue_cer(rows, read.zh, read.en) < 0.05, read


@needs_font
def test_the_band_takes_in_every_row_a_cue_wraps_onto() -> None:
    # The top row shows in 2 of 17 frames, under subtitle_min_presence: it joins as a row stacked on the band.
    one_row = [("We leave tonight.",), ("快走！",), ("No.",), ("Where is the key?",), ("I know.",), ("Hurry!",)]
    cues = [*one_row[:3], WRAPPED, *one_row[3:], THREE_ROWS]
    layout = analyse_layout(frames_of(cues), 540, 960, BandsConfig(), TilesConfig())
    band = layout.subtitle_band
    assert band is not None and layout.subtitle_bands == (band,)
    # Rows stack up from 88 % of the height: the Chinese row of the three-row cue tops out near 730.
    assert band.top <= 735 and band.bottom >= 845


@needs_font
def test_the_subtitle_clip_generator_runs_the_command_its_docstring_shows(tmp_path: Path) -> None:
    media.COMMAND_LOG.clear()
    out = media.make_subtitle_video(tmp_path / "OUT.mp4")
    ran = [[arg.replace(str(out), "OUT.mp4") for arg in command] for command in media.COMMAND_LOG]
    assert ran == _docstring_commands(media.make_subtitle_video.__doc__ or "")


@pytest.fixture(scope="module")
def clip_read(tmp_path_factory: pytest.TempPathFactory) -> VideoWork:
    """The generated clip through ingest (the band) and the OCR stage."""
    folder = tmp_path_factory.mktemp("subtitles")
    path = media.make_subtitle_video(folder / "subtitles.mp4")
    config = Config.model_validate({"audio": {"enabled": False}})
    ingest, ocr = IngestStage(config), OcrStage(config)
    ocr.prepare()
    ocr.open()
    work = VideoWork(source=VideoSource(path=path, relative_path=path.name, video_id="subtitles"), workdir=folder)
    ingest.process(work)
    ocr.process(work)
    ReconcileStage(config).process(work)
    ocr.close()
    return work


@needs_font
@pytest.mark.slow
def test_a_clip_of_one_and_several_row_cues_is_read_cue_by_cue(clip_read: VideoWork) -> None:
    assert clip_read.streams["ocr"].status == "ok", clip_read.streams["ocr"]
    segments = [segment for segment in clip_read.transcript.segments if segment.source == "ocr"]
    assert len(segments) == len(media.SUBTITLE_CUES)
    for (start, end, rows), segment in zip(media.SUBTITLE_CUES, segments, strict=True):
        assert start - 0.5 <= segment.start_seconds and segment.end_seconds <= end + 0.5
        zh, en = bench.read_texts(segment)
        assert cue_cer(rows, zh, en) < 0.05, (rows, segment)
    # the held cues reuse earlier reads: static band skipping still works with the taller region
    stats = clip_read.stats["ocr"]
    assert stats["frames_recognised"] <= stats["frames_detected"] < stats["frames_read"]


@pytest.mark.slow
def test_the_sample_chinese_row_that_ocr_splits_in_two_is_read_in_order(samples_dir: Path, tmp_path: Path) -> None:
    manifest = json.loads((samples_dir / "samples.json").read_text(encoding="utf-8"))
    sample = next(sample for sample in manifest["samples"] if sample["file"] == "paper_cutting_promise.mp4")
    line = next(line for line in sample["lines"] if line["subtitle_zh"] == "我带了月饼，原谅我吧。")
    config = Config.model_validate({"audio": {"enabled": False}})
    ingest, ocr = IngestStage(config), OcrStage(config)
    ocr.prepare()
    ocr.open()
    path = samples_dir / sample["file"]
    work = VideoWork(source=VideoSource(path=path, relative_path=path.name, video_id=path.stem), workdir=tmp_path)
    ingest.process(work)
    ocr.process(work)
    ReconcileStage(config).process(work)
    ocr.close()
    cue = next(
        segment
        for segment in work.transcript.segments
        if segment.source == "ocr" and segment.start_seconds < line["end_seconds"] < segment.end_seconds + 1
    )
    assert cue.text.startswith("我带了月饼，原谅我吧"), cue.text
    assert cue.text_en == "I brought mooncakes. Please forgive me."
