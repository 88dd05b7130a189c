"""Shot boundaries: hard cuts found to the frame, fades and camera motion not taken for cuts."""

from __future__ import annotations

import json
from pathlib import Path

import media
import pytest
from motiflens.core.config import Config
from motiflens.core.records import VideoSource
from motiflens.media.probe import probe
from motiflens.stages import stage_names
from motiflens.stages.base import VideoWork
from motiflens.stages.shots import DETECTORS, ShotsStage

FRAME = 0.04  # one frame at 25 fps


def make_fade_clip(path: Path) -> Path:
    r"""A moving test pattern that fades to black over 1-2 s and back in over 2-3 s, without a cut::

        ffmpeg -hide_banner -nostdin -loglevel error -y \
            -f lavfi -i testsrc2=size=270x480:rate=25:duration=4 \
            -vf fade=t=out:st=1:d=1,fade=t=in:st=2:d=1 \
            -c:v libx264 -preset ultrafast -crf 28 -pix_fmt yuv420p -g 25 \
            -t 4 -fflags +bitexact -flags:v +bitexact OUT.mp4
    """
    media._run(
        [
            "-f", "lavfi", "-i", "testsrc2=size=270x480:rate=25:duration=4",
            "-vf", "fade=t=out:st=1:d=1,fade=t=in:st=2:d=1",
            "-c:v", "libx264", "-preset", "ultrafast", "-crf", "28", "-pix_fmt", "yuv420p", "-g", "25",
            "-t", "4", "-fflags", "+bitexact", "-flags:v", "+bitexact", str(path),
        ]
    )  # fmt: skip
    return path


def make_shaky_grainy_clip(path: Path) -> Path:
    r"""One continuous shot filmed badly: heavy temporal grain, a hand-held wobble of up to 12 px and a
    low bitrate that pumps the compression, without a cut::

        ffmpeg -hide_banner -nostdin -loglevel error -y \
            -f lavfi -i testsrc2=size=300x520:rate=25:duration=4 \
            -vf "crop=270:480:x='15+12*sin(n*0.9)':y='20+12*cos(n*1.3)',noise=alls=35:allf=t" \
            -c:v libx264 -preset ultrafast -b:v 120k -pix_fmt yuv420p -g 12 \
            -t 4 -fflags +bitexact -flags:v +bitexact OUT.mp4
    """
    media._run(
        [
            "-f", "lavfi", "-i", "testsrc2=size=300x520:rate=25:duration=4",
            "-vf", "crop=270:480:x='15+12*sin(n*0.9)':y='20+12*cos(n*1.3)',noise=alls=35:allf=t",
            "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "120k", "-pix_fmt", "yuv420p", "-g", "12",
            "-t", "4", "-fflags", "+bitexact", "-flags:v", "+bitexact", str(path),
        ]
    )  # fmt: skip
    return path


def detect(path: Path, workdir: Path, config: Config | None = None) -> VideoWork:
    config = config or Config()
    source = VideoSource(path=path, relative_path=path.name, video_id=path.stem)
    work = VideoWork(source=source, workdir=workdir)
    work.info = probe(source)
    ShotsStage(config).process(work)
    return work


def starts(work: VideoWork) -> list[float]:
    return [shot.start_seconds for shot in work.shots]


def assert_covers(work: VideoWork) -> None:
    assert work.info is not None
    assert work.shots[0].start_seconds == 0.0
    assert work.shots[-1].end_seconds == pytest.approx(work.info.duration_seconds, abs=1e-3)
    for index, (shot, following) in enumerate(zip(work.shots, work.shots[1:], strict=False)):
        assert shot.index == index and shot.end_seconds == following.start_seconds > shot.start_seconds


def test_the_stage_runs_right_after_ingest() -> None:
    assert stage_names()[:2] == ["ingest", "shots"]
    assert set(DETECTORS) == {"adaptive", "content"}


# content at its (PySceneDetect) default threshold 27 misses the testsrc2 → blue cut (its HSV change is 24.2
# at 256 px), so it runs with 22 here; the adaptive default finds both.
@pytest.mark.parametrize(
    "settings",
    [{"detector": "adaptive"}, {"detector": "content", "content_threshold": 22.0}],
    ids=["adaptive", "content"],
)
def test_hard_cuts_are_found_to_the_frame(settings: dict, media_dir: Path, tmp_path: Path) -> None:
    clip = media.make_cut_clip(media_dir / "cuts.mp4", cuts=(1.0, 2.0), seconds=3.0)
    work = detect(clip, tmp_path, Config.model_validate({"shots": settings}))
    assert len(work.shots) == 3, starts(work)
    assert starts(work)[1:] == pytest.approx([1.0, 2.0], abs=FRAME)
    assert_covers(work)
    assert work.streams["shots"].status == "ok"


def test_a_fade_out_and_in_is_not_a_cut(media_dir: Path, tmp_path: Path) -> None:
    work = detect(make_fade_clip(media_dir / "fade.mp4"), tmp_path)
    assert starts(work) == [0.0]
    assert_covers(work)


def test_a_moving_picture_without_cuts_is_one_shot(media_dir: Path, tmp_path: Path) -> None:
    work = detect(media.make_clip(media_dir / "moving.mp4", seconds=3.0, audio=False), tmp_path)
    assert len(work.shots) == 1 and work.shots[0].end_seconds == pytest.approx(3.0, abs=FRAME)


def test_grain_shake_and_compression_pumping_are_not_cuts(media_dir: Path, tmp_path: Path) -> None:
    work = detect(make_shaky_grainy_clip(media_dir / "shaky.mp4"), tmp_path)
    assert starts(work) == [0.0]
    assert_covers(work)


def test_shot_starts_match_the_bundled_samples(samples_dir: Path, tmp_path: Path) -> None:
    truth = json.loads((samples_dir / "samples.json").read_text(encoding="utf-8"))["samples"]
    for sample in truth:
        work = detect(samples_dir / sample["file"], tmp_path)
        expected = [shot["start_seconds"] for shot in sample["shots"]]
        assert starts(work) == pytest.approx(expected, abs=0.08), sample["file"]
        assert_covers(work)


def test_frame_times_include_every_shot_start(media_dir: Path, tmp_path: Path) -> None:
    clip = media.make_cut_clip(media_dir / "odd-cuts.mp4", cuts=(1.28, 2.52), seconds=3.5)
    work = detect(clip, tmp_path)
    assert len(work.shots) == 3
    assert set(starts(work)) <= set(work.frame_times)
    assert {0.0, 1.0, 2.0, 3.0} <= set(work.frame_times)  # the regular 1 fps grid stays

    off = detect(clip, tmp_path, Config.model_validate({"frames": {"shot_first_frames": False}}))
    assert off.frame_times == []  # left as ingest (here: nobody) made it


def test_disabled_shots_are_skipped_with_a_reason(media_dir: Path, tmp_path: Path) -> None:
    clip = media.make_clip(media_dir / "moving.mp4", seconds=3.0, audio=False)
    work = detect(clip, tmp_path, Config.model_validate({"shots": {"enabled": False}}))
    assert work.shots == [] and work.streams["shots"].status == "skipped"
