"""Each generator in tests/media.py makes what it claims, checked with PyAV (and, for rotation, ffmpeg)."""

from __future__ import annotations

import hashlib
import inspect
import shlex
import subprocess
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import av.error
import media
import numpy as np
import pytest


def _open_streams(path: Path) -> dict[str, list]:
    with av.open(str(path)) as c:
        return {
            "video": [(s.codec_context.name, s.width, s.height) for s in c.streams.video],
            "audio": [(s.codec_context.name, s.sample_rate, s.channels) for s in c.streams.audio],
        }


def _duration(path: Path) -> float:
    with av.open(str(path)) as c:
        return c.duration / 1_000_000


def _video_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def _audio_samples(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.concatenate([f.to_ndarray().ravel() for f in c.decode(audio=0)])


def _video_packet_pts(path: Path) -> list[int]:
    with av.open(str(path)) as c:
        return sorted(p.pts for p in c.demux(video=0) if p.pts is not None)


# --- docstrings hold the exact commands ----------------------------------------------------------------


def _docstring_commands(doc: str) -> list[list[str]]:
    """Shell commands in a docstring: ``ffmpeg ...`` lines joined over trailing backslashes.

    " \\" at a line end continues with a space; a bare "\\" continues the same word (used inside the
    quoted filter graph). The continuation line's indentation is dropped either way.
    """
    lines = inspect.cleandoc(doc).splitlines()
    commands: list[list[str]] = []
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line.startswith("ffmpeg "):
            continue
        while line.endswith("\\") and i < len(lines):
            line = line[:-1] + lines[i].strip()
            i += 1
        commands.append(shlex.split(line))
    return commands


GENERATORS: dict[str, Callable[[Path], Path]] = {
    "make_clip": media.make_clip,
    "make_cut_clip": media.make_cut_clip,
    "make_no_audio": media.make_no_audio,
    "make_audio_only": media.make_audio_only,
    "make_silent": media.make_silent,
    "make_short": media.make_short,
    "make_rotated": media.make_rotated,
    "make_vfr": media.make_vfr,
    "make_two_video_streams": media.make_two_video_streams,
    "make_cover_art": media.make_cover_art,
    "make_4k": media.make_4k,
    "make_truncated": media.make_truncated,
    "make_corrupt": media.make_corrupt,
}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_docstring_commands_are_the_ones_run(name: str, tmp_path: Path) -> None:
    gen = GENERATORS[name]
    out = tmp_path / "OUT.mp4"
    media.COMMAND_LOG.clear()
    assert gen(out) == out
    ran = [[arg.replace(str(out), "OUT.mp4") for arg in cmd] for cmd in media.COMMAND_LOG]
    assert ran, f"{name} ran no ffmpeg command"
    assert _docstring_commands(gen.__doc__ or "") == ran


def test_docstring_parser_sees_a_difference() -> None:
    # Guard against the comparison above passing vacuously.
    doc = "x::\n\n    ffmpeg -y \\\n        -i a \\\n        b\n"
    assert _docstring_commands(doc) == [["ffmpeg", "-y", "-i", "a", "b"]]
    assert _docstring_commands(doc) != [["ffmpeg", "-y", "-i", "a", "c"]]


# --- ordinary clips -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(270, 480), (480, 270), (360, 360)])
def test_make_clip_sizes_streams_duration(tmp_path: Path, width: int, height: int) -> None:
    path = media.make_clip(tmp_path / media.ODD_NAME, width=width, height=height)
    assert path.name == media.ODD_NAME
    assert _open_streams(path) == {"video": [("h264", width, height)], "audio": [("aac", 48000, 2)]}
    assert _duration(path) == pytest.approx(3.0, abs=0.05)
    frames = _video_frames(path)
    assert len(frames) == 75
    assert not np.array_equal(frames[0], frames[-1]), "pattern should move"
    assert np.abs(_audio_samples(path)).max() > 0.05


def test_make_clip_noise_audio_and_mono(tmp_path: Path) -> None:
    path = media.make_clip(tmp_path / "n.mp4", seconds=1.0, audio_source="noise", channels=1)
    assert _open_streams(path)["audio"] == [("aac", 48000, 1)]
    assert np.abs(_audio_samples(path)).max() > 0.05


def test_make_clip_is_deterministic(tmp_path: Path) -> None:
    a = media.make_clip(tmp_path / "a.mp4", seconds=1.0).read_bytes()
    b = media.make_clip(tmp_path / "b.mp4", seconds=1.0).read_bytes()
    assert hashlib.sha256(a).digest() == hashlib.sha256(b).digest()


@pytest.mark.parametrize(
    ("cuts", "seconds", "expected"),
    [((1.0, 2.0), 3.0, [25, 50]), ((0.4, 1.2, 2.0), 2.4, [10, 30, 50])],
)
def test_make_cut_clip_cuts_at_given_frames(
    tmp_path: Path, cuts: tuple[float, ...], seconds: float, expected: list[int]
) -> None:
    path = media.make_cut_clip(tmp_path / "cut.mp4", cuts=cuts, seconds=seconds)
    frames = _video_frames(path)
    assert len(frames) == round(seconds * 25)
    means = np.array([f.reshape(-1, 3).mean(axis=0) for f in frames])
    jumps = np.abs(np.diff(means, axis=0)).sum(axis=1)  # jumps[i]: change from frame i to frame i+1
    cut_frames = sorted(int(i) + 1 for i in np.argsort(jumps)[-len(expected) :])
    assert cut_frames == expected
    others = np.delete(jumps, [c - 1 for c in expected])
    assert jumps[[c - 1 for c in expected]].min() > 5 * max(others.max(), 1.0)


def test_make_cut_clip_rejects_bad_cuts(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        media.make_cut_clip(tmp_path / "bad.mp4", cuts=(2.0, 1.0))


def test_make_no_audio(tmp_path: Path) -> None:
    path = media.make_no_audio(tmp_path / "v.mp4")
    assert _open_streams(path) == {"video": [("h264", 270, 480)], "audio": []}


@pytest.mark.parametrize("suffix", [".m4a", ".mp4"])
def test_make_audio_only(tmp_path: Path, suffix: str) -> None:
    path = media.make_audio_only(tmp_path / f"a{suffix}")
    assert _open_streams(path) == {"video": [], "audio": [("aac", 48000, 2)]}
    assert _duration(path) == pytest.approx(3.0, abs=0.05)
    # What a decoder that assumes video sees: IndexError from the empty streams.video tuple.
    with av.open(str(path)) as c, pytest.raises(IndexError):
        next(c.decode(video=0))


def test_make_silent_is_digital_silence(tmp_path: Path) -> None:
    path = media.make_silent(tmp_path / "s.mp4")
    assert _open_streams(path) == {"video": [("h264", 270, 480)], "audio": [("aac", 48000, 2)]}
    samples = _audio_samples(path)
    assert samples.size > 48000 * 2 * 2.5
    assert np.abs(samples).max() == 0.0


def test_make_short(tmp_path: Path) -> None:
    path = media.make_short(tmp_path / "short.mp4")
    assert _duration(path) < 0.5
    assert len(_video_frames(path)) == 8


@pytest.mark.parametrize("vertical", [True, False])
def test_make_4k(tmp_path: Path, vertical: bool) -> None:
    path = media.make_4k(tmp_path / "4k.mp4", vertical=vertical)
    size = (2160, 3840) if vertical else (3840, 2160)
    assert _open_streams(path) == {"video": [("h264", *size)], "audio": []}
    assert _duration(path) == pytest.approx(1.0, abs=0.05)


# --- rotation -------------------------------------------------------------------------------------------


def _ffmpeg_first_frame_autorotated(path: Path, width: int, height: int) -> np.ndarray:
    # ffmpeg applies the display matrix by default (autorotate), i.e. it shows what a player shows.
    cmd = [media.ffmpeg_exe(), "-v", "error", "-i", str(path), "-frames:v", "1"]
    raw = subprocess.run([*cmd, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True)
    return np.frombuffer(raw.stdout, np.uint8).reshape(height, width, 3)


@pytest.mark.parametrize(("rotation", "pyav_raw"), [(90, 90), (-90, -90), (270, -90), (180, -180)])
def test_make_rotated_reads_back_and_rot90_makes_it_upright(
    tmp_path: Path, rotation: int, pyav_raw: int
) -> None:
    path = media.make_rotated(tmp_path / media.ODD_NAME, rotation=rotation)
    assert not path.with_name(path.name + ".unrotated.mp4").exists()
    assert _open_streams(path)["video"] == [("h264", 480, 270)]  # stored landscape
    assert media.read_rotation_degrees(path) == rotation % 360
    with av.open(str(path)) as c:
        frame = next(c.decode(video=0))
        assert frame.rotation == pyav_raw
        stored = frame.to_ndarray(format="rgb24")
    # The rule the package relies on: np.rot90(stored, k=rotation // 90) is what players display.
    upright = np.rot90(stored, k=frame.rotation // 90)
    shown = _ffmpeg_first_frame_autorotated(path, upright.shape[1], upright.shape[0])
    assert np.array_equal(upright, shown)


def test_unrotated_clip_reads_zero(tmp_path: Path) -> None:
    assert media.read_rotation_degrees(media.make_clip(tmp_path / "c.mp4", seconds=0.2)) == 0


# --- variable frame rate --------------------------------------------------------------------------------


def test_make_vfr_has_two_frame_durations(tmp_path: Path) -> None:
    path = media.make_vfr(tmp_path / "vfr.mp4")
    pts = _video_packet_pts(path)
    assert len(pts) == 40
    steps = np.diff(pts)
    assert set(steps.tolist()) == {3000, 9000}  # 1/30 s and 1/10 s in a 1/90000 time base
    # Per second: 5 steps of 100 ms then 15 of 33.3 ms; the last second has no step out of its final frame.
    assert (steps == 9000).sum() == 10 and (steps == 3000).sum() == 29
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        assert s.time_base == Fraction(1, 90000)
        assert float(s.average_rate) == pytest.approx(19.83, abs=0.01)  # 40 frames / 2.0167 s
        assert s.guessed_rate == 30  # r_frame_rate: the fastest regular rate, not the mean


def test_make_vfr_with_audio(tmp_path: Path) -> None:
    path = media.make_vfr(tmp_path / "vfr.mp4", audio=True)
    assert len(_video_packet_pts(path)) == 40
    assert _open_streams(path)["audio"] == [("aac", 48000, 2)]


def test_cfr_clip_is_not_vfr(tmp_path: Path) -> None:
    # The control for the VFR check: a normal clip has one frame duration.
    steps = np.diff(_video_packet_pts(media.make_clip(tmp_path / "c.mp4", seconds=1.0)))
    assert set(steps.tolist()) == {512}


# --- broken files ---------------------------------------------------------------------------------------


def test_truncated_faststart_opens_and_decodes_a_prefix(tmp_path: Path) -> None:
    path = media.make_truncated(tmp_path / "t.mp4", faststart=True)
    full = media.make_clip(tmp_path / "full.mp4", faststart=True)
    assert path.stat().st_size == full.stat().st_size // 2
    with av.open(str(path)) as c:
        assert c.duration / 1_000_000 == pytest.approx(3.0, abs=0.05)  # the index still claims 3 s
        assert c.streams.video[0].frames == 75
        times: list[float] = []
        with pytest.raises(av.error.InvalidDataError):  # default (slice) threading: the cut packet raises
            for f in c.decode(video=0):
                times.append(f.time)
    assert 10 < len(times) < 70
    assert times == sorted(times) and times[-1] < 2.0


def test_truncated_without_faststart_does_not_open(tmp_path: Path) -> None:
    path = media.make_truncated(tmp_path / "t.mp4", faststart=False)
    with pytest.raises(av.error.InvalidDataError):
        av.open(str(path))


def test_zero_byte(tmp_path: Path) -> None:
    path = media.make_zero_byte(tmp_path / "z.mp4")
    assert path.stat().st_size == 0
    with pytest.raises(av.error.InvalidDataError):
        av.open(str(path))


def test_not_video(tmp_path: Path) -> None:
    path = media.make_not_video(tmp_path / "notes.mp4")
    assert path.read_text(encoding="utf-8").startswith("This is not a video.")
    with pytest.raises(av.error.InvalidDataError):
        av.open(str(path))


def test_corrupt_opens_but_does_not_decode(tmp_path: Path) -> None:
    path = media.make_corrupt(tmp_path / "c.mp4")
    assert _open_streams(path) == {"video": [("h264", 270, 480)], "audio": [("aac", 48000, 2)]}
    decoded = errors = 0
    with av.open(str(path)) as c:
        for packet in c.demux(video=0):
            try:
                decoded += len(packet.decode())
            except av.error.InvalidDataError:
                errors += 1
    assert decoded == 0 and errors > 50


def test_corrupt_is_seeded(tmp_path: Path) -> None:
    a = media.make_corrupt(tmp_path / "a.mp4", seed=1).read_bytes()
    b = media.make_corrupt(tmp_path / "b.mp4", seed=1).read_bytes()
    c = media.make_corrupt(tmp_path / "c.mp4", seed=2).read_bytes()
    assert a == b != c


def test_corrupt_without_index_does_not_open(tmp_path: Path) -> None:
    path = media.make_corrupt(tmp_path / "c.mp4", keep_index=False)
    with pytest.raises(av.error.InvalidDataError):
        av.open(str(path))
