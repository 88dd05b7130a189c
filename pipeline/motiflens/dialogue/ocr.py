"""Burned-in subtitles: RapidOCR (PP-OCR det + rec, ONNX models inside the wheel) on the subtitle
bands of frames sampled at `ocr.sample_fps`, reads of one subtitle merged into one timed segment.

A cue often fills several rows (a long line wrapped, a Chinese row over its English translation, an
upper band as well as a lower one). The text boxes of a frame are put in reading order (rows top to
bottom, each left to right) and split by script: Chinese rows are the segment's `text`, Latin rows its
`text_en`. Subtitles are centred, so text far off the middle of a row (signs, captions in the scene) is
left out.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from motiflens.core.config import OcrConfig
from motiflens.core.errors import ModelError
from motiflens.core.records import Band, Box, FrameLayout, SampledFrame, Segment
from motiflens.dialogue.text import collapse_spaces, has_cjk, has_latin, normalise, similarity, to_simplified
from motiflens.models.cache import sha256_file

OCR_PACKAGE = "rapidocr-onnxruntime"
#: The models RapidOCR runs here (no angle classifier: subtitles are upright).
OCR_MODELS = ("ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx")


@dataclass(frozen=True)
class OcrModel:
    id: str
    sha256: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "sha256": self.sha256}


def locate_ocr_model() -> OcrModel:
    """The PP-OCR models shipped in the rapidocr-onnxruntime wheel; sha256 over both files' digests."""
    try:
        version = importlib.metadata.version(OCR_PACKAGE)
        import rapidocr_onnxruntime
    except (importlib.metadata.PackageNotFoundError, ImportError) as exc:
        raise ModelError(f"OCR needs the PyPI package {OCR_PACKAGE} (pip install {OCR_PACKAGE}): {exc}") from exc
    folder = Path(rapidocr_onnxruntime.__file__).parent / "models"
    missing = [name for name in OCR_MODELS if not (folder / name).is_file()]
    if missing:
        raise ModelError(f"{OCR_PACKAGE} {version} lacks its models {missing} in {folder}; reinstall it")
    digests = " ".join(sha256_file(folder / name) for name in OCR_MODELS)
    return OcrModel(
        id=f"{OCR_PACKAGE} {version}: " + " + ".join(OCR_MODELS),
        sha256=hashlib.sha256(digests.encode()).hexdigest(),
    )


def band_box(band: Band, layout: FrameLayout, config: OcrConfig) -> Box:
    """The band with room above and below for a cue that wraps onto one more row than ingest saw."""
    pad = max(round((band.bottom - band.top) * config.band_padding), round(layout.height * config.band_min_padding))
    return Box(0, max(0, band.top - pad), layout.width, min(layout.height, band.bottom + pad))


def ocr_regions(layout: FrameLayout, config: OcrConfig) -> tuple[tuple[Box, ...], str | None]:
    """Where to read, top to bottom, and why not the subtitle bands when it is not (for the stream's reason)."""
    if layout.subtitle_bands:
        return tuple(band_box(band, layout, config) for band in layout.subtitle_bands), None
    if config.scan_lower_fraction > 0:
        top = int(layout.height * (1 - config.scan_lower_fraction))
        return (Box(0, min(top, layout.height - 1), layout.width, layout.height),), (
            f"no subtitle band found; read the lowest {config.scan_lower_fraction:.0%} of the picture"
        )
    return (), "no burned-in subtitle band found by ingest (ocr.scan_lower_fraction is 0)"


#: Blank rows between stacked regions: text detection never joins text across them.
_REGION_GAP = 16


def region_image(frame: SampledFrame, boxes: tuple[Box, ...]) -> np.ndarray:
    """The regions of a frame stacked top to bottom (all span the full width), so one detection pass reads
    an upper and a lower subtitle band in reading order."""
    crops = [frame.crop(box) for box in boxes]
    if len(crops) == 1:
        return crops[0]
    gap = np.zeros((_REGION_GAP, crops[0].shape[1], 3), dtype=crops[0].dtype)
    return np.concatenate([part for crop in crops for part in (crop, gap)][:-1], axis=0)


@dataclass(frozen=True)
class FrameRead:
    """What one frame's subtitle area says."""

    time: float
    zh: str = ""
    en: str = ""
    confidence: float = 0.0

    @property
    def key(self) -> str:
        return normalise(self.zh + self.en)


@dataclass(frozen=True)
class TextBox:
    """One text line or segment that RapidOCR found: its extent in the region's pixels and its text."""

    left: float
    top: float
    right: float
    bottom: float
    text: str
    score: float

    @classmethod
    def of(cls, points: Any, text: str, score: Any) -> TextBox:
        xs = [float(point[0]) for point in points]
        ys = [float(point[1]) for point in points]
        return cls(min(xs), min(ys), max(xs), max(ys), text.strip(), float(score))

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def height(self) -> float:
        return self.bottom - self.top


def text_rows(boxes: list[TextBox]) -> list[list[TextBox]]:
    """Boxes in reading order: rows top to bottom, each left to right. RapidOCR gives a row in several
    boxes wherever a gap (a comma, a wide space) splits it, listed in no reliable order; a box belongs to
    the row whose vertical middle is within half a row height of its own."""
    rows: list[list[TextBox]] = []
    for box in sorted(boxes, key=lambda box: box.middle):
        if rows:
            row = rows[-1]
            middle = sum(part.middle for part in row) / len(row)
            height = sum(part.height for part in row) / len(row)
            if abs(box.middle - middle) <= height / 2:
                row.append(box)
                continue
        rows.append([box])
    return [sorted(row, key=lambda box: box.left) for row in rows]


def centred(row: list[TextBox], width: int, tolerance: float) -> list[TextBox]:
    """The parts of a row that belong to a centred subtitle. Parts closer than two row heights are one
    stretch of text; a stretch whose middle is more than `tolerance` of the width off centre is scene text
    (a sign, a caption). Each stretch is judged whole, so the halves of a long split row stay."""
    gap = 2 * max(box.height for box in row)
    stretches = [[row[0]]]
    for box in row[1:]:
        if box.left - stretches[-1][-1].right > gap:
            stretches.append([box])
        else:
            stretches[-1].append(box)
    return [
        box
        for stretch in stretches
        if abs((stretch[0].left + stretch[-1].right) / 2 / width - 0.5) <= tolerance
        for box in stretch
    ]


def join_parts(parts: list[str]) -> str:
    """Texts left to right: a space between Latin words, none where either side is Chinese (full width)."""
    joined = ""
    for part in parts:
        if joined and not (_wide(joined[-1]) or _wide(part[0])):
            joined += " "
        joined += part
    return collapse_spaces(joined)


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in "WF"


def split_by_script(rows: list[str]) -> tuple[str, str]:
    """(Chinese, Latin) text of rows in reading order. Chinese rows join without a space (a wrapped
    Chinese line has none at the break), Latin rows with one; rows of neither script are left out."""
    chinese = [row for row in rows if has_cjk(row)]
    latin = [row for row in rows if not has_cjk(row) and has_latin(row)]
    return "".join(chinese), collapse_spaces(" ".join(latin))


@dataclass(frozen=True)
class RecognisedFrame:
    """The last frame that was recognised: its text boxes, grey pixels and what it said."""

    boxes: np.ndarray
    grey: np.ndarray
    read: FrameRead


def unchanged(seen: RecognisedFrame, boxes: np.ndarray, grey: np.ndarray, max_change: float) -> bool:
    """Whether the text boxes sit where they were and at most `max_change` of their pixels changed by
    more than a quarter of the grey range (a moving background changes little inside them; new
    glyphs change a lot)."""
    if boxes.shape != seen.boxes.shape or grey.shape != seen.grey.shape:
        return False
    heights = boxes[:, :, 1].max(axis=1) - boxes[:, :, 1].min(axis=1)
    if np.abs(boxes - seen.boxes).max() > max(4.0, 0.25 * float(np.median(heights))):
        return False
    x0, y0 = np.floor(boxes.min(axis=(0, 1))).astype(int).clip(0)
    x1, y1 = np.ceil(boxes.max(axis=(0, 1))).astype(int)
    now, before = grey[y0:y1, x0:x1], seen.grey[y0:y1, x0:x1]
    return now.size > 0 and float(np.mean(np.abs(now - before) > 64)) <= max_change


class SubtitleReader:
    """One RapidOCR engine, loaded once, reading many frames."""

    def __init__(self, config: OcrConfig) -> None:
        self.config = config
        self.engine: Any = None
        self.detected = 0
        self.recognised = 0

    def load(self) -> None:
        from rapidocr_onnxruntime import RapidOCR

        # limit_type "max" keeps a wide, short band at its own size instead of upscaling its height to 736.
        self.engine = RapidOCR(det_limit_type="max", det_limit_side_len=960, text_score=self.config.min_confidence)

    def close(self) -> None:
        self.engine = None

    def read_all(self, images: Iterable[tuple[float, np.ndarray]]) -> list[FrameRead]:
        """(time, RGB crop) pairs of one video, in time order. Text detection runs on every frame that
        changed since the last detected one; recognition, the costly part, only when the text changed
        since the last recognised frame."""
        if self.engine is None:
            raise RuntimeError("SubtitleReader.load() was not called")
        reads: list[FrameRead] = []
        seen: RecognisedFrame | None = None
        last_detected: np.ndarray | None = None
        for time, rgb in images:
            image = self.upscale(rgb)
            grey = image.mean(axis=2, dtype=np.float32)
            if reads and last_detected is not None and self.static(last_detected, grey):
                reads.append(replace(reads[-1], time=time))
                continue
            last_detected = grey
            self.detected += 1
            bgr = np.ascontiguousarray(image[:, :, ::-1])  # RapidOCR takes arrays as BGR
            found, _ = self.engine(bgr, use_cls=False, use_rec=False)
            if not found:
                seen = None
                reads.append(FrameRead(time=time))
                continue
            boxes = np.asarray(found, dtype=np.float32)
            reuse = self.config.reuse_max_change > 0
            if reuse and seen is not None and unchanged(seen, boxes, grey, self.config.reuse_max_change):
                reads.append(replace(seen.read, time=time))
                continue
            self.recognised += 1
            seen = RecognisedFrame(boxes=boxes, grey=grey, read=self.recognise(bgr, image.shape[1], time))
            reads.append(seen.read)
        return reads

    def static(self, before: np.ndarray, now: np.ndarray) -> bool:
        """Whether the region barely changed: new or vanished glyphs change far more pixels than
        `static_max_change`, while sensor noise and compression stay under a quarter of the grey range.
        Compared with the last detected frame, so slow drift adds up and is detected in the end."""
        limit = self.config.static_max_change
        if limit <= 0 or before.shape != now.shape:
            return False
        return float(np.mean(np.abs(now - before) > 64)) <= limit

    def upscale(self, image: np.ndarray) -> np.ndarray:
        """Small glyphs lose the spaces between English words: bring narrow regions up to `min_width`."""
        width = image.shape[1]
        if width >= self.config.min_width:
            return image
        import cv2

        factor = self.config.min_width / width
        return cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)

    def recognise(self, bgr: np.ndarray, width: int, time: float) -> FrameRead:
        result, _ = self.engine(bgr, use_cls=False)
        boxes = [TextBox.of(*found) for found in result or ()]
        boxes = [box for box in boxes if box.text and box.score >= self.config.min_confidence]
        kept = [centred(row, width, self.config.center_tolerance) for row in text_rows(boxes)]
        zh, en = split_by_script([join_parts([box.text for box in row]) for row in kept if row])
        if self.config.simplified_chinese:
            zh = to_simplified(zh)
        scores = [box.score for row in kept for box in row]
        confidence = sum(scores) / len(scores) if scores else 0.0
        return FrameRead(time=time, zh=zh, en=en, confidence=confidence)


@dataclass
class SubtitleSpan:
    """Consecutive reads of one subtitle."""

    reads: list[FrameRead] = field(default_factory=list)

    @property
    def best(self) -> FrameRead:
        """The most frequent reading; among those, the surest."""
        counts = Counter(read.key for read in self.reads)
        return max(self.reads, key=lambda read: (counts[read.key], read.confidence))

    @property
    def confidence(self) -> float:
        return sum(read.confidence for read in self.reads) / len(self.reads)


def merge_reads(reads: list[FrameRead], config: OcrConfig) -> list[SubtitleSpan]:
    """Reads in time order → one span per subtitle. A read joins the open span when it says nearly
    the same (`merge_similarity`) and follows within one sampling interval plus `max_gap_seconds`."""
    interval = 1 / config.sample_fps
    spans: list[SubtitleSpan] = []
    for read in reads:
        if not read.key:
            continue
        last = spans[-1].reads[-1] if spans else None
        if (
            last is not None
            and read.time - last.time <= interval + config.max_gap_seconds + 1e-6
            and similarity(last.key, read.key) >= config.merge_similarity
        ):
            spans[-1].reads.append(read)
        else:
            spans.append(SubtitleSpan([read]))
    return spans


def span_segments(spans: list[SubtitleSpan], sample_fps: float, duration: float) -> list[Segment]:
    """Timed segments `ocr-0001`… A subtitle appeared after the sample before its first read and left
    before the sample after its last: half an interval on each side is the unbiased estimate."""
    half = 0.5 / sample_fps
    segments = []
    for number, span in enumerate(spans, start=1):
        best = span.best
        start = max(0.0, span.reads[0].time - half)
        end = min(max(duration, start), span.reads[-1].time + half)
        segments.append(
            Segment(
                id=f"ocr-{number:04d}",
                source="ocr",
                start_seconds=start,
                end_seconds=end,
                text=best.zh or best.en,
                language="zh" if best.zh else "en",
                text_en=best.en if best.zh and best.en else None,
                extra={"confidence": round(span.confidence, 3), "reads": len(span.reads)},
            )
        )
    return segments
