"""Ingest: probe, the video's one decode pass, screen layout (bands and tiles) from a spread of frames, and the
audio track.

The decode pass feeds every frame stage at once: besides the layout frames it hands the shots, OCR and visual
stages (whichever the run has and enables) their own frames, at their own instants and sizes, as products on
disk that those stages read later (media.products). When ingest runs, every stage that depends on it runs too,
so it decodes for all of them; when ingest's checkpoint is valid, a frame stage that must rerun decodes alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from motiflens.core.config import Config
from motiflens.core.errors import MediaError, UnsupportedMedia
from motiflens.core.records import StreamStatus, VideoInfo
from motiflens.media.audio import AudioExtractor
from motiflens.media.container import decode_counts
from motiflens.media.decode import FrameList, FrameSink, run_pass
from motiflens.media.frames import sample_times
from motiflens.media.layout import analyse_layout
from motiflens.media.probe import probe
from motiflens.media.products import discard_all
from motiflens.stages.base import Stage, VideoWork

AUDIO_FILE = "audio.wav"


def analysis_times(duration_seconds: float, count: int) -> list[float]:
    """Instants spread over the video, away from fades at both ends."""
    return [round(duration_seconds * (index + 0.5) / count, 3) for index in range(count)]


class IngestStage(Stage):
    name = "ingest"
    config_sections = ("input.min_duration_seconds", "frames", "bands", "tiles", "audio")

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.extractor = AudioExtractor(config.audio.sample_rate)
        #: The later stages that take frames from this stage's decode pass, in run order (None: not bound).
        self.consumers: list[Stage] | None = None

    def bind(self, stages: Sequence[Stage]) -> None:
        self.consumers = [stage for stage in stages if type(stage).frame_sink is not Stage.frame_sink]

    def prepare(self) -> None:
        if self.consumers is None:  # built alone (a Ray actor runs one stage): the frame stages of the registry
            from motiflens.stages import build_stages

            self.bind(build_stages(self.config))
        for stage in self.consumers or ():  # what they decode depends on what they found (e.g. visual weights)
            stage.prepare()

    def cache_valid(self, work: VideoWork) -> bool:
        return work.audio is None or (work.workdir / work.audio.path).is_file()

    def process(self, work: VideoWork) -> None:
        info = probe(work.source, work.content_sha256)
        work.info = info
        minimum = self.config.input.min_duration_seconds
        if info.duration_seconds < minimum:
            raise UnsupportedMedia(
                f"too short: {info.duration_seconds:.2f} s is under input.min_duration_seconds={minimum}"
            )

        count = min(self.config.bands.analysis_frames, max(1, int(info.duration_seconds * 2)))
        layout_frames = FrameList("layout", analysis_times(info.duration_seconds, count), self.config.frames.max_side,
                                  info)
        frames = self._decode(work, info, layout_frames)
        work.layout = analyse_layout(frames, info.width, info.height, self.config.bands, self.config.tiles)
        for stage in self.consumers or ():
            stage.shrink_product(work)
        work.frame_times = sample_times(info.duration_seconds, self.config.frames.sample_fps)

        work.streams["audio"] = self._extract_audio(work, info)
        work.ingest_report = {
            "frames": {
                "sample_fps": self.config.frames.sample_fps,
                "planned_samples": len(work.frame_times),
                "analysis_samples": len(frames),
                "working_scale": round(frames[0].scale, 6),
            },
            "layout": work.layout.to_json(),
            "audio": work.audio.to_json() if work.audio is not None else None,
        }

    def _decode(self, work: VideoWork, info: VideoInfo, layout_frames: FrameList) -> list:
        """One pass for the layout frames and every consumer's product; the layout frames come back."""
        discard_all(work.workdir)
        sinks: dict[str, FrameSink] = {"layout": layout_frames}
        for stage in self.consumers or ():
            sink = stage.frame_sink(work, info, sinks)
            if sink is not None:
                sinks[stage.name] = sink
        before = decode_counts(work.source.path)
        run_pass(work.source.path, info, list(sinks.values()), self.config.frames, self.config.run.prefetch_frames)
        after = decode_counts(work.source.path)
        work.stats["decode"] = {
            "consumers": sorted(sinks),
            "decoder_opens": after.opens - before.opens,
            "frames_decoded": after.frames - before.frames,
        }
        if layout_frames.error is not None:
            raise layout_frames.error
        work.warnings.extend(layout_frames.warnings)
        return layout_frames.frames

    def _extract_audio(self, work: VideoWork, info: VideoInfo) -> StreamStatus:
        if not self.config.audio.enabled:
            return StreamStatus("skipped", "audio.enabled is false")
        if not info.has_audio:
            return StreamStatus("skipped", "the file has no audio stream")
        try:
            audio = self.extractor.extract(work.source.path, work.workdir / AUDIO_FILE)
        except MediaError as exc:
            work.warnings.append(f"audio: {exc}")
            return StreamStatus("failed", str(exc))
        # Kept relative to the video folder (readers join it to work.workdir), so the checkpoint stays valid when
        # the run folder is moved or merged.
        work.audio = replace(audio, path=Path(AUDIO_FILE)) if audio is not None else None
        work.warnings.extend(self.extractor.warnings)
        if work.audio is not None and work.audio.silent:
            return StreamStatus("ok", f"silent track (peak {work.audio.peak:.1e})")
        return StreamStatus("ok")
