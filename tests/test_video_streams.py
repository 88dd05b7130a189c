"""Which video stream is analysed: ffmpeg's choice, never cover art (media commands in tests/media.py)."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
from pathlib import Path

import jsonschema
import media
import pytest
from click.testing import CliRunner
from motiflens.cli.main import cli
from motiflens.core.config import Config, FramesConfig
from motiflens.core.errors import UnsupportedMedia
from motiflens.core.records import MediaStream, VideoInfo, VideoSource
from motiflens.media.frames import FrameReader
from motiflens.media.probe import choose_video_stream, probe
from motiflens.run.checkpoint import decode, encode
from motiflens.run.timeline import timeline_schema
from motiflens.stages.base import VideoWork
from motiflens.stages.ingest import IngestStage


def source(path: Path) -> VideoSource:
    return VideoSource(path=path, relative_path=path.name, video_id="test-video")


def ffmpeg_video_choice(path: Path) -> int:
    """The input stream index ffmpeg maps to video when left to choose (its "Stream mapping" log line)."""
    proc = subprocess.run(
        [media.ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-frames:v", "1", "-an", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"Stream #0:(\d+)\S* -> #0:0", proc.stderr)
    assert match, proc.stderr
    return int(match.group(1))


def video_schema_validator() -> jsonschema.Draft202012Validator:
    schema = timeline_schema()
    return jsonschema.Draft202012Validator({**schema["properties"]["video"], "$defs": schema["$defs"]})


@pytest.fixture(scope="module")
def two_streams(media_dir: Path) -> Path:
    return media.make_two_video_streams(media_dir / "two-streams.mkv")


@pytest.fixture(scope="module")
def cover_first(media_dir: Path) -> Path:
    return media.make_cover_art(media_dir / "cover-first.mp4")


# --- the rule itself ------------------------------------------------------------------------------------


def video(index: int, width: int, height: int, *, default: bool = False, attached_pic: bool = False) -> MediaStream:
    return MediaStream(index, "video", "h264", width, height, default=default, attached_pic=attached_pic)


def test_the_largest_picture_wins_and_a_tie_goes_to_the_first() -> None:
    assert choose_video_stream([video(0, 320, 180), video(1, 480, 270)]).index == 1
    assert choose_video_stream([video(0, 480, 270), video(1, 270, 480)]).index == 0


def test_default_disposition_is_worth_five_megapixels_as_in_ffmpeg() -> None:
    assert choose_video_stream([video(0, 1920, 1080), video(1, 320, 180, default=True)]).index == 1
    # 3840x2160 is 8.3 MP: more than a default 1280x720 (0.9 MP + 5 MP bonus), so ffmpeg takes it.
    assert choose_video_stream([video(0, 1280, 720, default=True), video(1, 3840, 2160)]).index == 1


def test_cover_art_is_never_chosen_even_when_alone() -> None:
    cover = video(0, 1000, 1000, default=True, attached_pic=True)
    assert choose_video_stream([cover, video(1, 320, 180)]).index == 1
    audio = MediaStream(1, "audio", "aac", sample_rate=48000, channels=2)
    assert choose_video_stream([cover, audio]) is None


# --- generated files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("default", "index", "size", "fps"),
    [(None, 1, (480, 270), 30000 / 1001), (1, 1, (480, 270), 30000 / 1001), (0, 0, (320, 180), 25.0)],
    ids=["none-default-largest-wins", "larger-is-default", "smaller-is-default"],
)
def test_two_video_streams_are_probed_and_decoded_as_ffmpeg_chooses(
    media_dir: Path, default: int | None, index: int, size: tuple[int, int], fps: float
) -> None:
    path = media.make_two_video_streams(media_dir / f"two-default-{default}.mkv", default=default)
    info = probe(source(path))
    assert info.video_stream_index == index == ffmpeg_video_choice(path)
    assert (info.width, info.height) == size
    assert info.fps == pytest.approx(fps, rel=1e-4)
    # Every frame of the first 0.3 s: their spacing tells which stream was decoded (frames are scaled to
    # the probed size whatever their source, so their shape alone would not).
    frames = list(FrameReader(FramesConfig()).read(path, info, [k / 100 for k in range(30)]))
    gaps = {round(later.time_seconds - earlier.time_seconds, 2) for earlier, later in itertools.pairwise(frames)}
    assert gaps == {round(1 / fps, 2)}
    assert {frame.image.shape for frame in frames} == {(size[1], size[0], 3)}


def test_cover_art_placed_first_is_ignored(cover_first: Path) -> None:
    info = probe(source(cover_first))
    first = info.media_streams[0]
    assert (first.type, first.codec, first.attached_pic, first.width) == ("video", "png", True, 400)
    assert info.video_stream_index == 1 == ffmpeg_video_choice(cover_first)
    assert (info.width, info.height, info.codec, info.fps) == (320, 180, "h264", 25.0)
    assert info.duration_seconds == pytest.approx(2.0, abs=0.05)
    # Decoding the cover instead would give one timeless frame, passed off as the first sample.
    frames = list(FrameReader(FramesConfig()).read(cover_first, info, [0.0, 1.0, 1.8]))
    assert [frame.time_seconds for frame in frames] == [0.0, 1.0, 1.8]
    assert {frame.image.shape for frame in frames} == {(180, 320, 3)}


def test_cover_art_with_audio_is_skipped_like_an_audio_only_file(media_dir: Path, tmp_path: Path) -> None:
    path = media.make_cover_art(media_dir / "song-with-cover.mp4", video=False)
    work = VideoWork(source=source(path), workdir=tmp_path)
    with pytest.raises(UnsupportedMedia, match=r"no video stream \(attached picture, audio\)") as caught:
        IngestStage(Config()).process(work)
    assert caught.value.status == "skipped"


def test_ingest_lays_out_the_chosen_stream(two_streams: Path, tmp_path: Path) -> None:
    work = VideoWork(source=source(two_streams), workdir=tmp_path)
    IngestStage(Config()).process(work)
    assert work.info is not None and work.info.video_stream_index == 1
    assert (work.layout.width, work.layout.height) == (480, 270)
    assert work.streams["audio"].status == "ok"


# --- what is recorded -----------------------------------------------------------------------------------


def test_probe_command_lists_every_stream_and_the_one_used(two_streams: Path) -> None:
    result = CliRunner().invoke(cli, ["probe", str(two_streams)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["video_stream_index"] == 1
    assert doc["media_streams"] == [
        {"index": 0, "type": "video", "codec": "h264", "width": 320, "height": 180, "fps": 25.0,
         "default": False, "attached_pic": False},
        {"index": 1, "type": "video", "codec": "h264", "width": 480, "height": 270, "fps": 29.97,
         "default": False, "attached_pic": False},
        {"index": 2, "type": "audio", "codec": "aac", "sample_rate": 48000, "channels": 2,
         "default": False, "attached_pic": False},
    ]  # fmt: skip


def test_timeline_names_the_stream_only_when_there_was_a_choice(two_streams: Path, media_dir: Path) -> None:
    validator = video_schema_validator()
    chosen = probe(source(two_streams)).to_json()
    validator.validate(chosen)
    assert chosen["video_stream_index"] == 1 and len(chosen["media_streams"]) == 3
    # One video stream: the timeline's video object keeps exactly its earlier fields (byte-stable outputs).
    single = probe(source(media.make_clip(media_dir / "single.mp4", seconds=1.0))).to_json()
    validator.validate(single)
    assert "video_stream_index" not in single and "media_streams" not in single


def test_stream_choice_survives_a_checkpoint(cover_first: Path) -> None:
    info = probe(source(cover_first))
    restored = decode(json.loads(json.dumps(encode(info))))
    assert restored == info and isinstance(restored.media_streams[0], MediaStream)


def test_records_from_before_streams_were_listed_still_load() -> None:
    old = encode(VideoInfo("v", "v.mp4", "0" * 64, 1, 1.0, 2, 2, 0, 25.0, False, "h264", False))
    del old["video_stream_index"], old["media_streams"]
    assert decode(old).video_stream_index == 0
