"""Probe a video with PyAV: duration, frame rate (and whether it varies), codec, displayed size."""

from __future__ import annotations

import itertools
import statistics
from fractions import Fraction
from typing import Any

from .atomic import sha256_file
from .errors import DecodeError, UnsupportedMedia
from .media import ffmpeg_errors, open_container
from .records import VideoInfo, VideoSource

# Enough packets to see a frame-rate change without reading a whole feature film.
_VFR_PACKETS = 600
_VFR_TOLERANCE = 0.1


def _duration_seconds(container: Any, stream: Any) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return 0.0


def _frame_intervals(container: Any, stream: Any) -> list[float]:
    """Presentation-time gaps between the first packets (sorted: B-frames arrive out of order)."""
    times = []
    for packet in container.demux(stream):
        if packet.pts is not None and packet.size > 0:
            times.append(float(packet.pts * stream.time_base))
        if len(times) >= _VFR_PACKETS:
            break
    times.sort()
    return [later - earlier for earlier, later in itertools.pairwise(times) if later > earlier]


def is_variable_frame_rate(intervals: list[float]) -> bool:
    if len(intervals) < 3:
        return False
    typical = statistics.median(intervals)
    # The last gap of a segment is often odd; judge on the bulk of them.
    irregular = sum(1 for gap in intervals if abs(gap - typical) > _VFR_TOLERANCE * typical)
    return irregular > max(2, len(intervals) // 20)


def rotation_clockwise(frame_rotation: int) -> int:
    """PyAV reports the display matrix counter-clockwise; players and `rotate` tags speak clockwise."""
    return round(-frame_rotation / 90.0) % 4 * 90


def probe(source: VideoSource, sha256: str | None = None) -> VideoInfo:
    """What the file holds; `sha256` is the file's digest when the caller already has it."""
    path = source.path
    container = open_container(path)
    with container, ffmpeg_errors(path, "cannot probe"):
        if not container.streams.video:
            kinds = ", ".join(sorted({s.type for s in container.streams})) or "no streams"
            raise UnsupportedMedia(f"{path.name} has no video stream ({kinds}): nothing to watch")
        stream = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        duration = _duration_seconds(container, stream)
        codec = stream.codec_context.name
        first = next(container.decode(stream), None)
        if first is None:
            raise DecodeError(f"{path.name}: the video stream has no decodable frame")
        rotation = rotation_clockwise(first.rotation)
        container.seek(0)
        intervals = _frame_intervals(container, stream)
        # Read every stream attribute while the container is open: PyAV returns freed memory after close.
        frame_count = stream.frames or None
        average_rate = stream.average_rate
        audio_codec = audio.codec_context.name if audio is not None else None
        audio_sample_rate = audio.codec_context.sample_rate if audio is not None else None
        width, height = first.width, first.height

    vfr = is_variable_frame_rate(intervals)
    if frame_count and duration > 0 and (vfr or not average_rate):
        fps = frame_count / duration
    elif average_rate:
        fps = float(Fraction(average_rate))
    elif intervals:
        fps = 1.0 / statistics.median(intervals)
    else:
        fps = 0.0
    if rotation in (90, 270):
        width, height = height, width
    return VideoInfo(
        id=source.video_id,
        path=source.relative_path,
        sha256=sha256 or sha256_file(path),
        size_bytes=path.stat().st_size,
        duration_seconds=duration,
        width=width,
        height=height,
        rotation=rotation,
        fps=fps,
        vfr=vfr,
        codec=codec,
        has_audio=audio is not None,
        audio_codec=audio_codec,
        audio_sample_rate=audio_sample_rate,
        frame_count=frame_count,
    )
