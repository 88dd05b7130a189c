"""Probe a video with PyAV: its streams, the video stream to decode, duration, frame rate (and whether it
varies), codec, displayed size."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from motiflens.core.atomic import sha256_file
from motiflens.core.errors import DecodeError, UnsupportedMedia
from motiflens.core.records import MediaStream, VideoInfo, VideoSource
from motiflens.media.container import ffmpeg_errors, open_container

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


# ffmpeg's bonus for a default-flagged video stream, in pixels (fftools/ffmpeg_mux_init.c, map_auto_video).
_DEFAULT_DISPOSITION_BONUS = 5_000_000


def describe_stream(stream: Any) -> MediaStream:
    """The probe's record of one PyAV stream (read it while the container is open)."""
    import av

    context = stream.codec_context
    video = stream.type == "video"
    audio = stream.type == "audio"
    rate = stream.average_rate if video else None
    return MediaStream(
        index=stream.index,
        type=stream.type,
        codec=context.name if context is not None else None,
        width=context.width if video else None,
        height=context.height if video else None,
        fps=float(rate) if rate else None,
        sample_rate=context.sample_rate if audio else None,
        channels=context.channels if audio else None,
        default=bool(stream.disposition & av.stream.Disposition.default),
        attached_pic=bool(stream.disposition & av.stream.Disposition.attached_pic),
    )


def _ffmpeg_video_score(stream: MediaStream) -> int:
    pixels = (stream.width or 0) * (stream.height or 0)
    return pixels + (_DEFAULT_DISPOSITION_BONUS if stream.default else 0)


def choose_video_stream(streams: Sequence[MediaStream]) -> MediaStream | None:
    """The video stream ffmpeg would pick on its own: the one the probe describes and every frame read decodes.

    ffmpeg's rule (fftools/ffmpeg_mux_init.c, map_auto_video; ffmpeg_opt.c in older releases): each video
    stream scores width x height as stored, plus 5,000,000 when it has the `default` disposition; the
    highest score wins and a tie goes to the lowest index. So a default-flagged stream wins unless another
    is more than 5 megapixels larger (a default 720p loses to a 4K stream, as in ffmpeg).

    Two differences, both deliberate: an attached picture (cover art in mp4, mkv, mp3) is never chosen,
    where ffmpeg would fall back to it as a one-frame video, so a file whose only pictures are cover art
    has no video here (None); and ffmpeg's extra 100,000,000 for a stream that delivered packets while
    it probed is left out, PyAV does not expose it, and only a declared-but-empty track would lose by it.
    """
    # max() keeps the first of equal scores: ffmpeg's lowest-index tie-break.
    return max((s for s in streams if s.is_moving_video), key=_ffmpeg_video_score, default=None)


def _stream_kinds(streams: Sequence[MediaStream]) -> str:
    """What the file holds instead of video, for the no-video message (cover art named as such)."""
    kinds = {"attached picture" if stream.attached_pic else stream.type for stream in streams}
    return ", ".join(sorted(kinds)) or "no streams"


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
        streams = tuple(describe_stream(s) for s in container.streams)
        chosen = choose_video_stream(streams)
        if chosen is None:
            raise UnsupportedMedia(f"{path.name} has no video stream ({_stream_kinds(streams)}): nothing to watch")
        stream = container.streams[chosen.index]
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
        video_stream_index=chosen.index,
        media_streams=streams,
    )
