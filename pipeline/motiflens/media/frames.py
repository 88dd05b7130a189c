"""Sampled frames with PyAV: upright, downscaled, one at a time (never the whole video).

FrameReader is the one-consumer case of media.decode: the stages share one decode pass per video, this
reader serves a consumer that decodes on its own (calibration, a stage run outside the pipeline).
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from pathlib import Path

import numpy as np

from motiflens.core.config import FramesConfig
from motiflens.core.records import SampledFrame, VideoInfo
from motiflens.media.decode import FrameSink, decode_pass, working_scale

__all__ = ["FrameReader", "sample_times", "working_scale"]


def sample_times(duration_seconds: float, sample_fps: float, extra: Iterable[float] = ()) -> list[float]:
    """A regular grid at `sample_fps` plus extra instants (shot starts), sorted, in milliseconds' steps."""
    count = max(1, int(np.floor(duration_seconds * sample_fps - 1e-9)) + 1)
    grid = {round(k / sample_fps, 3) for k in range(count)}
    grid.update(round(t, 3) for t in extra if 0 <= t < max(duration_seconds, 1e-3))
    return sorted(grid)


class FrameReader:
    """Yields the first frame at or after each requested time. Seeks across long gaps.

    A stream that breaks part-way (a truncated download) keeps the frames decoded before the break
    and records why in `warnings`; a stream that yields nothing raises DecodeError.
    """

    def __init__(self, config: FramesConfig) -> None:
        self.config = config
        self.warnings: list[str] = []

    def read(self, path: Path, info: VideoInfo, times: list[float]) -> Generator[SampledFrame, None, None]:
        sink = FrameSink("reader", times, self.config.max_side, info)
        self.warnings = sink.warnings
        for _sink, frame, _source in decode_pass(path, info, [sink], self.config):
            yield frame
        if sink.error is not None:
            raise sink.error
