"""Ingest: probe, screen layout (bands and tiles) from a spread of frames, and the audio track."""

from __future__ import annotations

from motiflens.core.config import Config
from motiflens.core.errors import MediaError, UnsupportedMedia
from motiflens.core.records import StreamStatus, VideoInfo
from motiflens.media.audio import AudioExtractor
from motiflens.media.frames import FrameReader, sample_times
from motiflens.media.layout import analyse_layout
from motiflens.media.probe import probe
from motiflens.stages.base import Stage, VideoWork


def analysis_times(duration_seconds: float, count: int) -> list[float]:
    """Instants spread over the video, away from fades at both ends."""
    return [round(duration_seconds * (index + 0.5) / count, 3) for index in range(count)]


class IngestStage(Stage):
    name = "ingest"
    config_sections = ("input.min_duration_seconds", "frames", "bands", "tiles", "audio")

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.reader = FrameReader(config.frames)
        self.extractor = AudioExtractor(config.audio.sample_rate)

    def cache_valid(self, work: VideoWork) -> bool:
        return work.audio is None or work.audio.path.is_file()

    def process(self, work: VideoWork) -> None:
        info = probe(work.source, work.content_sha256)
        work.info = info
        minimum = self.config.input.min_duration_seconds
        if info.duration_seconds < minimum:
            raise UnsupportedMedia(
                f"too short: {info.duration_seconds:.2f} s is under input.min_duration_seconds={minimum}"
            )

        count = min(self.config.bands.analysis_frames, max(1, int(info.duration_seconds * 2)))
        frames = list(self.reader.read(work.source.path, info, analysis_times(info.duration_seconds, count)))
        work.warnings.extend(self.reader.warnings)
        work.layout = analyse_layout(frames, info.width, info.height, self.config.bands, self.config.tiles)
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

    def _extract_audio(self, work: VideoWork, info: VideoInfo) -> StreamStatus:
        if not self.config.audio.enabled:
            return StreamStatus("skipped", "audio.enabled is false")
        if not info.has_audio:
            return StreamStatus("skipped", "the file has no audio stream")
        try:
            work.audio = self.extractor.extract(work.source.path, work.workdir / "audio.wav")
        except MediaError as exc:
            work.warnings.append(f"audio: {exc}")
            return StreamStatus("failed", str(exc))
        work.warnings.extend(self.extractor.warnings)
        if work.audio is not None and work.audio.silent:
            return StreamStatus("ok", f"silent track (peak {work.audio.peak:.1e})")
        return StreamStatus("ok")
