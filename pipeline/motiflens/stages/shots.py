"""Shots: hard-cut boundaries from PySceneDetect detectors fed with frames that motiflens.media.frames decodes.

PySceneDetect's own video backends are not used: PyAV frame threading hangs on close while torch is
loaded, and FrameReader already decodes upright, downscaled frames with slice threading. Frames are
analysed at min(video fps, shots.analysis_fps), downscaled to shots.max_side.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scenedetect import AdaptiveDetector, ContentDetector, FrameTimecode, SceneDetector

from motiflens.core.config import Config, ShotsConfig
from motiflens.core.records import Shot, StreamStatus
from motiflens.media.frames import FrameReader, sample_times
from motiflens.media.prefetch import prefetch
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


class ShotsStage(Stage):
    name = "shots"
    stream = "shots"
    config_sections = ("shots", "frames")
    depends_on = ("ingest",)

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.settings = config.shots
        self.reader = FrameReader(config.frames.model_copy(update={"max_side": self.settings.max_side}))

    def process(self, work: VideoWork) -> None:
        if not self.settings.enabled:
            work.streams["shots"] = StreamStatus("skipped", "shots.enabled is false")
            return
        if work.info is None:
            raise RuntimeError("shots stage used before ingest")
        info = work.info
        rate = min(info.fps, self.settings.analysis_fps) if info.fps > 0 else self.settings.analysis_fps
        detector = DETECTORS[self.settings.detector](self.settings, rate)

        # Detectors see the analysed frame's index as its timecode; cuts map back to real frame times.
        times: list[float] = []
        cuts: list[FrameTimecode] = []
        frames = self.reader.read(work.source.path, info, sample_times(info.duration_seconds, rate))
        for frame in prefetch(frames, self.config.run.prefetch_frames):
            timecode = FrameTimecode(len(times), fps=rate)
            times.append(frame.time_seconds)
            cuts.extend(detector.process_frame(timecode, np.ascontiguousarray(frame.image[:, :, ::-1])))
        if times:
            cuts.extend(detector.post_process(FrameTimecode(len(times) - 1, fps=rate)))
        work.warnings.extend(self.reader.warnings)

        starts = [times[cut.frame_num] for cut in cuts if 0 < cut.frame_num < len(times)]
        work.shots = shots_from_starts(starts, info.duration_seconds)
        work.stats["shots"] = {"analysis_fps": round(rate, 3), "analysed_frames": len(times), "shots": len(work.shots)}
        work.streams["shots"] = StreamStatus("ok")
        if self.config.frames.shot_first_frames:
            work.frame_times = sample_times(
                info.duration_seconds, self.config.frames.sample_fps, extra=[shot.start_seconds for shot in work.shots]
            )
