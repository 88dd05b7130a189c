"""Shots: hard-cut boundaries from PySceneDetect detectors fed with frames of the video's shared decode pass.

PySceneDetect's own video backends are not used: PyAV frame threading hangs on close while torch is
loaded, and media.decode already decodes upright, downscaled frames with slice threading. Frames are
analysed at min(video fps, shots.analysis_fps), downscaled to shots.max_side, while the pass runs (in
ingest); what the detector found waits in a small product (`frames/shots.json`) for this stage.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
from scenedetect import AdaptiveDetector, ContentDetector, FrameTimecode, SceneDetector

from motiflens.core.atomic import write_json
from motiflens.core.config import Config, ShotsConfig
from motiflens.core.errors import DecodeError
from motiflens.core.records import SampledFrame, Shot, StreamStatus, VideoInfo
from motiflens.media.decode import FrameSink, run_pass
from motiflens.media.frames import sample_times
from motiflens.media.products import discard, product_paths
from motiflens.stages.base import Stage, VideoWork

#: Detector name (shots.detector) → factory(settings, analysis fps).
DETECTORS: dict[str, Callable[[ShotsConfig, float], SceneDetector]] = {
    "adaptive": lambda settings, fps: AdaptiveDetector(
        adaptive_threshold=settings.adaptive_threshold,
        min_scene_len=min_shot_frames(settings, fps),
        window_width=settings.window_width,
        min_content_val=settings.min_content_val,
    ),
    "content": lambda settings, fps: ContentDetector(
        threshold=settings.content_threshold,
        min_scene_len=min_shot_frames(settings, fps),
    ),
}


def min_shot_frames(settings: ShotsConfig, fps: float) -> int:
    """shots.min_shot_seconds in analysed frames (PySceneDetect counts frames, not seconds)."""
    return max(1, round(settings.min_shot_seconds * fps))


def shots_from_starts(starts: list[float], duration_seconds: float) -> list[Shot]:
    """Shots that cover 0..duration without gaps, one per start (0 always starts the first)."""
    edges = sorted({0.0, *(round(t, 3) for t in starts if 0 < t < duration_seconds)})
    ends = [*edges[1:], round(duration_seconds, 3)]
    return [Shot(index, start, end) for index, (start, end) in enumerate(zip(edges, ends, strict=True))]


def analysis_rate(info: VideoInfo, settings: ShotsConfig) -> float:
    return min(info.fps, settings.analysis_fps) if info.fps > 0 else settings.analysis_fps


def window_frames(settings: ShotsConfig, rate: float) -> int:
    """How many decoded frames to keep for listeners: a cut's first frame is named a few analysed frames after
    it was decoded (the adaptive detector compares it with `window_width` later ones; the flash filter holds a
    cut up to the shortest shot)."""
    return 2 * settings.window_width + min_shot_frames(settings, rate) + 4


class ShotSink(FrameSink):
    """The detector, fed as the pass decodes. Listeners get each cut's first frame (the visual stage samples
    it) from a short window of decoded frames, so no stage decodes again to see where shots start."""

    def __init__(self, settings: ShotsConfig, info: VideoInfo, product: Any = None) -> None:
        self.rate = analysis_rate(info, settings)
        super().__init__("shots", sample_times(info.duration_seconds, self.rate), settings.max_side, info)
        self.detector = DETECTORS[settings.detector](settings, self.rate)
        self.product = product
        # Detectors see the analysed frame's index as its timecode; cuts map back to real frame times.
        self.analysed: list[float] = []
        self.cuts: list[int] = []
        self.listeners: list[Callable[[float, Any], None]] = []
        self.window: deque[tuple[int, Any]] = deque(maxlen=window_frames(settings, self.rate))

    def take(self, frame: SampledFrame, source: Any) -> None:
        number = len(self.analysed)
        self.analysed.append(frame.time_seconds)
        if self.listeners:
            self.window.append((number, source))
        timecode = FrameTimecode(number, fps=self.rate)
        self._found(self.detector.process_frame(timecode, np.ascontiguousarray(frame.image[:, :, ::-1])))

    def finish(self) -> None:
        if self.analysed:
            self._found(self.detector.post_process(FrameTimecode(len(self.analysed) - 1, fps=self.rate)))
        if self.product is not None:
            write_json(self.product, {"rate": self.rate, "analysed": len(self.analysed), "starts": self.starts(),
                                      "warnings": self.warnings, "error": str(self.error) if self.error else None})

    def _found(self, cuts: list[FrameTimecode]) -> None:
        for cut in cuts:
            self.cuts.append(cut.frame_num)
            if not self.listeners or cut.frame_num <= 0:
                continue
            source = next((frame for number, frame in self.window if number == cut.frame_num), None)
            for listener in self.listeners:
                listener(self.analysed[cut.frame_num], source)

    def starts(self) -> list[float]:
        return [self.analysed[number] for number in self.cuts if 0 < number < len(self.analysed)]


class ShotsStage(Stage):
    name = "shots"
    stream = "shots"
    config_sections = ("shots", "frames")
    depends_on = ("ingest",)

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.settings = config.shots

    def frame_sink(self, work: VideoWork, info: VideoInfo, sinks: dict[str, FrameSink]) -> FrameSink | None:
        if not self.settings.enabled:
            return None
        product = product_paths(work.workdir, self.name)[1]
        product.parent.mkdir(parents=True, exist_ok=True)
        return ShotSink(self.settings, info, product)

    def _detect(self, work: VideoWork, info: VideoInfo) -> dict[str, Any]:
        """What the detector found: from the shared pass's product, else from a pass of this stage's own."""
        product = product_paths(work.workdir, self.name)[1]
        try:
            found = json.loads(product.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            sink = ShotSink(self.settings, info)
            run_pass(work.source.path, info, [sink], self.config.frames, self.config.run.prefetch_frames)
            found = {"rate": sink.rate, "analysed": len(sink.analysed), "starts": sink.starts(),
                     "warnings": sink.warnings, "error": str(sink.error) if sink.error else None}
        discard(work.workdir, self.name)
        if found["error"] is not None:
            raise DecodeError(found["error"])
        return found

    def process(self, work: VideoWork) -> None:
        if not self.settings.enabled:
            work.streams["shots"] = StreamStatus("skipped", "shots.enabled is false")
            return
        if work.info is None:
            raise RuntimeError("shots stage used before ingest")
        info = work.info
        found = self._detect(work, info)
        work.warnings.extend(found["warnings"])
        work.shots = shots_from_starts(found["starts"], info.duration_seconds)
        work.stats["shots"] = {
            "analysis_fps": round(found["rate"], 3), "analysed_frames": found["analysed"], "shots": len(work.shots)}
        work.streams["shots"] = StreamStatus("ok")
        if self.config.frames.shot_first_frames:
            work.frame_times = sample_times(
                info.duration_seconds, self.config.frames.sample_fps, extra=[shot.start_seconds for shot in work.shots]
            )
