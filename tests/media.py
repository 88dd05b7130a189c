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
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import imageio_ffmpeg

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
