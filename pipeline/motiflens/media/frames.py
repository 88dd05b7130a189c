"""Decode sampled frames with PyAV: upright, downscaled, one at a time (never the whole video)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from motiflens.core.config import FramesConfig
from motiflens.core.errors import DecodeError
from motiflens.core.log import get_logger
from motiflens.core.records import SampledFrame, VideoInfo
from motiflens.media.container import ffmpeg_errors, open_container

log = get_logger("frames")


def sample_times(duration_seconds: float, sample_fps: float, extra: Iterable[float] = ()) -> list[float]:
    """A regular grid at `sample_fps` plus extra instants (shot starts), sorted, in milliseconds' steps."""
    count = max(1, int(np.floor(duration_seconds * sample_fps - 1e-9)) + 1)
    grid = {round(k / sample_fps, 3) for k in range(count)}
    grid.update(round(t, 3) for t in extra if 0 <= t < max(duration_seconds, 1e-3))
    return sorted(grid)


def working_scale(info: VideoInfo, max_side: int) -> float:
    return min(1.0, max_side / max(info.width, info.height))


class FrameReader:
    """Yields the first frame at or after each requested time. Seeks across long gaps.

    A stream that breaks part-way (a truncated download) keeps the frames decoded before the break
    and records why in `warnings`; a stream that yields nothing raises DecodeError.
    """

    def __init__(self, config: FramesConfig) -> None:
        self.config = config
        self.warnings: list[str] = []

    def read(self, path: Path, info: VideoInfo, times: list[float]) -> Iterator[SampledFrame]:
        self.warnings = []
        scale = working_scale(info, self.config.max_side)
        # Frames arrive as stored (before rotation): scale the stored size.
        stored_w, stored_h = (info.height, info.width) if info.rotation in (90, 270) else (info.width, info.height)
        out_w = max(2, round(stored_w * scale / 2) * 2)
        out_h = max(2, round(stored_h * scale / 2) * 2)
        tolerance = 0.5 / info.fps if info.fps > 0 else 0.02
        turns = -info.rotation // 90  # np.rot90 turns counter-clockwise; rotation is clockwise

        container = open_container(path)
        with container:
            stream = container.streams[info.video_stream_index]
            # Frame threading is faster but hangs when a container is closed before the end of the
            # stream while torch/torchvision are loaded (PyAV issues 1849, 1861): slices are safe.
            stream.thread_type = "SLICE"
            if self.config.decode_threads:
                stream.codec_context.thread_count = self.config.decode_threads
            start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
            decoder = None
            position = -1.0
            index = 0
            emitted = 0
            sought = -1  # the target index a seek was last considered for: at most one seek per target
            while index < len(times):
                target = times[index]
                if decoder is None or (sought != index and target - position > self.config.seek_gap_seconds):
                    sought = index
                    if target > self.config.seek_gap_seconds:
                        offset = int((target + start) / stream.time_base)
                        with ffmpeg_errors(path, "cannot seek in"):
                            container.seek(offset, stream=stream, backward=True)
                    decoder = container.decode(stream)
                    position = target
                try:
                    with ffmpeg_errors(path, "cannot decode"):
                        frame = next(decoder, None)
                except DecodeError as exc:
                    if emitted == 0:
                        raise
                    self.warnings.append(f"decoding stopped at {position:.2f} s: {exc}")
                    break
                if frame is None:
                    break
                time = float(frame.time) - start if frame.time is not None else position
                position = time
                if time + tolerance < target:
                    continue
                image = frame.reformat(width=out_w, height=out_h, format="rgb24").to_ndarray()
                if turns % 4:
                    image = np.ascontiguousarray(np.rot90(image, k=turns))
                yield SampledFrame(index=emitted, time_seconds=round(time, 3), image=image, scale=scale)
                emitted += 1
                while index < len(times) and times[index] <= time + tolerance:
                    index += 1
            if emitted == 0:
                raise DecodeError(f"{path.name}: no frame could be decoded")
            last_needed = times[-1] if times else 0.0
            if index < len(times) and last_needed - position > 1.0:
                self.warnings.append(
                    f"video ends at {position:.2f} s although it claims {info.duration_seconds:.2f} s "
                    "(truncated file?); later samples are missing"
                )
        for warning in self.warnings:
            log.warning("%s: %s", info.id, warning)
