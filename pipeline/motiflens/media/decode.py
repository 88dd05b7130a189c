"""One decode pass per video that feeds every frame consumer at its own instants and its own size.

A consumer is a FrameSink: it asks for the first frame at or after each of its target times, downscaled so
the long side is at most its `max_side`. The pass decodes the stream once, in order, and hands each decoded
frame to every sink whose next target the frame reaches, so each sink gets exactly the frames a reader of its
own would pick (FrameReader is the one-sink case). It seeks only across a gap that no sink needs.

Memory stays flat however long the video: one decoded frame is in flight (plus the prefetch queue), and a
frame converted for one size is shared by the sinks of that size; what a sink keeps is its own business
(frame products go to disk, shots keep a short window).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from motiflens.core.config import FramesConfig
from motiflens.core.errors import DecodeError
from motiflens.core.log import get_logger
from motiflens.core.records import SampledFrame, VideoInfo
from motiflens.media.container import decode_video, ffmpeg_errors, open_container, restart_decoder
from motiflens.media.prefetch import prefetch

log = get_logger("frames")


def working_scale(info: VideoInfo, max_side: int) -> float:
    return min(1.0, max_side / max(info.width, info.height))


@dataclass(frozen=True)
class Geometry:
    """How a decoded (stored, unrotated) frame becomes a consumer's upright, downscaled RGB image."""

    width: int
    height: int
    turns: int
    scale: float

    @classmethod
    def of(cls, info: VideoInfo, max_side: int) -> Geometry:
        scale = working_scale(info, max_side)
        # Frames arrive as stored (before rotation): scale the stored size.
        stored_w, stored_h = (info.height, info.width) if info.rotation in (90, 270) else (info.width, info.height)
        width = max(2, round(stored_w * scale / 2) * 2)
        height = max(2, round(stored_h * scale / 2) * 2)
        return cls(width, height, -info.rotation // 90, scale)  # np.rot90 turns counter-clockwise

    def convert(self, source: Any) -> np.ndarray:
        image = source.reformat(width=self.width, height=self.height, format="rgb24").to_ndarray()
        if self.turns % 4:
            image = np.ascontiguousarray(np.rot90(image, k=self.turns))
        return image


class FrameSink:
    """One consumer of a decode pass. `take` gets each frame it asked for, in time order; `finish` runs once
    after the pass, also when decoding failed (then `error` says why and `warnings` hold what went wrong)."""

    def __init__(self, name: str, times: Sequence[float], max_side: int, info: VideoInfo) -> None:
        self.name = name
        self.times = list(times)
        self.geometry = Geometry.of(info, max_side)
        self.next = 0
        self.emitted = 0
        self.warnings: list[str] = []
        self.error: DecodeError | None = None

    @property
    def done(self) -> bool:
        return self.next >= len(self.times)

    def take(self, frame: SampledFrame, source: Any) -> None:
        """Called with the sampled frame and the decoded frame it came from (to convert at another size)."""

    def finish(self) -> None:
        """Called once after a pass that ran to its end (a broken stream included)."""

    def abandon(self) -> None:
        """Called instead of `finish` when the pass itself failed: nothing of it may be used."""


class FrameList(FrameSink):
    """Keeps the frames it takes in memory: for a few frames (layout analysis), never a whole video."""

    def __init__(self, name: str, times: Sequence[float], max_side: int, info: VideoInfo) -> None:
        super().__init__(name, times, max_side, info)
        self.frames: list[SampledFrame] = []

    def take(self, frame: SampledFrame, source: Any) -> None:
        self.frames.append(frame)


class _Converted:
    """One decoded frame's images, converted at most once per geometry (sinks of one size share them)."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.images: dict[Geometry, np.ndarray] = {}

    def image(self, geometry: Geometry) -> np.ndarray:
        if geometry not in self.images:
            self.images[geometry] = geometry.convert(self.source)
        return self.images[geometry]


def decode_pass(
    path: Path, info: VideoInfo, sinks: Sequence[FrameSink], config: FramesConfig
) -> Iterator[tuple[FrameSink, SampledFrame, Any]]:
    """(sink, frame, decoded frame) for every frame a sink asked for, in decoding order, from one decoder.

    A stream that breaks part-way leaves each waiting sink the frames decoded before the break and a warning;
    a sink that got no frame at all gets an `error` instead. The caller reads `error` after the pass.
    """
    tolerance = 0.5 / info.fps if info.fps > 0 else 0.02
    waiting = [sink for sink in sinks if not sink.done]
    if not waiting:
        return
    container = open_container(path)
    with container:
        stream = container.streams[info.video_stream_index]
        # Frame threading is faster but hangs when a container is closed before the end of the
        # stream while torch/torchvision are loaded (PyAV issues 1849, 1861): slices are safe.
        stream.thread_type = "SLICE"
        if config.decode_threads:
            stream.codec_context.thread_count = config.decode_threads
        start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        decoder = None
        position = -1.0
        sought: float | None = None  # the target a seek was last considered for: at most one seek per target
        while waiting:
            target = min(sink.times[sink.next] for sink in waiting)
            if decoder is None or (sought != target and target - position > config.seek_gap_seconds):
                sought = target
                if target > config.seek_gap_seconds:
                    offset = int((target + start) / stream.time_base)
                    with ffmpeg_errors(path, "cannot seek in"):
                        container.seek(offset, stream=stream, backward=True)
                if decoder is None:
                    decoder = decode_video(path, container, stream)
                else:
                    decoder = restart_decoder(container, stream, path)
                position = target
            try:
                with ffmpeg_errors(path, "cannot decode"):
                    decoded = next(decoder, None)
            except DecodeError as exc:
                for sink in waiting:
                    if sink.emitted == 0:
                        sink.error = exc
                    else:
                        sink.warnings.append(f"decoding stopped at {position:.2f} s: {exc}")
                break
            if decoded is None:
                break
            time = float(decoded.time) - start if decoded.time is not None else position
            position = time
            converted = None
            for sink in waiting:
                if time + tolerance < sink.times[sink.next]:
                    continue
                converted = converted or _Converted(decoded)
                image = converted.image(sink.geometry)
                frame = SampledFrame(index=sink.emitted, time_seconds=round(time, 3), image=image,
                                     scale=sink.geometry.scale)
                sink.emitted += 1
                while sink.next < len(sink.times) and sink.times[sink.next] <= time + tolerance:
                    sink.next += 1
                yield sink, frame, decoded
            waiting = [sink for sink in waiting if not sink.done]
        for sink in sinks:
            if sink.emitted == 0 and sink.error is None and sink.times:
                sink.error = DecodeError(f"{path.name}: no frame could be decoded")
            if sink.error is None and not sink.done and sink.times[-1] - position > 1.0:
                sink.warnings.append(
                    f"video ends at {position:.2f} s although it claims {info.duration_seconds:.2f} s "
                    "(truncated file?); later samples are missing"
                )
    for sink in sinks:
        for warning in sink.warnings:
            log.warning("%s: %s", info.id, warning)


def run_pass(path: Path, info: VideoInfo, sinks: Sequence[FrameSink], config: FramesConfig, depth: int) -> None:
    """Feed `sinks` from one decoder; decoding runs `depth` frames ahead in a thread while sinks work."""
    try:
        for sink, frame, source in prefetch(decode_pass(path, info, sinks, config), depth):
            sink.take(frame, source)
    except BaseException:
        for sink in sinks:
            sink.abandon()
        raise
    for sink in sinks:
        sink.finish()
