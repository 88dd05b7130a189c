"""OCR: burned-in subtitles read from the subtitle bands, merged into timed segments and reconciled
with the speech segments of the same video.

Without a subtitle band from ingest the stream is `skipped` with the reason: ingest looks for text
rows in the lower half across the whole video, so a missing band almost always means no subtitles,
and reading the picture instead would turn signs and captions into "dialogue". Set
`ocr.scan_lower_fraction` (e.g. 0.3) to read the lowest part of the picture anyway; the stream is
then `ok` with a reason that says so.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from motiflens.core.config import Config
from motiflens.core.log import get_logger
from motiflens.core.records import Segment, StreamStatus, Transcript
from motiflens.media.frames import FrameReader, sample_times
from motiflens.media.prefetch import prefetch
from motiflens.stages.base import Stage, VideoWork

if TYPE_CHECKING:
    from motiflens.dialogue.ocr import OcrModel, SubtitleReader

log = get_logger("ocr")


def main_language(segments: list[Segment]) -> str | None:
    shown: Counter = Counter()
    for segment in segments:
        if segment.language is not None:
            shown[segment.language] += segment.end_seconds - segment.start_seconds
    return shown.most_common(1)[0][0] if shown else None


class OcrStage(Stage):
    name = "ocr"
    stream = "ocr"
    config_sections = ("ocr",)
    depends_on = ("ingest", "asr")

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        frames = config.frames.model_copy(update={"max_side": config.ocr.max_side})
        self.frame_reader = FrameReader(frames)
        self.model: OcrModel | None = None
        self.reader: SubtitleReader | None = None

    def prepare(self) -> None:
        if self.config.ocr.enabled:
            from motiflens.dialogue.ocr import locate_ocr_model

            self.model = locate_ocr_model()

    def open(self) -> None:
        if not self.config.ocr.enabled:
            return
        from motiflens.dialogue.ocr import SubtitleReader

        self.reader = SubtitleReader(self.config.ocr)
        self.reader.load()

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None

    def cache_valid(self, work: VideoWork) -> bool:
        return work.transcript is None or all(
            (work.workdir / name).is_file() for name in ("transcript.vtt", "transcript.srt")
        )

    def models(self) -> dict[str, dict[str, str]]:
        return {"ocr": self.model.to_json()} if self.model is not None else {}

    def process(self, work: VideoWork) -> None:
        from motiflens.dialogue.ocr import merge_reads, ocr_regions, region_image, span_segments
        from motiflens.dialogue.reconcile import reconcile
        from motiflens.dialogue.subtitles import write_exports

        config = self.config.ocr
        if not config.enabled or self.reader is None:
            work.streams["ocr"] = StreamStatus("skipped", "ocr.enabled is false")
            return
        if work.info is None or work.layout is None:
            work.streams["ocr"] = StreamStatus("skipped", "no screen layout from ingest")
            return
        boxes, why = ocr_regions(work.layout, config)
        if not boxes:
            work.streams["ocr"] = StreamStatus("skipped", why)
            return

        times = sample_times(work.info.duration_seconds, config.sample_fps)
        frames = prefetch(self.frame_reader.read(work.source.path, work.info, times), self.config.run.prefetch_frames)
        detected_before, recognised_before = self.reader.detected, self.reader.recognised
        reads = self.reader.read_all((frame.time_seconds, region_image(frame, boxes)) for frame in frames)
        work.warnings.extend(self.frame_reader.warnings)
        subtitles = span_segments(merge_reads(reads, config), config.sample_fps, work.info.duration_seconds)

        previous = work.transcript or Transcript(language=None)
        speech = [segment for segment in previous.segments if segment.source == "asr"]
        linked = reconcile(speech, subtitles, config.link_min_overlap)
        segments = sorted(linked.speech + linked.subtitles, key=lambda s: (s.start_seconds, s.end_seconds, s.id))
        work.transcript = Transcript(
            language=previous.language or main_language(linked.subtitles), segments=tuple(segments)
        )
        write_exports(work.transcript, work.workdir)
        work.stats["ocr"] = {
            "regions": [box.to_json() for box in boxes],
            "frames_read": len(reads),
            "frames_with_text": sum(1 for read in reads if read.key),
            # the rest reused the read of an unchanged earlier frame (ocr.static_max_change, ocr.reuse_max_change)
            "frames_detected": self.reader.detected - detected_before,
            "frames_recognised": self.reader.recognised - recognised_before,
            "segments": len(subtitles),
            **linked.stats,
        }
        work.streams["ocr"] = StreamStatus("ok", why)
        log.info("%s: %d subtitle segments from %d frames", work.video_id, len(subtitles), len(reads))
