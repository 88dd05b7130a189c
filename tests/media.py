"""Generate small test videos at test time with the ffmpeg binary bundled by imageio-ffmpeg.

Nothing is downloaded and no system ffmpeg is used. Each generator takes an output path (plus a few keyword
options), writes the file, and returns the path as a ``Path``. Each docstring holds the exact command(s) run
with the default options, ``ffmpeg`` standing for ``imageio_ffmpeg.get_ffmpeg_exe()`` and ``OUT.mp4`` for the
output path; ``tests/test_media_generators.py`` checks that those docstrings match what really runs.

Every generator is tiny (a few hundred KiB at most) and takes well under a second on two cores.
"""

from __future__ import annotations

import functools
import itertools
import random
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

import imageio_ffmpeg

if TYPE_CHECKING:
    from PIL import Image

# A file name that exercises unicode and spaces; callers build paths with it (e.g. tmp_path / ODD_NAME).
ODD_NAME = "第一集 episode 1 (final).mp4"

# Every argv passed to ffmpeg, in order. Tests clear it, call a generator and compare against the docstring.
COMMAND_LOG: list[list[str]] = []

# Shared encoder settings: ultrafast keeps generation quick, a 1 s GOP gives seek tests several keyframes,
# and bitexact keeps encoder version strings out so the same call gives the same bytes (content-hash tests).
_VIDEO_CODEC = ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "28", "-pix_fmt", "yuv420p"]
_AUDIO_CODEC = ["-c:a", "aac", "-b:a", "64k"]
_BITEXACT = ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact"]
_SAMPLE_RATE = 48000

AudioSource = Literal["sine", "noise"]


@functools.cache
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary that imageio-ffmpeg ships (no system ffmpeg needed)."""
    return imageio_ffmpeg.get_ffmpeg_exe()


def _run(args: Sequence[str]) -> None:
    """Run ffmpeg quietly; on failure raise with its stderr so a broken generator is easy to see."""
    argv = ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    COMMAND_LOG.append(["ffmpeg", *argv])
    proc = subprocess.run([ffmpeg_exe(), *argv], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed ({proc.returncode}): {' '.join(argv)}\n{proc.stderr}")


def _fmt(x: float) -> str:
    # "3" rather than "3.0" keeps the commands in docstrings readable and stable.
    return f"{x:g}"


def _audio_input(source: AudioSource, seconds: float) -> list[str]:
    dur = _fmt(seconds)
    if source == "sine":
        spec = f"sine=frequency=440:sample_rate={_SAMPLE_RATE}:duration={dur}"
    elif source == "noise":
        # Seeded so the bytes are reproducible.
        spec = f"anoisesrc=color=pink:amplitude=0.3:seed=1:sample_rate={_SAMPLE_RATE}:duration={dur}"
    else:
        raise ValueError(f"unknown audio source {source!r}")
    return ["-f", "lavfi", "-i", spec]


def make_clip(
    path: str | Path,
    *,
    width: int = 270,
    height: int = 480,
    seconds: float = 3.0,
    fps: int = 25,
    audio: bool = True,
    audio_source: AudioSource = "sine",
    channels: int = 2,
    faststart: bool = False,
) -> Path:
    r"""A normal H.264 (+ AAC) clip of a moving test pattern; 9:16 by default, any size by width/height.

    With the defaults it runs::

        ffmpeg -hide_banner -nostdin -loglevel error -y \
            -f lavfi -i testsrc2=size=270x480:rate=25:duration=3 \
            -f lavfi -i sine=frequency=440:sample_rate=48000:duration=3 \
            -map 0:v -c:v libx264 -preset ultrafast -crf 28 -pix_fmt yuv420p -g 25 \
            -map 1:a -c:a aac -b:a 64k -ac 2 \
            -t 3 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact OUT.mp4

    ``audio=False`` drops the second input and the audio options; ``audio_source="noise"`` uses
    ``anoisesrc=color=pink:amplitude=0.3:seed=1:...`` instead of the sine; ``faststart=True`` adds
    ``-movflags +faststart`` (moov atom before mdat) before the output path.
    """
    path = Path(path)
    dur = _fmt(seconds)
    args = ["-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}:duration={dur}"]
    if audio:
        args += _audio_input(audio_source, seconds)
    args += ["-map", "0:v", *_VIDEO_CODEC, "-g", str(fps)]
    if audio:
        args += ["-map", "1:a", *_AUDIO_CODEC, "-ac", str(channels)]
    args += ["-t", dur, *_BITEXACT]
    if faststart:
        args += ["-movflags", "+faststart"]
    _run([*args, str(path)])
    return path


# Adjacent segments alternate between a flat colour and a busy pattern, so every cut changes both the mean
# colour and the histogram a lot.
_CUT_SOURCES = (
    "color=color=red",
    "testsrc2",
    "color=color=blue",
    "smptebars",
    "color=color=green",
    "testsrc",
)


def make_cut_clip(
    path: str | Path,
    *,
    cuts: Sequence[float] = (1.0, 2.0),
    seconds: float = 3.0,
    width: int = 270,
    height: int = 480,
    fps: int = 25,
    audio: bool = True,
) -> Path:
    r"""A clip with hard cuts at ``cuts`` (seconds, rounded to the nearest frame) between clearly different
    sources, cycling red / testsrc2 / blue / smptebars / green / testsrc. The first frame of segment ``i``
    is frame ``round(cuts[i-1] * fps)``.

    With the defaults it runs::

        ffmpeg -hide_banner -nostdin -loglevel error -y \
            -filter_complex "color=color=red:size=270x480:rate=25,trim=end_frame=25[s0];\
                testsrc2=size=270x480:rate=25,trim=end_frame=25[s1];\
                color=color=blue:size=270x480:rate=25,trim=end_frame=25[s2];\
                [s0][s1][s2]concat=n=3:v=1:a=0,format=yuv420p[v]" \
            -f lavfi -i sine=frequency=440:sample_rate=48000:duration=3 \
            -map "[v]" -c:v libx264 -preset ultrafast -crf 28 -pix_fmt yuv420p -g 25 \
            -map 0:a -c:a aac -b:a 64k -ac 2 \
            -t 3 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact OUT.mp4

    (the filter graph is one argument: a line ending in ``\`` with no space before it continues the same
    argument, without the next line's indentation).
    """
    path = Path(path)
    bounds = [0, *(round(t * fps) for t in cuts), round(seconds * fps)]
    if any(b >= a for a, b in zip(bounds[1:], bounds, strict=False)):
        raise ValueError(f"cuts {list(cuts)} must be increasing and inside (0, {seconds}) at {fps} fps")
    chains = []
    for i, (start, end) in enumerate(itertools.pairwise(bounds)):
        src = _CUT_SOURCES[i % len(_CUT_SOURCES)]
        sep = ":" if "=" in src else "="
        chains.append(f"{src}{sep}size={width}x{height}:rate={fps},trim=end_frame={end - start}[s{i}]")
    labels = "".join(f"[s{i}]" for i in range(len(chains)))
    graph = ";".join([*chains, f"{labels}concat=n={len(chains)}:v=1:a=0,format=yuv420p[v]"])
    dur = _fmt(seconds)
    args = ["-filter_complex", graph]
    if audio:
        args += _audio_input("sine", seconds)
    args += ["-map", "[v]", *_VIDEO_CODEC, "-g", str(fps)]
    if audio:
        args += ["-map", "0:a", *_AUDIO_CODEC, "-ac", "2"]
    _run([*args, "-t", dur, *_BITEXACT, str(path)])
    return path


def make_no_audio(path: str | Path, *, seconds: float = 3.0, width: int = 270, height: int = 480) -> Path:
    r"""Video only (no audio stream at all). Runs::

        ffmpeg -hide_banner -nostdin -loglevel error -y \
            -f lavfi -i testsrc2=size=270x480:rate=25:duration=3 \
            -map 0:v -c:v libx264 -preset ultrafast -crf 28 -pix_fmt yuv420p -g 25 \
            -t 3 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact OUT.mp4
    """
    return make_clip(path, width=width, height=height, seconds=seconds, audio=False)


def make_audio_only(path: str | Path, *, seconds: float = 3.0) -> Path:
    r"""Only an AAC audio stream (sine). The container follows the suffix: ``.m4a`` (ipod muxer) or ``.mp4``.

    Runs (for ``OUT.mp4``)::

        ffmpeg -hide_banner -nostdin -loglevel error -y \
            -f lavfi -i sine=frequency=440:sample_rate=48000:duration=3 \
            -c:a aac -b:a 64k -ac 2 \
            -t 3 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact OUT.mp4
    """
    path = Path(path)
    dur = _fmt(seconds)
    _run([*_audio_input("sine", seconds), *_AUDIO_CODEC, "-ac", "2", "-t", dur, *_BITEXACT, str(path)])
    return path


def make_silent(path: str | Path, *, seconds: float = 3.0) -> Path:
    r"""Video with an AAC audio stream of digital silence (decodes to exact zeros). Runs::

        ffmpeg -hide_banner -nostdin -loglevel error -y \
            -f lavfi -i testsrc2=size=270x480:rate=25:duration=3 \
            -f lavfi -i anullsrc=channel_layout=stereo:sample_rate=48000 \
            -map 0:v -c:v libx264 -preset ultrafast -crf 28 -pix_fmt yuv420p -g 25 \
            -map 1:a -c:a aac -b:a 64k \
            -t 3 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact OUT.mp4
    """
    path = Path(path)
    dur = _fmt(seconds)
    _run(
        [
            "-f", "lavfi", "-i", f"testsrc2=size=270x480:rate=25:duration={dur}",
            "-f", "lavfi", "-i", f"anullsrc=channel_layout=stereo:sample_rate={_SAMPLE_RATE}",
            "-map", "0:v", *_VIDEO_CODEC, "-g", "25",
            "-map", "1:a", *_AUDIO_CODEC,
            "-t", dur, *_BITEXACT, str(path),
        ]
    )  # fmt: skip
    return path


def make_short(path: str | Path, *, seconds: float = 0.3) -> Path:
    r"""A very short clip (0.3 s = 8 frames at 25 fps) with audio. Runs::

        ffmpeg -hide_banner -nostdin -loglevel error -y \
            -f lavfi -i testsrc2=size=270x480:rate=25:duration=0.3 \
            -f lavfi -i sine=frequency=440:sample_rate=48000:duration=0.3 \
            -map 0:v -c:v libx264 -preset ultrafast -crf 28 -pix_fmt yuv420p -g 25 \
            -map 1:a -c:a aac -b:a 64k -ac 2 \
            -t 0.3 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact OUT.mp4
    """
    return make_clip(path, seconds=seconds)


@functools.cache
def _has_display_rotation() -> bool:
    # -display_rotation arrived in ffmpeg 6.0; older imageio-ffmpeg binaries only know the legacy tag.
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-h", "full"], capture_output=True, text=True)
    return "-display_rotation" in proc.stdout


def make_rotated(
    path: str | Path, *, rotation: int = 90, width: int = 480, height: int = 270, seconds: float = 1.0
) -> Path:
    r"""Landscape-stored frames (480x270) with a display matrix saying "rotate ``rotation`` degrees
    counter-clockwise to display" (ffmpeg's ``-display_rotation`` convention, which is also what PyAV's
    ``VideoFrame.rotation`` reads back), so players show it 270x480 portrait. Typical phone footage, whose
    legacy ``rotate`` tag is 90 (clockwise), reads back as ``rotation=-90``.

    Makes a landscape clip beside the output, stream-copies it with the rotation, then deletes it::

        ffmpeg -hide_banner -nostdin -loglevel error -y \
            -f lavfi -i testsrc2=size=480x270:rate=25:duration=1 \
            -f lavfi -i sine=frequency=440:sample_rate=48000:duration=1 \
            -map 0:v -c:v libx264 -preset ultrafast -crf 28 -pix_fmt yuv420p -g 25 \
            -map 1:a -c:a aac -b:a 64k -ac 2 \
            -t 1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact OUT.mp4.unrotated.mp4
        ffmpeg -hide_banner -nostdin -loglevel error -y \
            -display_rotation:v:0 90 -i OUT.mp4.unrotated.mp4 -map 0 -c copy \
            -fflags +bitexact -flags:v +bitexact -flags:a +bitexact OUT.mp4

    With an ffmpeg older than 6.0 the second command instead uses
    ``-metadata:s:v:0 rotate=<(-rotation) % 360>`` (the legacy tag counts clockwise).
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".unrotated.mp4")
    make_clip(tmp, width=width, height=height, seconds=seconds)
    try:
        if _has_display_rotation():
            args = ["-display_rotation:v:0", str(rotation), "-i", str(tmp), "-map", "0", "-c", "copy"]
        else:
            tag = f"rotate={(-rotation) % 360}"
            args = ["-i", str(tmp), "-map", "0", "-c", "copy", "-metadata:s:v:0", tag]
        _run([*args, *_BITEXACT, str(path)])
    finally:
        tmp.unlink(missing_ok=True)
    return path


def make_vfr(path: str | Path, *, seconds: int = 2, audio: bool = False) -> Path:
    r"""Genuinely variable frame rate: each second holds 5 frames 100 ms apart (10 fps) then 15 frames
    33.3 ms apart (30 fps), i.e. 20 frames/s on average. Timestamps are whole ticks of a 1/90000 time base
    (9000 and 3000), so durations are exact. With the defaults it runs::

        ffmpeg -hide_banner -nostdin -loglevel error -y \
            -f lavfi -i testsrc2=size=270x480:rate=20 \
            -vf "settb=1/90000,setpts='floor(N/20)*90000+if(lt(mod(N,20),5),mod(N,20)*9000,\
                45000+(mod(N,20)-5)*3000)'" \
            -frames:v 40 -fps_mode passthrough -enc_time_base 1/90000 -video_track_timescale 90000 \
            -c:v libx264 -preset ultrafast -crf 28 -pix_fmt yuv420p -g 20 \
            -fflags +bitexact -flags:v +bitexact -flags:a +bitexact OUT.mp4

    ``audio=True`` adds ``-f lavfi -i sine=...:duration=<seconds>`` as a second input, ``-map 0:v -map 1:a``
    and the AAC options. ``-enc_time_base`` matters: without it the encoder keeps the source's 1/20 time
    base and the 30 fps frames come out as 4500/1/4499-tick garbage.
    """
    path = Path(path)
    n = 20 * seconds
    pts = "floor(N/20)*90000+if(lt(mod(N,20),5),mod(N,20)*9000,45000+(mod(N,20)-5)*3000)"
    args = ["-f", "lavfi", "-i", "testsrc2=size=270x480:rate=20"]
    if audio:
        args += _audio_input("sine", seconds)
    args += ["-vf", f"settb=1/90000,setpts='{pts}'", "-frames:v", str(n)]
    args += ["-fps_mode", "passthrough", "-enc_time_base", "1/90000", "-video_track_timescale", "90000"]
    if audio:
        args += ["-map", "0:v", "-map", "1:a", *_AUDIO_CODEC, "-ac", "2"]
    _run([*args, *_VIDEO_CODEC, "-g", "20", *_BITEXACT, str(path)])
    return path


def make_two_video_streams(path: str | Path, *, default: int | None = None, seconds: float = 2.0) -> Path:
    r"""Two video streams, a small one first: 320x180 at 25 fps (stream 0), 480x270 at 29.97 fps (stream 1),
    plus an AAC audio stream (2). Always Matroska (``-f matroska``, whatever the suffix): its muxer can
    write no default flag at all (``-default_mode passthrough``), where mp4 flags the first track of each
    type. ``default`` flags that video stream (0 or 1) default; None flags none. With the defaults it runs::

        ffmpeg -hide_banner -nostdin -loglevel error -y \
            -f lavfi -i testsrc2=size=320x180:rate=25:duration=2 \
            -f lavfi -i testsrc2=size=480x270:rate=30000/1001:duration=2 \
            -f lavfi -i sine=frequency=440:sample_rate=48000:duration=2 \
            -map 0:v -map 1:v -c:v libx264 -preset ultrafast -crf 28 -pix_fmt yuv420p -g 25 \
            -map 2:a -c:a aac -b:a 64k -ac 2 \
            -disposition:v:0 0 -disposition:v:1 0 -default_mode passthrough \
            -t 2 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact -f matroska OUT.mp4

    ``default=1`` gives ``-disposition:v:1 default`` instead of ``-disposition:v:1 0`` (likewise for 0).
    """
    path = Path(path)
    dur = _fmt(seconds)
    args = [
        "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=25:duration={dur}",
        "-f", "lavfi", "-i", f"testsrc2=size=480x270:rate=30000/1001:duration={dur}",
        *_audio_input("sine", seconds),
        "-map", "0:v", "-map", "1:v", *_VIDEO_CODEC, "-g", "25",
        "-map", "2:a", *_AUDIO_CODEC, "-ac", "2",
    ]  # fmt: skip
    for index in (0, 1):
        args += [f"-disposition:v:{index}", "default" if index == default else "0"]
    _run([*args, "-default_mode", "passthrough", "-t", dur, *_BITEXACT, "-f", "matroska", str(path)])
    return path


def make_cover_art(path: str | Path, *, video: bool = True, seconds: float = 2.0) -> Path:
    r"""An mp4 whose first stream is cover art (a 400x400 PNG with the attached_pic disposition, larger
    than the video, so only the attached_pic rule keeps it from being chosen), then a 320x180 25 fps
    H.264 video (``video=False`` leaves it out: cover art and audio only, like a song), then AAC audio.

    The mp4 muxer writes cover art into moov/udta after the tracks, which puts it last when read back; the
    generator then moves the udta box ahead of the first trak (MP4 allows any order there; sizes are
    unchanged, so no offset moves) and the cover becomes stream 0. Always mp4 (``-f mp4``). With the
    defaults::

        ffmpeg -hide_banner -nostdin -loglevel error -y \
            -f lavfi -i testsrc2=size=400x400:rate=1:duration=1 \
            -f lavfi -i testsrc2=size=320x180:rate=25:duration=2 \
            -f lavfi -i sine=frequency=440:sample_rate=48000:duration=2 \
            -map 0:v -c:v:0 png -disposition:v:0 attached_pic \
            -map 1:v -c:v:1 libx264 -preset ultrafast -crf 28 -pix_fmt:v:1 yuv420p -g 25 \
            -map 2:a -c:a aac -b:a 64k -ac 2 \
            -t 2 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact -f mp4 OUT.mp4

    ``video=False`` drops the second input and its ``-map 1:v ... -g 25`` line; the audio is then ``1:a``.
    """
    path = Path(path)
    dur = _fmt(seconds)
    args = ["-f", "lavfi", "-i", "testsrc2=size=400x400:rate=1:duration=1"]
    if video:
        args += ["-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=25:duration={dur}"]
    args += _audio_input("sine", seconds)
    # One second at 1 fps is the single frame an attached picture must be; -frames:v:0 1 would instead
    # end the whole output after one second (ffmpeg's sync queue stops the other streams with it).
    args += ["-map", "0:v", "-c:v:0", "png", "-disposition:v:0", "attached_pic"]
    if video:
        args += ["-map", "1:v", "-c:v:1", "libx264", "-preset", "ultrafast", "-crf", "28", "-pix_fmt:v:1", "yuv420p"]
        args += ["-g", "25"]
    args += ["-map", f"{2 if video else 1}:a", *_AUDIO_CODEC, "-ac", "2"]
    _run([*args, "-t", dur, *_BITEXACT, "-f", "mp4", str(path)])
    path.write_bytes(_udta_before_tracks(path.read_bytes()))
    return path


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of the MP4 boxes laid end to end in data[start:end] (32-bit sizes only)."""
    found = []
    pos = start
    while pos + 8 <= end:
        size = int.from_bytes(data[pos : pos + 4], "big")
        if size < 8:
            raise ValueError(f"unsupported box size {size} at offset {pos}")
        found.append((data[pos + 4 : pos + 8], pos, size))
        pos += size
    return found


def _udta_before_tracks(data: bytes) -> bytes:
    """The same mp4 with moov's udta box moved ahead of its first trak; moov keeps its size."""
    _, moov_at, moov_size = next(box for box in _boxes(data, 0, len(data)) if box[0] == b"moov")
    children = _boxes(data, moov_at + 8, moov_at + moov_size)
    kinds = [kind for kind, _, _ in children]
    first_trak = kinds.index(b"trak")
    udta = children.pop(kinds.index(b"udta"))
    children.insert(first_trak, udta)
    body = b"".join(data[at : at + size] for _, at, size in children)
    return data[: moov_at + 8] + body + data[moov_at + moov_size :]


def make_4k(path: str | Path, *, vertical: bool = True, seconds: float = 1.0, fps: int = 5) -> Path:
    r"""A 4K clip, 2160x3840 (``vertical=True``) or 3840x2160, no audio. 5 fps and crf 51 keep it to about
    0.15 s to make and ~170 KiB; decoding it is still real 4K work. Runs::

        ffmpeg -hide_banner -nostdin -loglevel error -y \
            -f lavfi -i testsrc2=size=2160x3840:rate=5:duration=1 \
            -c:v libx264 -preset ultrafast -crf 51 -pix_fmt yuv420p -g 5 \
            -t 1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact OUT.mp4
    """
    path = Path(path)
    w, h = (2160, 3840) if vertical else (3840, 2160)
    dur = _fmt(seconds)
    _run(
        [
            "-f", "lavfi", "-i", f"testsrc2=size={w}x{h}:rate={fps}:duration={dur}",
            "-c:v", "libx264", "-preset", "ultrafast", "-crf", "51", "-pix_fmt", "yuv420p", "-g", str(fps),
            "-t", dur, *_BITEXACT, str(path),
        ]
    )  # fmt: skip
    return path


def make_truncated(path: str | Path, *, faststart: bool = True, keep: float = 0.5) -> Path:
    r"""A clip cut off after ``keep`` of its bytes, as from an interrupted download or copy.

    ``faststart=True``: the moov atom (index) is at the front, so the file opens and the first part of
    the media decodes. ``faststart=False``: the moov atom was at the end and is gone, so the file cannot be
    opened.
    Makes a 3 s clip, then truncates it in Python. With the defaults::

        ffmpeg -hide_banner -nostdin -loglevel error -y \
            -f lavfi -i testsrc2=size=270x480:rate=25:duration=3 \
            -f lavfi -i sine=frequency=440:sample_rate=48000:duration=3 \
            -map 0:v -c:v libx264 -preset ultrafast -crf 28 -pix_fmt yuv420p -g 25 \
            -map 1:a -c:a aac -b:a 64k -ac 2 \
            -t 3 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact -movflags +faststart OUT.mp4
    """
    path = Path(path)
    make_clip(path, faststart=faststart)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def make_zero_byte(path: str | Path) -> Path:
    """An empty file (no ffmpeg)."""
    path = Path(path)
    path.write_bytes(b"")
    return path


def make_not_video(path: str | Path) -> Path:
    """A UTF-8 text file, whatever its suffix (callers name it ``*.mp4``). No ffmpeg."""
    path = Path(path)
    path.write_text("This is not a video. 这不是视频。\n" * 20, encoding="utf-8")
    return path


def make_corrupt(path: str | Path, *, seed: int = 0, keep_index: bool = True) -> Path:
    r"""A clip whose header is valid but whose media bytes are seeded random noise; same size as the clip.

    ``keep_index=True`` (default): a faststart clip keeps its ftyp+moov intact and only the mdat payload is
    overwritten, so the file opens, reports sane streams and duration, and then fails or yields garbage when
    decoded. ``keep_index=False``: only the first 32 bytes (the ftyp box) survive, so it does not open.
    Makes the clip with::

        ffmpeg -hide_banner -nostdin -loglevel error -y \
            -f lavfi -i testsrc2=size=270x480:rate=25:duration=3 \
            -f lavfi -i sine=frequency=440:sample_rate=48000:duration=3 \
            -map 0:v -c:v libx264 -preset ultrafast -crf 28 -pix_fmt yuv420p -g 25 \
            -map 1:a -c:a aac -b:a 64k -ac 2 \
            -t 3 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact -movflags +faststart OUT.mp4
    """
    path = Path(path)
    make_clip(path, faststart=True)
    data = path.read_bytes()
    keep = _mdat_payload_offset(data) if keep_index else 32
    noise = random.Random(seed).randbytes(len(data) - keep)
    path.write_bytes(data[:keep] + noise)
    return path


def _mdat_payload_offset(data: bytes) -> int:
    """Offset of the first byte inside the top-level ``mdat`` box (walks the MP4 box headers)."""
    pos = 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        header = 8
        if size == 1:  # 64-bit largesize follows the type
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
            header = 16
        if kind == b"mdat":
            return pos + header
        if size < header:
            break
        pos += size
    raise ValueError("no mdat box found")


def read_rotation_degrees(path: str | Path) -> int:
    """Display rotation of the first video stream, counter-clockwise degrees normalised to 0/90/180/270.

    Verification aid only. PyAV (checked with 18.1) exposes no stream-level display matrix on input, so this
    decodes the first frame and reads ``VideoFrame.rotation`` (``av_display_rotation_get`` on the frame's
    DISPLAYMATRIX side data, in [-180, 180], 0 when absent).
    """
    import av  # local: only the tests that check rotation need PyAV here

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            return round(frame.rotation) % 360
    raise ValueError(f"{path}: no video frame decoded")


# --- burned-in subtitles ----------------------------------------------------------------------------------

# The CJK fonts scripts/make_samples.py looks for (Debian: fonts-wqy-zenhei or fonts-noto-cjk).
SUBTITLE_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
)
SUBTITLE_FONT_MISSING = "no CJK font installed: apt-get install -y fonts-wqy-zenhei (or fonts-noto-cjk)"

#: (start seconds, end seconds, rows top to bottom) of what make_subtitle_video shows by default: mostly
#: one-line cues, then a wrapped English line, a Chinese line over English, and Chinese over two English rows.
SUBTITLE_CUES: tuple[tuple[float, float, tuple[str, ...]], ...] = (
    (0.5, 2.5, ("We leave tonight.",)),
    (3.0, 5.0, ("快走！",)),
    (5.5, 7.5, ("Hurry, the car is waiting.",)),
    (8.0, 10.0, ("Don't tell anyone that we were here", "last night.")),
    (10.5, 12.5, ("我带了月饼，原谅我吧。", "I brought mooncakes.")),
    (13.0, 15.0, ("这块玉佩是我母亲留给我的。", "This jade pendant was left to me", "by my mother.")),
    (15.5, 17.5, ("No.",)),
)


@functools.cache
def subtitle_font() -> str | None:
    """The first installed CJK font of SUBTITLE_FONTS, or None."""
    return next((font for font in SUBTITLE_FONTS if Path(font).is_file()), None)


@functools.lru_cache(maxsize=8)
def _scene(width: int, height: int, seed: int) -> Image.Image:
    """A calm seeded scene: a vertical colour gradient with a few darker blocks (furniture, people)."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    top = [rng.randrange(40, 200) for _ in range(3)]
    bottom = [rng.randrange(20, 140) for _ in range(3)]
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        colour = [round(a + (b - a) * y / (height - 1)) for a, b in zip(top, bottom, strict=True)]
        draw.line([(0, y), (width, y)], fill=tuple(colour))
    for _ in range(4):
        x0, y0 = rng.randrange(0, width - 60), rng.randrange(0, height - 60)
        shade = tuple(rng.randrange(10, 120) for _ in range(3))
        draw.rectangle([x0, y0, x0 + rng.randrange(40, 200), y0 + rng.randrange(40, 300)], fill=shade)
    return image


def render_subtitle_frame(
    rows: Sequence[str], *, width: int = 540, height: int = 960, bottom: float = 0.88, seed: int = 0
) -> Image.Image:
    """A Pillow RGB frame of a seeded scene with ``rows`` burned in as micro-dramas show them: white with a
    black outline, centred, Chinese rows at 32/540 and Latin rows at 26/540 of the width (as
    scripts/make_samples.py), stacked upwards from ``bottom`` (share of the height), so a wrapped cue grows
    up from the line where single-row cues sit. Needs a CJK font (``subtitle_font()``)."""
    from PIL import ImageDraw, ImageFont

    font_path = subtitle_font()
    if font_path is None:
        raise RuntimeError(SUBTITLE_FONT_MISSING)
    image = _scene(width, height, seed).copy()
    draw = ImageDraw.Draw(image)
    y = bottom * height
    for row in reversed(rows):
        size = round(width * (32 if any("\u4e00" <= char <= "\u9fff" for char in row) else 26) / 540)
        font = ImageFont.truetype(font_path, size)
        draw.text((width / 2, y), row, font=font, fill=(255, 255, 255), stroke_width=3, stroke_fill=(0, 0, 0),
                  anchor="md")  # fmt: skip
        y -= size + 10
    return image


def make_subtitle_video(
    path: str | Path,
    *,
    cues: Sequence[tuple[float, float, Sequence[str]]] = SUBTITLE_CUES,
    seconds: float = 18.0,
    width: int = 540,
    height: int = 960,
    fps: int = 5,
) -> Path:
    r"""A silent vertical clip with burned-in subtitle ``cues`` ((start, end, rows) in seconds) drawn by
    ``render_subtitle_frame``; each cue starts a new scene (a cut), which stays on without text until
    the next cue. Frames are made with Pillow and piped to ffmpeg; 5 fps keeps it small (OCR reads
    2 frames a second). Needs a CJK font. With the defaults it runs::

        ffmpeg -hide_banner -nostdin -loglevel error -y \
            -f rawvideo -pix_fmt rgb24 -s 540x960 -r 5 -i pipe:0 \
            -c:v libx264 -preset ultrafast -crf 28 -pix_fmt yuv420p -g 5 \
            -t 18 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact OUT.mp4
    """
    path = Path(path)
    args = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", str(fps), "-i", "pipe:0"]
    args += [*_VIDEO_CODEC, "-g", str(fps), "-t", _fmt(seconds), *_BITEXACT, str(path)]

    def frames() -> Iterator[bytes]:
        for index in range(round(seconds * fps)):
            time = index / fps
            shown = [cue for cue in cues if cue[0] <= time < cue[1]]
            scene = sum(1 for cue in cues if cue[0] <= time)  # a new scene from each cue's start on
            rows = shown[0][2] if shown else ()
            yield render_subtitle_frame(rows, width=width, height=height, seed=scene).tobytes()

    _pipe(args, frames())
    return path


def _pipe(args: Sequence[str], chunks: Iterable[bytes]) -> None:
    """Like _run, with ``chunks`` written to ffmpeg's stdin one at a time (raw frames)."""
    argv = ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    COMMAND_LOG.append(["ffmpeg", *argv])
    proc = subprocess.Popen([ffmpeg_exe(), *argv], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stderr is not None
    try:
        for chunk in chunks:
            proc.stdin.write(chunk)
    except BrokenPipeError:
        pass  # ffmpeg stopped early: its exit status and stderr say why
    finally:
        proc.stdin.close()
    error = proc.stderr.read().decode(errors="replace")
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg failed ({proc.returncode}): {' '.join(argv)}\n{error}")


class SpeechPiece(NamedTuple):
    """The audio of `path` from `start` to `end` seconds (None: to its end), heard from `at` seconds on."""

    path: Path
    at: float
    start: float = 0.0
    end: float | None = None


# Music with energy in the speech band: an A-minor chord under a four-note melody, a note struck every half
# second and decaying. Peak 1.0 (full scale) before make_speech_video's music_db.
_CHORD = "0.2*(sin(2*PI*220*t)+sin(2*PI*261.63*t)+sin(2*PI*329.63*t))"
_MELODY = "if(lt(mod(t,2),0.5),440,if(lt(mod(t,2),1),523.25,if(lt(mod(t,2),1.5),659.25,587.33)))"
_MUSIC = f"{_CHORD}+0.4*exp(-4*mod(t,0.5))*sin(2*PI*t*{_MELODY})"


def make_speech_video(
    path: str | Path,
    pieces: Sequence[SpeechPiece],
    *,
    seconds: float,
    music_db: float | None = None,
    width: int = 360,
    height: int = 640,
) -> Path:
    r"""A vertical video of one flat colour whose sound is recorded speech placed in time (mono, 16 kHz),
    optionally over synthetic music `music_db` dB below full scale.

    ``make_speech_video(OUT.mp4, [SpeechPiece(Path("jfk.flac"), at=0.5)], seconds=12, music_db=-20)``
    (the music case of tests/test_real_speech.py) runs::

        ffmpeg -hide_banner -nostdin -loglevel error -y \
            -f lavfi -i color=c=0x283848:s=360x640:r=10:d=12 \
            -i jfk.flac \
            -f lavfi -i "aevalsrc='0.2*(sin(2*PI*220*t)+sin(2*PI*261.63*t)+sin(2*PI*329.63*t))\
                +0.4*exp(-4*mod(t,0.5))*sin(2*PI*t*if(lt(mod(t,2),0.5),440,if(lt(mod(t,2),1),523.25,\
                if(lt(mod(t,2),1.5),659.25,587.33))))':s=16000:d=12" \
            -filter_complex "[1:a]aresample=16000,aformat=channel_layouts=mono,adelay=500:all=1,\
                asetpts=N/SR/TB[p0];[2:a]volume=-20dB[music];[p0][music]amix=inputs=2:duration=longest:\
                normalize=0,apad=whole_dur=12[a]" \
            -map 0:v -c:v libx264 -preset ultrafast -crf 28 -pix_fmt yuv420p -g 10 \
            -map [a] -c:a aac -b:a 64k -ar 16000 -ac 1 \
            -t 12 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact OUT.mp4

    Each further piece is one more ``-i`` and one more ``[n:a]...[pK]`` chain; a piece cut from a longer
    file starts its chain with ``atrim=start=S:end=E,asetpts=PTS-STARTPTS,``; without music the
    ``aevalsrc`` input and the ``volume`` chain are left out.
    """
    path = Path(path)
    dur = _fmt(seconds)
    args = ["-f", "lavfi", "-i", f"color=c=0x283848:s={width}x{height}:r=10:d={dur}"]
    chains, mixed = [], []
    for index, piece in enumerate(pieces):
        args += ["-i", str(piece.path)]
        trim = ""
        if piece.start or piece.end is not None:
            end = "" if piece.end is None else f":end={_fmt(piece.end)}"
            trim = f"atrim=start={_fmt(piece.start)}{end},asetpts=PTS-STARTPTS,"
        # Timestamps renumbered from the samples: after atrim, adelay's confuse amix (it keeps one frame).
        delay = f"adelay={round(piece.at * 1000)}:all=1,asetpts=N/SR/TB"
        chains.append(f"[{index + 1}:a]{trim}aresample=16000,aformat=channel_layouts=mono,{delay}[p{index}]")
        mixed.append(f"[p{index}]")
    if music_db is not None:
        args += ["-f", "lavfi", "-i", f"aevalsrc='{_MUSIC}':s=16000:d={dur}"]
        chains.append(f"[{len(pieces) + 1}:a]volume={_fmt(music_db)}dB[music]")
        mixed.append("[music]")
    mix = f"{''.join(mixed)}amix=inputs={len(mixed)}:duration=longest:normalize=0,apad=whole_dur={dur}[a]"
    args += ["-filter_complex", ";".join([*chains, mix])]
    args += ["-map", "0:v", *_VIDEO_CODEC, "-g", "10", "-map", "[a]", *_AUDIO_CODEC, "-ar", "16000", "-ac", "1"]
    _run([*args, "-t", dur, *_BITEXACT, str(path)])
    return path
