"""Burned-in subtitles: RapidOCR (PP-OCR det + rec, ONNX models inside the wheel) on the subtitle
band of frames sampled at `ocr.sample_fps`, reads of one subtitle merged into one timed segment.

A frame's lines are split by script: Chinese lines are the segment's `text`, Latin lines its
`text_en` (bilingual subtitles put the English line under the Chinese one). Subtitles are centred,
so lines far off the middle (signs, captions in the scene) are left out.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..config import OcrConfig
from ..errors import ModelError
from ..model_cache import sha256_file
from ..records import Box, FrameLayout, Segment
from .text import collapse_spaces, has_cjk, has_latin, normalise, similarity, to_simplified

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


def ocr_region(layout: FrameLayout, config: OcrConfig) -> tuple[Box | None, str | None]:
    """Where to read, and why not the subtitle band when it is not (for the stream's reason)."""
    band = layout.subtitle_band
    if band is not None:
        pad = round((band.bottom - band.top) * config.band_padding)
        box = Box(0, max(0, band.top - pad), layout.width, min(layout.height, band.bottom + pad))
        return box, None
    if config.scan_lower_fraction > 0:
        top = int(layout.height * (1 - config.scan_lower_fraction))
        return Box(0, min(top, layout.height - 1), layout.width, layout.height), (
            f"no subtitle band found; read the lowest {config.scan_lower_fraction:.0%} of the picture"
        )
    return None, "no burned-in subtitle band found by ingest (ocr.scan_lower_fraction is 0)"


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


def split_by_script(lines: list[tuple[float, str]]) -> tuple[str, str]:
    """(Chinese, Latin) text of (top, text) lines, top to bottom; lines of neither script are left out."""
    chinese, latin = [], []
    for _, text in sorted(lines):
        if has_cjk(text):
            chinese.append(text)
        elif has_latin(text):
            latin.append(text)
    return collapse_spaces(" ".join(chinese)), collapse_spaces(" ".join(latin))


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
            reuse = self.config.reuse_max_change > 0 and seen is not None
            if reuse and unchanged(seen, boxes, grey, self.config.reuse_max_change):
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
        lines, scores = [], []
        for points, text, score in result or ():
            xs = [point[0] for point in points]
            ys = [point[1] for point in points]
            centre = (min(xs) + max(xs)) / 2 / width
            if float(score) < self.config.min_confidence or abs(centre - 0.5) > self.config.center_tolerance:
                continue
            lines.append((min(ys), text.strip()))
            scores.append(float(score))
        zh, en = split_by_script(lines)
        if self.config.simplified_chinese:
            zh = to_simplified(zh)
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
        follows = last is not None and read.time - last.time <= interval + config.max_gap_seconds + 1e-6
        if follows and similarity(last.key, read.key) >= config.merge_similarity:
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
