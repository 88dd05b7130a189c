"""Typed records passed between stages. Times are seconds from the start of the video.

Each record that appears in `timeline.json` has `to_json()` producing exactly the contract's fields
(DESIGN.md section 3); optional fields are omitted when unset so that outputs stay byte-stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

Orientation = Literal["vertical", "horizontal", "square"]
StreamState = Literal["ok", "skipped", "failed"]
VideoState = Literal["ok", "failed", "skipped"]
BandKind = Literal["letterbox", "blur_pad", "subtitle"]


def _round(value: float, digits: int = 3) -> float:
    """Round times and scores so that float noise never changes an output byte."""
    return round(float(value), digits)


@dataclass(frozen=True)
class VideoSource:
    """One input file: where it is, how the user named it, and its stable id."""

    path: Path
    relative_path: str
    video_id: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MediaStream:
    """One stream of a media file as the probe lists it. Video sizes are as stored (before rotation)."""

    index: int
    type: str
    codec: str | None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    default: bool = False
    attached_pic: bool = False

    @property
    def is_moving_video(self) -> bool:
        """A video stream that is not a still picture attached as cover art."""
        return self.type == "video" and not self.attached_pic

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"index": self.index, "type": self.type, "codec": self.codec}
        for name in ("width", "height", "sample_rate", "channels"):
            value = getattr(self, name)
            if value is not None:
                doc[name] = value
        if self.fps is not None:
            doc["fps"] = _round(self.fps)
        doc["default"] = self.default
        doc["attached_pic"] = self.attached_pic
        return doc


@dataclass(frozen=True)
class VideoInfo:
    """What the probe found. Width and height are as displayed (rotation applied)."""

    id: str
    path: str
    sha256: str
    size_bytes: int
    duration_seconds: float
    width: int
    height: int
    rotation: int
    fps: float
    vfr: bool
    codec: str
    has_audio: bool
    audio_codec: str | None = None
    audio_sample_rate: int | None = None
    frame_count: int | None = None
    #: The stream every frame read decodes (probe.choose_video_stream), as an index into the file's streams.
    video_stream_index: int = 0
    #: Every stream of the file, in file order; empty in records made before streams were listed.
    media_streams: tuple[MediaStream, ...] = ()

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"video size must be positive, got {self.width}x{self.height}")
        if self.rotation not in (0, 90, 180, 270):
            raise ValueError(f"rotation must be one of 0, 90, 180, 270, got {self.rotation}")

    @property
    def orientation(self) -> Orientation:
        if self.height > self.width:
            return "vertical"
        return "horizontal" if self.width > self.height else "square"

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": self.id,
            "path": self.path,
            "sha256": self.sha256,
            "duration_seconds": _round(self.duration_seconds),
            "width": self.width,
            "height": self.height,
            "rotation": self.rotation,
            "fps": _round(self.fps),
            "orientation": self.orientation,
            "has_audio": self.has_audio,
            "vfr": self.vfr,
            "codec": self.codec,
            "size_bytes": self.size_bytes,
        }
        if self.audio_codec is not None:
            doc["audio_codec"] = self.audio_codec
        if self.frame_count is not None:
            doc["frame_count"] = self.frame_count
        if self.had_stream_choice:
            doc.update(self._stream_json())
        return doc

    @property
    def had_stream_choice(self) -> bool:
        """More than one video stream (cover art included): which one was analysed is worth saying."""
        return sum(1 for stream in self.media_streams if stream.type == "video") > 1

    def to_probe_json(self) -> dict[str, Any]:
        """What `motiflens probe` prints: the timeline's fields plus every stream and the one decoded."""
        return {**self.to_json(), **self._stream_json()}

    def _stream_json(self) -> dict[str, Any]:
        return {
            "video_stream_index": self.video_stream_index,
            "media_streams": [stream.to_json() for stream in self.media_streams],
        }


@dataclass(frozen=True)
class Box:
    """An axis-aligned pixel box [x0, x1) x [y0, y1) in displayed full-resolution coordinates."""

    x0: int
    y0: int
    x1: int
    y1: int

    def __post_init__(self) -> None:
        if not (0 <= self.x0 < self.x1 and 0 <= self.y0 < self.y1):
            raise ValueError(f"empty or negative box {self}")

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def to_json(self) -> list[int]:
        return [self.x0, self.y0, self.x1, self.y1]


@dataclass(frozen=True)
class Band:
    """A horizontal band of rows that is not picture content (bars, blurred padding, subtitles)."""

    kind: BandKind
    top: int
    bottom: int
    confidence: float

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "top": self.top, "bottom": self.bottom, "confidence": _round(self.confidence)}


@dataclass(frozen=True)
class Tile:
    """One square model input cut from a frame; `box` is where it lies on screen."""

    index: int
    box: Box

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "box": self.box.to_json()}


@dataclass(frozen=True)
class FrameLayout:
    """Per-video screen geometry: the picture area, the bands around or over it, and the tiles."""

    width: int
    height: int
    content: Box
    bands: tuple[Band, ...]
    tiles: tuple[Tile, ...]

    @property
    def subtitle_bands(self) -> tuple[Band, ...]:
        """Burned-in subtitle bands, top to bottom: the one in the lower picture, and one at the top when
        ingest found changing text there too."""
        return tuple(band for band in self.bands if band.kind == "subtitle")

    @property
    def subtitle_band(self) -> Band | None:
        """The main subtitle band: the lowest."""
        return self.subtitle_bands[-1] if self.subtitle_bands else None

    def to_json(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "height": self.height,
            "content_box": self.content.to_json(),
            "bands": [band.to_json() for band in self.bands],
            "tiles": [tile.to_json() for tile in self.tiles],
        }


@dataclass
class SampledFrame:
    """A decoded RGB frame, rotated upright, possibly downscaled by `scale` from the displayed size."""

    index: int
    time_seconds: float
    image: np.ndarray
    scale: float

    def crop(self, box: Box) -> np.ndarray:
        """The pixels under a full-resolution box, in this frame's working resolution."""
        height, width = self.image.shape[:2]
        x0 = min(round(box.x0 * self.scale), width - 1)
        y0 = min(round(box.y0 * self.scale), height - 1)
        x1 = max(min(round(box.x1 * self.scale), width), x0 + 1)
        y1 = max(min(round(box.y1 * self.scale), height), y0 + 1)
        return self.image[y0:y1, x0:x1]


@dataclass(frozen=True)
class AudioTrack:
    """16 kHz mono float32 PCM extracted once per video, stored as a WAV file."""

    path: Path
    sample_rate: int
    num_samples: int
    peak: float

    # Below -80 dBFS nothing can be heard; speech models would only hallucinate on it.
    SILENCE_PEAK = 1e-4

    @property
    def duration_seconds(self) -> float:
        return self.num_samples / self.sample_rate

    @property
    def silent(self) -> bool:
        return self.peak < self.SILENCE_PEAK

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.path.name,
            "sample_rate": self.sample_rate,
            "num_samples": self.num_samples,
            "duration_seconds": _round(self.duration_seconds),
            "peak": _round(self.peak, 6),
            "silent": self.silent,
        }


@dataclass(frozen=True)
class StreamStatus:
    status: StreamState
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status} if self.reason is None else {"status": self.status, "reason": self.reason}


@dataclass(frozen=True)
class Shot:
    index: int
    start_seconds: float
    end_seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "start_seconds": _round(self.start_seconds),
            "end_seconds": _round(self.end_seconds),
        }


@dataclass(frozen=True)
class Word:
    word: str
    start_seconds: float
    end_seconds: float
    probability: float

    def to_json(self) -> dict[str, Any]:
        return {
            "word": self.word,
            "start_seconds": _round(self.start_seconds),
            "end_seconds": _round(self.end_seconds),
            "probability": _round(self.probability),
        }


@dataclass(frozen=True)
class Segment:
    """A timed piece of dialogue from speech (asr) or burned-in subtitles (ocr)."""

    id: str
    source: Literal["asr", "ocr"]
    start_seconds: float
    end_seconds: float
    text: str
    language: str | None = None
    text_en: str | None = None
    words: tuple[Word, ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "start_seconds": _round(self.start_seconds),
            "end_seconds": _round(self.end_seconds),
            "text": self.text,
        }
        if self.language is not None:
            doc["language"] = self.language
        if self.text_en is not None:
            doc["text_en"] = self.text_en
        if self.words is not None:
            doc["words"] = [word.to_json() for word in self.words]
        doc.update(self.extra)
        return doc


@dataclass(frozen=True)
class Transcript:
    language: str | None
    segments: tuple[Segment, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"language": self.language, "segments": [segment.to_json() for segment in self.segments]}


SymbolRole = Literal["decorative", "referenced", "catalyst"]
SymbolOrigin = Literal["visual", "dialogue"]
MentionMatch = Literal["keyword", "semantic"]
EventCue = Literal["dialogue", "audio", "cut_rate", "visual"]


@dataclass(frozen=True)
class Mention:
    """A dialogue sentence that names a symbol: by one of its dialogue terms (keyword) or by meaning (semantic)."""

    symbol_id: str
    segment_id: str
    source: Literal["asr", "ocr"]
    start_seconds: float
    end_seconds: float
    text: str
    match: MentionMatch
    score: float
    term: str | None = None
    language: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "symbol_id": self.symbol_id,
            "segment_id": self.segment_id,
            "start_seconds": _round(self.start_seconds),
            "end_seconds": _round(self.end_seconds),
            "text": self.text,
            "match": self.match,
            "score": _round(self.score, 4),
            "term": self.term,
            "source": self.source,
            "language": self.language,
        }


LinkKind = Literal["same_line", "anaphora", "semantic", "visual_focus"]


@dataclass(frozen=True)
class EventLink:
    """Why a plot event is tied to a symbol: the kind of link and the line that makes it (the line that names
    the symbol: for anaphora the earlier line the pronoun points back to)."""

    symbol_id: str
    kind: LinkKind
    segment_id: str
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"symbol_id": self.symbol_id, "kind": self.kind, "segment_id": self.segment_id, "text": self.text}


@dataclass(frozen=True)
class PlotEvent:
    """A typed story beat. `cue_scores` holds each cue's contribution; `cues` lists those that fired."""

    id: str
    type: str
    start_seconds: float
    end_seconds: float
    confidence: float
    cues: tuple[EventCue, ...]
    segment_ids: tuple[str, ...]
    text: str
    cue_scores: dict[str, float] = field(default_factory=dict)
    matched_terms: tuple[str, ...] = ()
    links: tuple[EventLink, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.confidence <= 1:
            raise ValueError(f"{self.id}: confidence must be in [0, 1], got {self.confidence}")
        if self.end_seconds < self.start_seconds:
            raise ValueError(f"{self.id}: ends at {self.end_seconds} before it starts at {self.start_seconds}")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "start_seconds": _round(self.start_seconds),
            "end_seconds": _round(self.end_seconds),
            "confidence": _round(self.confidence, 4),
            "cues": list(self.cues),
            "segment_ids": list(self.segment_ids),
            "text": self.text,
            "cue_scores": {name: _round(value, 4) for name, value in sorted(self.cue_scores.items())},
            "matched_terms": list(self.matched_terms),
            "links": [link.to_json() for link in self.links],
        }


@dataclass(frozen=True)
class ThemeScore:
    """How strongly one transcript segment voices one identity theme (a calibrated confidence in [0, 1])."""

    theme: str
    segment_id: str
    score: float
    start_seconds: float
    end_seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "theme": self.theme,
            "segment_id": self.segment_id,
            "score": _round(self.score, 4),
            "start_seconds": _round(self.start_seconds),
            "end_seconds": _round(self.end_seconds),
        }


@dataclass(frozen=True)
class Evidence:
    """Why an occurrence has its role: a visual span (with its thumbnail), a mention, an event."""

    kind: str
    start_seconds: float
    end_seconds: float
    ref: str | None = None
    text: str | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "kind": self.kind,
            "start_seconds": _round(self.start_seconds),
            "end_seconds": _round(self.end_seconds),
        }
        if self.ref is not None:
            doc["ref"] = self.ref
        if self.text is not None:
            doc["text"] = self.text
        return doc


@dataclass(frozen=True)
class ScreenRegion:
    """The tile where a symbol scored best; `box` is (x0, y0, x1, y1) as fractions of the displayed frame."""

    tile: int
    box: tuple[float, float, float, float]
    full_frame: bool = False

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"tile": self.tile, "box": [_round(value) for value in self.box]}
        if self.full_frame:
            doc["full_frame"] = True
        return doc


@dataclass(frozen=True)
class SymbolOccurrence:
    """A span of screen time in which one symbol is present (the `symbols` entries of timeline.json).

    Scores are the model's per-frame presence scores in [0, 1]: `peak_score` the highest, `mean_score` the
    mean over the frames of the span. Roles are the align stage's job (motiflens.story.align): before it
    runs, a visual occurrence is `decorative`, its `narrative_weight` reflects screen prominence only (see
    VisualConfig.prominence_seconds), and its evidence is the visual span with its peak thumbnail.
    A `dialogue` occurrence is a symbol that is named but never seen; its scores are its mentions' scores.
    """

    symbol_id: str
    label: str
    start_seconds: float
    end_seconds: float
    peak_seconds: float
    peak_score: float
    mean_score: float
    screen_region: ScreenRegion | None
    narrative_weight: float
    evidence: tuple[Evidence, ...] = ()
    role: SymbolRole = "decorative"
    origin: SymbolOrigin = "visual"
    #: The documented parts of narrative_weight (see AlignConfig.weights), set by alignment.
    weight_components: dict[str, float] | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.start_seconds <= self.peak_seconds <= self.end_seconds:
            raise ValueError(
                f"{self.symbol_id}: need 0 <= start <= peak <= end, got "
                f"{self.start_seconds}, {self.peak_seconds}, {self.end_seconds}"
            )
        if not 0 <= self.narrative_weight <= 1:
            raise ValueError(f"{self.symbol_id}: narrative_weight must be in [0, 1], got {self.narrative_weight}")

    @property
    def duration_seconds(self) -> float:
        return self.end_seconds - self.start_seconds

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "symbol_id": self.symbol_id,
            "label": self.label,
            "start_seconds": _round(self.start_seconds),
            "end_seconds": _round(self.end_seconds),
            "peak_seconds": _round(self.peak_seconds),
            "peak_score": _round(self.peak_score, 4),
            "mean_score": _round(self.mean_score, 4),
        }
        if self.screen_region is not None:
            doc["screen_region"] = self.screen_region.to_json()
        thumbnail = next((item.ref for item in self.evidence if item.kind == "visual" and item.ref), None)
        if thumbnail is not None:
            doc["thumbnail"] = thumbnail
        doc["origin"] = self.origin
        doc["role"] = self.role
        doc["narrative_weight"] = _round(self.narrative_weight)
        if self.weight_components is not None:
            doc["weight_components"] = {name: _round(value) for name, value in self.weight_components.items()}
        doc["evidence"] = [item.to_json() for item in self.evidence]
        return doc
