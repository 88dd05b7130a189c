"""One decode per video: the shared pass gives every frame stage exactly the frames its own reader would, a full
run opens one video decoder per video, a cached rerun none, and a rerun of one frame stage decodes for it alone."""

from __future__ import annotations

import json
from pathlib import Path

import media
import numpy as np
import pytest
from click.testing import CliRunner
from motiflens.cli.main import cli
from motiflens.cli.support import EXIT_OK
from motiflens.core.config import Config
from motiflens.core.records import VideoSource
from motiflens.media.container import decode_counts
from motiflens.media.decode import FrameList, run_pass
from motiflens.media.frames import FrameReader, sample_times
from motiflens.media.probe import probe
from motiflens.media.products import FrameProduct, ProductSink
from motiflens.stages.base import VideoWork
from motiflens.stages.shots import ShotSink, ShotsStage
from motiflens.visual.weights import ALLOW_TEST_MODELS_ENV
from visual_helpers import small_taxonomy

CUTS = (1.4, 2.2, 3.4)  # off the 1-fps grid: each adds a visual sample


@pytest.fixture(scope="module")
def cut_clip(media_dir: Path) -> Path:
    return media.make_cut_clip(media_dir / "decode-once-cuts.mp4", cuts=CUTS, seconds=4.5, width=360, height=640)


@pytest.fixture(scope="module")
def subtitled(media_dir: Path) -> Path:
    cues = ((0.5, 2.5, ("We leave tonight.",)), (3.0, 5.0, ("快走！",)))
    return media.make_subtitle_video(media_dir / "decode-once-subtitles.mp4", cues=cues, seconds=5.5)


def frames_equal(got: list, want: list) -> None:
    assert [(f.index, f.time_seconds, f.scale) for f in got] == [(f.index, f.time_seconds, f.scale) for f in want]
    for mine, theirs in zip(got, want, strict=True):
        assert mine.image.dtype == np.uint8 and np.array_equal(mine.image, theirs.image)


def test_one_pass_gives_each_consumer_the_frames_its_own_reader_gives(cut_clip: Path, tmp_path: Path) -> None:
    config = Config()
    info = probe(VideoSource(cut_clip, cut_clip.name, "cuts"))
    layout_times = [0.3, 1.7, 2.9, 4.1]
    layout = FrameList("layout", layout_times, 200, info)
    shots = ShotSink(config.shots, info)
    ocr_times = sample_times(info.duration_seconds, 2.0)
    ocr = ProductSink("ocr", ocr_times, 640, info, tmp_path)
    visual = ProductSink("visual", sample_times(info.duration_seconds, 1.0), 300, info, tmp_path)
    shots.listeners.append(lambda time, source: visual.add(time, source))

    before = decode_counts(cut_clip)
    run_pass(cut_clip, info, [layout, shots, ocr, visual], config.frames, depth=4)
    after = decode_counts(cut_clip)
    assert after.opens - before.opens == 1
    # the 1-fps grid is decoded anyway for the shots (15 fps of a 25 fps clip): no frame twice
    assert after.frames - before.frames <= round(info.duration_seconds * info.fps) + 1

    starts = shots.starts()
    assert starts == pytest.approx(CUTS, abs=0.041)  # each cut found to the frame
    work = VideoWork(source=VideoSource(cut_clip, cut_clip.name, "cuts"), workdir=tmp_path / "alone", info=info)
    ShotsStage(config).process(work)  # no product there: the stage decodes on its own, and finds the same cuts
    assert [shot.start_seconds for shot in work.shots[1:]] == starts

    def reader(max_side: int):
        return FrameReader(config.frames.model_copy(update={"max_side": max_side}))

    frames_equal(layout.frames, list(reader(200).read(cut_clip, info, layout_times)))
    frames_equal(list(FrameProduct.load(tmp_path, "ocr").frames()), list(reader(640).read(cut_clip, info, ocr_times)))
    # The visual samples: the grid plus every shot's first frame, as the visual stage would read them after shots.
    visual_times = sample_times(info.duration_seconds, 1.0, extra=starts)
    from_pass = list(FrameProduct.load(tmp_path, "visual").frames())
    assert len(from_pass) == len(visual_times) == 5 + len(CUTS)
    frames_equal(from_pass, list(reader(300).read(cut_clip, info, visual_times)))


def test_a_product_keeps_what_breaks_part_way(media_dir: Path, tmp_path: Path) -> None:
    truncated = media.make_truncated(media_dir / "decode-once-truncated.mp4")
    info = probe(VideoSource(truncated, truncated.name, "truncated"))
    times = sample_times(info.duration_seconds, 2.0)
    sink = ProductSink("ocr", times, 320, info, tmp_path)
    run_pass(truncated, info, [sink], Config().frames, depth=2)
    product = FrameProduct.load(tmp_path, "ocr")
    own = FrameReader(Config().frames.model_copy(update={"max_side": 320}))
    frames_equal(list(product.frames()), list(own.read(truncated, info, times)))
    assert product.warnings == own.warnings and any("truncated" in warning for warning in product.warnings)


def run(*args: str) -> None:
    result = CliRunner().invoke(cli, ["run", "--quiet", *args])
    assert result.exit_code == EXIT_OK, result.output


def test_a_full_run_opens_one_decoder_per_video_and_a_cached_rerun_none(
    cut_clip: Path, subtitled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOW_TEST_MODELS_ENV, "1")
    inputs = tmp_path / "in"
    inputs.mkdir()
    videos = [Path(inputs / path.name) for path in (cut_clip, subtitled)]
    for video, original in zip(videos, (cut_clip, subtitled), strict=True):
        video.symlink_to(original)
    out = tmp_path / "out"
    settings = [
        str(inputs), "--out", str(out), "--set", "asr.enabled=false", "--set", "story.enabled=false",
        "--set", "visual.model=test", "--set", "visual.builtin_taxonomy=false",
        "--set", f"visual.taxonomy=[{small_taxonomy(tmp_path / 'small.yaml')}]", "--set", "visual.threshold=0.01",
    ]  # fmt: skip

    def opens() -> list[int]:
        return [decode_counts(video).opens for video in videos]

    def run_json() -> dict:
        return json.loads((out / "run.json").read_text(encoding="utf-8"))

    start = opens()
    run(*settings)
    assert [now - then for now, then in zip(opens(), start, strict=True)] == [1, 1]
    for video in run_json()["videos"]:
        assert video["streams"]["visual"]["status"] == "ok" and video["streams"]["shots"]["status"] == "ok"
        decode = video["stats"]["decode"]
        assert decode["decoder_opens"] == 1 and decode["consumers"] == ["layout", "ocr", "shots", "visual"]
    by_id = {video["path"]: video for video in run_json()["videos"]}
    assert by_id[subtitled.name]["streams"]["ocr"]["status"] == "ok"
    assert by_id[subtitled.name]["stats"]["ocr"]["segments"] == 2
    assert not list(out.rglob("frames")), "every frame product was read and deleted"

    start = opens()
    run(*settings)
    assert opens() == start, "a rerun with valid checkpoints decodes nothing"
    assert all("visual" in video["cached_stages"] for video in run_json()["videos"])

    # Only OCR reruns: it decodes for itself where it reads (the subtitled clip), not where ingest found no band.
    run(*settings, "--set", "ocr.min_confidence=0.7")
    assert [now - then for now, then in zip(opens(), start, strict=True)] == [0, 1]
    for video in run_json()["videos"]:
        assert {"ingest", "shots", "visual"} <= set(video["cached_stages"]) and "ocr" not in video["cached_stages"]
    assert not list(out.rglob("frames"))
