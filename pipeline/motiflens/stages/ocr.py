"""OCR: burned-in subtitles read from the subtitle bands and merged into timed segments (`work.subtitles`);
the reconcile stage links them with the speech. OCR depends on ingest only, so no speech setting redoes it.

Without a subtitle band from ingest the stream is `skipped` with the reason: ingest looks for text
rows in the lower half across the whole video, so a missing band almost always means no subtitles,
and reading the picture instead would turn signs and captions into "dialogue". Set
`ocr.scan_lower_fraction` (e.g. 0.3) to read the lowest part of the picture anyway; the stream is
then `ok` with a reason that says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from motiflens.core.config import Config
from motiflens.core.log import get_logger
from motiflens.core.records import Box, StreamStatus, VideoInfo
from motiflens.media.decode import FrameSink
from motiflens.media.frames import FrameReader, sample_times
from motiflens.media.prefetch import prefetch
from motiflens.media.products import FrameProduct, ProductSink, discard, shrink
from motiflens.stages.base import Stage, VideoWork

if TYPE_CHECKING:
    from motiflens.dialogue.ocr import OcrModel, SubtitleReader

log = get_logger("ocr")


class OcrStage(Stage):
    name = "ocr"
    stream = "ocr"
    loaded = ("reader",)
    config_sections = ("ocr",)
    depends_on = ("ingest",)

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

    def frame_sink(self, work: VideoWork, info: VideoInfo, sinks: dict[str, FrameSink]) -> FrameSink | None:
        if not self.config.ocr.enabled:
            return None
        times = sample_times(info.duration_seconds, self.config.ocr.sample_fps)
        return ProductSink(self.name, times, self.config.ocr.max_side, info, work.workdir)

    def shrink_product(self, work: VideoWork) -> None:
        """Keep the subtitle regions of each frame (a tenth of it or so), or nothing when there is no band."""
        from motiflens.dialogue.ocr import ocr_regions, region_image

        boxes, _why = ocr_regions(work.layout, self.config.ocr) if work.layout is not None else ((), None)
        if not boxes:
            discard(work.workdir, self.name)
            return
        shrink(work.workdir, self.name, lambda frame: region_image(frame, boxes), {"regions": _regions(boxes)})

    def _images(
        self, work: VideoWork, info: VideoInfo, boxes: tuple[Box, ...], warnings: list[str]
    ) -> Iterator[tuple[float, np.ndarray]]:
        """(time, subtitle regions) of each frame to read: from the shared decode pass's product (cut to the
        regions by ingest already, or here), else from this stage's own pass."""
        from motiflens.dialogue.ocr import region_image

        product = FrameProduct.load(work.workdir, self.name)
        if product is not None:
            cut = product.note.get("regions") == _regions(boxes)
            for frame in product.frames():
                yield frame.time_seconds, frame.image if cut else region_image(frame, boxes)
            warnings.extend(product.warnings)
        else:
            times = sample_times(info.duration_seconds, self.config.ocr.sample_fps)
            for frame in self.frame_reader.read(work.source.path, info, times):
                yield frame.time_seconds, region_image(frame, boxes)
            warnings.extend(self.frame_reader.warnings)

    def models(self) -> dict[str, dict[str, str]]:
        return {"ocr": self.model.to_json()} if self.model is not None else {}

    def process(self, work: VideoWork) -> None:
        try:
            self._read(work)
        finally:
            discard(work.workdir, self.name)  # read, or not needed (no band): the product goes either way

    def _read(self, work: VideoWork) -> None:
        from motiflens.dialogue.ocr import merge_reads, ocr_regions, span_segments

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

        warnings: list[str] = []
        images = prefetch(self._images(work, work.info, boxes, warnings), self.config.run.prefetch_frames)
        detected_before, recognised_before = self.reader.detected, self.reader.recognised
        reads = self.reader.read_all(images)
        work.warnings.extend(warnings)
        subtitles = span_segments(merge_reads(reads, config), config.sample_fps, work.info.duration_seconds)
        work.subtitles = list(subtitles)
        work.stats["ocr"] = {
            "regions": [box.to_json() for box in boxes],
            "frames_read": len(reads),
            "frames_with_text": sum(1 for read in reads if read.key),
            # the rest reused the read of an unchanged earlier frame (ocr.static_max_change, ocr.reuse_max_change)
            "frames_detected": self.reader.detected - detected_before,
            "frames_recognised": self.reader.recognised - recognised_before,
            "segments": len(subtitles),
        }
        work.streams["ocr"] = StreamStatus("ok", why)
        log.info("%s: %d subtitle segments from %d frames", work.video_id, len(subtitles), len(reads))


def _regions(boxes: tuple[Box, ...]) -> list[dict[str, Any]]:
    return [box.to_json() for box in boxes]
