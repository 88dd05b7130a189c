"""Probe, frames and audio on generated media (commands in tests/media.py)."""

from pathlib import Path

import media
import numpy as np
import pytest
from motiflens.core.config import FramesConfig
from motiflens.core.errors import DecodeError, UnsupportedMedia, VideoOpenFailure
from motiflens.core.records import VideoSource
from motiflens.media.audio import AudioExtractor, read_wav_float32
from motiflens.media.frames import FrameReader, sample_times
from motiflens.media.probe import is_variable_frame_rate, probe


def source(path: Path) -> VideoSource:
    return VideoSource(path=path, relative_path=path.name, video_id="test-video")


@pytest.fixture(scope="module")
def clip(media_dir: Path) -> Path:
    return media.make_clip(media_dir / "clip.mp4", seconds=3.0)


@pytest.fixture(scope="module")
def two_colour_rotated(media_dir: Path) -> Path:
    """Stored landscape: red left half, blue right half; displayed rotated 90° counter-clockwise.

    ffmpeg -f lavfi -i color=red:s=160x180:d=1 -f lavfi -i color=blue:s=160x180:d=1
           -filter_complex hstack -c:v libx264 -pix_fmt yuv420p OUT.unrotated.mp4
    ffmpeg -display_rotation:v:0 90 -i OUT.unrotated.mp4 -c copy OUT.mp4
    """
    stored = media_dir / "halves.mp4"
    media._run([
        "-f", "lavfi", "-i", "color=red:s=160x180:d=1:r=25", "-f", "lavfi", "-i", "color=blue:s=160x180:d=1:r=25",
        "-filter_complex", "hstack", *media._VIDEO_CODEC, str(stored),
    ])  # fmt: skip
    rotated = media_dir / "halves-rotated.mp4"
    media._run(["-display_rotation:v:0", "90", "-i", str(stored), "-c", "copy", str(rotated)])
    return rotated


def test_probe_reports_a_normal_vertical_clip(clip: Path) -> None:
    info = probe(source(clip))
    assert (info.width, info.height, info.rotation) == (270, 480, 0)
    assert info.orientation == "vertical"
    assert info.duration_seconds == pytest.approx(3.0, abs=0.1)
    assert info.fps == pytest.approx(25.0)
    assert info.vfr is False and info.has_audio is True and info.codec == "h264"
    assert len(info.sha256) == 64


def test_probe_applies_rotation_metadata(media_dir: Path) -> None:
    rotated = media.make_rotated(media_dir / "rotated.mp4", rotation=90)
    info = probe(source(rotated))
    # Stored 480x270, shown turned: as displayed it is a vertical 270x480 video.
    assert (info.width, info.height) == (270, 480)
    assert info.rotation == 270  # 90° counter-clockwise is 270° clockwise
    assert info.orientation == "vertical"


def test_rotated_frames_come_out_upright(two_colour_rotated: Path) -> None:
    info = probe(source(two_colour_rotated))
    assert (info.width, info.height) == (180, 320)
    (frame,) = FrameReader(FramesConfig()).read(two_colour_rotated, info, [0.0])
    assert frame.image.shape == (320, 180, 3)
    top, bottom = frame.image[:80].mean(axis=(0, 1)), frame.image[-80:].mean(axis=(0, 1))
    # Turning counter-clockwise brings the stored right (blue) half to the top.
    assert top[2] > 150 > top[0] and bottom[0] > 150 > bottom[2]


def test_probe_detects_variable_frame_rate(media_dir: Path) -> None:
    info = probe(source(media.make_vfr(media_dir / "vfr.mp4", seconds=2)))
    assert info.vfr is True
    assert info.fps == pytest.approx(20.0, rel=0.1)


def test_vfr_rule_ignores_a_single_odd_gap() -> None:
    assert is_variable_frame_rate([0.04] * 50 + [0.02]) is False
    assert is_variable_frame_rate([0.1, 0.033] * 20) is True


def test_4k_is_probed_at_full_size_and_decoded_downscaled(media_dir: Path) -> None:
    path = media.make_4k(media_dir / "4k.mp4", vertical=True)
    info = probe(source(path))
    assert (info.width, info.height) == (2160, 3840)
    frames = list(FrameReader(FramesConfig(max_side=640)).read(path, info, [0.0, 0.5]))
    assert [frame.image.shape for frame in frames] == [(640, 360, 3)] * 2
    assert frames[0].scale == pytest.approx(640 / 3840)


def test_sample_times_form_a_grid_plus_shot_starts() -> None:
    assert sample_times(3.0, 1.0) == [0.0, 1.0, 2.0]
    assert sample_times(2.5, 2.0, extra=[1.234, 9.0]) == [0.0, 0.5, 1.0, 1.234, 1.5, 2.0]
    assert sample_times(0.3, 1.0) == [0.0]


def test_frames_are_sampled_at_the_requested_times_with_and_without_seeking(clip: Path) -> None:
    info = probe(source(clip))
    times = sample_times(info.duration_seconds, 2.0)
    sequential = list(FrameReader(FramesConfig(seek_gap_seconds=100)).read(clip, info, times))
    seeking = list(FrameReader(FramesConfig(seek_gap_seconds=0)).read(clip, info, times))
    assert [frame.time_seconds for frame in sequential] == pytest.approx(times, abs=0.021)
    assert [frame.time_seconds for frame in seeking] == [frame.time_seconds for frame in sequential]
    for left, right in zip(sequential, seeking, strict=True):
        assert np.array_equal(left.image, right.image)


def test_vfr_frames_are_picked_by_timestamp(media_dir: Path) -> None:
    path = media.make_vfr(media_dir / "vfr-frames.mp4", seconds=2)
    info = probe(source(path))
    frames = list(FrameReader(FramesConfig()).read(path, info, [0.0, 0.45, 1.0, 1.2]))
    # Frames exist at 0, .1, .2, .3, .4, .5, .533...; the first at or after each time is taken.
    assert [frame.time_seconds for frame in frames] == pytest.approx([0.0, 0.5, 1.0, 1.2], abs=0.03)


def test_truncated_download_keeps_what_decodes_and_warns(media_dir: Path) -> None:
    path = media.make_truncated(media_dir / "cut.mp4", faststart=True, keep=0.5)
    info = probe(source(path))
    reader = FrameReader(FramesConfig())
    frames = list(reader.read(path, info, sample_times(info.duration_seconds, 2.0)))
    assert 0 < len(frames) < 6
    assert any("truncated" in warning or "stopped" in warning for warning in reader.warnings)


@pytest.mark.parametrize(
    ("maker", "error", "message"),
    [
        (media.make_zero_byte, VideoOpenFailure, r"empty \(0 bytes\)"),
        (media.make_not_video, VideoOpenFailure, "Invalid data"),
        (lambda p: media.make_truncated(p, faststart=False), VideoOpenFailure, "moov atom not found"),
        (lambda p: media.make_corrupt(p, keep_index=False), VideoOpenFailure, "cannot open"),
        (media.make_audio_only, UnsupportedMedia, "no video stream"),
    ],
    ids=["zero-byte", "not-video", "truncated-no-index", "corrupt-header", "audio-only"],
)
def test_bad_files_raise_precise_errors(media_dir: Path, maker, error: type, message: str) -> None:
    path = maker(media_dir / f"bad-{error.__name__}-{abs(hash(message))}.mp4")
    with pytest.raises(error, match=message):
        probe(source(path))


def test_corrupt_media_after_a_valid_index_fails_to_decode(media_dir: Path) -> None:
    path = media.make_corrupt(media_dir / "noise.mp4", keep_index=True)
    with pytest.raises(DecodeError):
        info = probe(source(path))
        list(FrameReader(FramesConfig()).read(path, info, [0.0, 1.0, 2.0]))


def test_audio_is_16k_mono_float_for_the_whole_clip(clip: Path, tmp_path: Path) -> None:
    track = AudioExtractor().extract(clip, tmp_path / "audio.wav")
    assert track is not None
    assert track.sample_rate == 16000
    assert track.duration_seconds == pytest.approx(3.0, abs=0.05)
    samples = read_wav_float32(track.path)
    assert samples.dtype == np.float32 and samples.size == track.num_samples
    assert 0.1 < float(np.abs(samples).max()) <= 1.0 and not track.silent
    import wave

    with pytest.raises(wave.Error), wave.open(str(track.path)):  # stdlib reads PCM only: the header says float
        pass


def test_silent_and_missing_audio(media_dir: Path, tmp_path: Path) -> None:
    silent = AudioExtractor().extract(media.make_silent(media_dir / "silent.mp4"), tmp_path / "silent.wav")
    assert silent is not None and silent.silent
    assert AudioExtractor().extract(media.make_no_audio(media_dir / "mute.mp4"), tmp_path / "none.wav") is None
    assert not (tmp_path / "none.wav").exists()
