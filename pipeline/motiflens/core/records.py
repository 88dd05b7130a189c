"""Typed records passed between stages. Times are seconds from the start of the video.

Each record that appears in `timeline.json` is a `Record`: its `to_json()` is derived from the fields and their
`json_meta` (core/record_json.py), producing exactly the contract's fields (DESIGN.md section 3); optional fields
are omitted when unset so that outputs stay byte-stable. The same fields feed the checkpoints, the corpus tables'
plain columns (their `doc`), and the schema check of tests/test_record_schema.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from motiflens.core.record_json import Record, in_json, json_meta, record_json

Orientation = Literal["vertical", "horizontal", "square"]
StreamState = Literal["ok", "skipped", "failed"]
VideoState = Literal["ok", "failed", "skipped"]
BandKind = Literal["letterbox", "blur_pad", "subtitle"]

#: Times are written to the millisecond; the start and end of every timed record read the same in the tables.
SECONDS = json_meta(digits=3)
START = json_meta(digits=3, doc="Start, seconds from the start of the video.")
END = json_meta(digits=3, doc="End, seconds from the start of the video.")
OMIT_NONE = json_meta(omit_if=None)


@dataclass(frozen=True)
class VideoSource:
    """One input file: where it is, how the user named it, and its stable id."""

    path: Path
    relative_path: str
    video_id: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MediaStream(Record):
    """One stream of a media file as the probe lists it. Video sizes are as stored (before rotation)."""

    index: int
    type: str
    codec: str | None
    width: int | None = field(default=None, metadata=OMIT_NONE)
    height: int | None = field(default=None, metadata=OMIT_NONE)
    fps: float | None = field(default=None, metadata=json_meta(digits=3, omit_if=None))
    sample_rate: int | None = field(default=None, metadata=OMIT_NONE)
    channels: int | None = field(default=None, metadata=OMIT_NONE)
    default: bool = False
    attached_pic: bool = False

    json_schema = "/$defs/media_stream"
    json_order = (
        "index",
        "type",
        "codec",
        "width",
        "height",
        "sample_rate",
        "channels",
        "fps",
        "default",
        "attached_pic",
    )

    @property
    def is_moving_video(self) -> bool:
        """A video stream that is not a still picture attached as cover art."""
        return self.type == "video" and not self.attached_pic


@dataclass(frozen=True)
class VideoInfo(Record):
    """What the probe found. Width and height are as displayed (rotation applied)."""

    id: str
    path: str
    sha256: str = field(metadata=json_meta(doc="SHA-256 of the file."))
    size_bytes: int
    duration_seconds: float = field(metadata=json_meta(digits=3, doc="Duration in seconds."))
    width: int = field(metadata=json_meta(doc="Displayed width in pixels (rotation applied)."))
    height: int = field(metadata=json_meta(doc="Displayed height in pixels (rotation applied)."))
    rotation: int = field(metadata=json_meta(doc="Degrees the stored picture is turned clockwise for display."))
    fps: float = field(metadata=json_meta(digits=3, doc="Average frame rate."))
    vfr: bool
    codec: str
    has_audio: bool = field(metadata=json_meta(doc="Whether the file has an audio stream."))
    audio_codec: str | None = field(default=None, metadata=OMIT_NONE)
    audio_sample_rate: int | None = field(default=None, metadata=json_meta(internal=True))
    frame_count: int | None = field(default=None, metadata=OMIT_NONE)
    #: The stream every frame read decodes (probe.choose_video_stream), as an index into the file's streams.
    video_stream_index: int = field(default=0, metadata=json_meta(when="had_stream_choice"))
    #: Every stream of the file, in file order; empty in records made before streams were listed.
    media_streams: tuple[MediaStream, ...] = field(default=(), metadata=json_meta(when="had_stream_choice"))

    json_schema = "/properties/video"
    json_order = (
        "id",
        "path",
        "sha256",
        "duration_seconds",
        "width",
        "height",
        "rotation",
        "fps",
        "orientation",
        "has_audio",
        "vfr",
        "codec",
        "size_bytes",
        "audio_codec",
        "frame_count",
        "video_stream_index",
        "media_streams",
    )

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"video size must be positive, got {self.width}x{self.height}")
        if self.rotation not in (0, 90, 180, 270):
            raise ValueError(f"rotation must be one of 0, 90, 180, 270, got {self.rotation}")

    @property
    @in_json(doc="`vertical`, `horizontal` or `square`.")
    def orientation(self) -> Orientation:
        if self.height > self.width:
            return "vertical"
        return "horizontal" if self.width > self.height else "square"

    @property
    def had_stream_choice(self) -> bool:
        """More than one video stream (cover art included): which one was analysed is worth saying."""
        return sum(1 for stream in self.media_streams if stream.type == "video") > 1

    def to_probe_json(self) -> dict[str, Any]:
        """What `motiflens probe` prints: the timeline's fields plus every stream and the one decoded."""
        document: dict[str, Any] = record_json(self, conditional=False)
        return document


@dataclass(frozen=True)
class Box(Record):
    """An axis-aligned pixel box [x0, x1) x [y0, y1) in displayed full-resolution coordinates."""

    x0: int
    y0: int
    x1: int
    y1: int

    json_schema = "/$defs/box"
    json_array = True

    def __post_init__(self) -> None:
        if not (0 <= self.x0 < self.x1 and 0 <= self.y0 < self.y1):
            raise ValueError(f"empty or negative box {self}")

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


_LAYOUT = "/properties/ingest/properties/layout"


@dataclass(frozen=True)
class Band(Record):
    """A horizontal band of rows that is not picture content (bars, blurred padding, subtitles)."""

    kind: BandKind
    top: int
    bottom: int
    confidence: float = field(metadata=json_meta(digits=3))

    json_schema = f"{_LAYOUT}/properties/bands/items"


@dataclass(frozen=True)
class Tile(Record):
    """One square model input cut from a frame; `box` is where it lies on screen."""

    index: int
    box: Box

    json_schema = f"{_LAYOUT}/properties/tiles/items"


@dataclass(frozen=True)
class FrameLayout(Record):
    """Per-video screen geometry: the picture area, the bands around or over it, and the tiles."""

    width: int
    height: int
    content: Box = field(metadata=json_meta(name="content_box"))
    bands: tuple[Band, ...]
    tiles: tuple[Tile, ...]

    json_schema = _LAYOUT

    @property
    def subtitle_bands(self) -> tuple[Band, ...]:
        """Burned-in subtitle bands, top to bottom: the one in the lower picture, and one at the top when
        ingest found changing text there too."""
        return tuple(band for band in self.bands if band.kind == "subtitle")

    @property
    def subtitle_band(self) -> Band | None:
        """The main subtitle band: the lowest."""
        return self.subtitle_bands[-1] if self.subtitle_bands else None


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
class AudioTrack(Record):
    """16 kHz mono float32 PCM extracted once per video, stored as a WAV file."""

    path: Path = field(metadata=json_meta(internal=True))
    sample_rate: int
    num_samples: int
    peak: float = field(metadata=json_meta(digits=6))

    # Below -80 dBFS nothing can be heard; speech models would only hallucinate on it.
    SILENCE_PEAK: ClassVar[float] = 1e-4

    json_schema = "/properties/ingest/properties/audio"
    json_order = ("file", "sample_rate", "num_samples", "duration_seconds", "peak", "silent")

    @property
    @in_json()
    def file(self) -> str:
        """The WAV's name inside the video folder (the folder moves with the run)."""
        return self.path.name

    @property
    @in_json(digits=3)
    def duration_seconds(self) -> float:
        return self.num_samples / self.sample_rate

    @property
    @in_json()
    def silent(self) -> bool:
        return self.peak < self.SILENCE_PEAK


@dataclass(frozen=True)
class StreamStatus(Record):
    status: StreamState
    reason: str | None = field(default=None, metadata=OMIT_NONE)

    json_schema = "/$defs/stream"


@dataclass(frozen=True)
class Shot(Record):
    index: int
    start_seconds: float = field(metadata=START)
    end_seconds: float = field(metadata=END)

    json_schema = "/properties/shots/items"


@dataclass(frozen=True)
class Word(Record):
    word: str
    start_seconds: float = field(metadata=SECONDS)
    end_seconds: float = field(metadata=SECONDS)
    probability: float = field(metadata=json_meta(digits=3))

    json_schema = "/$defs/word"


SOURCE_DOC = "`asr` (speech) or `ocr` (subtitle)."
LINE_LANGUAGE_DOC = "Language of the line."


@dataclass(frozen=True)
class Segment(Record):
    """A timed piece of dialogue from speech (asr) or burned-in subtitles (ocr)."""

    id: str
    source: Literal["asr", "ocr"] = field(metadata=json_meta(doc=SOURCE_DOC))
    start_seconds: float = field(metadata=START)
    end_seconds: float = field(metadata=END)
    text: str = field(metadata=json_meta(doc="The line as heard or read."))
    language: str | None = field(default=None, metadata=json_meta(omit_if=None, doc=LINE_LANGUAGE_DOC))
    text_en: str | None = field(
        default=None, metadata=json_meta(omit_if=None, doc="English translation, when there is one.")
    )
    words: tuple[Word, ...] | None = field(default=None, metadata=OMIT_NONE)
    #: What one source adds (recognition confidence, reads, the links between asr and ocr); written inline.
    extra: dict[str, Any] = field(
        default_factory=dict,
        metadata=json_meta(
            merge=("confidence", "no_speech_prob", "reads", "linked_ids", "agreement", "text_en_source")
        ),
    )

    json_schema = "/properties/transcript/properties/segments/items"


@dataclass(frozen=True)
class Transcript(Record):
    language: str | None = field(metadata=json_meta(doc="Main transcript language."))
    segments: tuple[Segment, ...] = ()

    json_schema = "/properties/transcript"


SymbolRole = Literal["decorative", "referenced", "catalyst"]
SymbolOrigin = Literal["visual", "dialogue"]
MentionMatch = Literal["keyword", "semantic"]
EventCue = Literal["dialogue", "audio", "cut_rate", "visual"]


@dataclass(frozen=True)
class Mention(Record):
    """A dialogue sentence that names a symbol: by one of its dialogue terms (keyword) or by meaning (semantic)."""

    symbol_id: str = field(metadata=json_meta(doc="Taxonomy id of the symbol named."))
    segment_id: str = field(metadata=json_meta(doc="Transcript segment that names it."))
    source: Literal["asr", "ocr"] = field(metadata=json_meta(doc=SOURCE_DOC))
    start_seconds: float = field(metadata=START)
    end_seconds: float = field(metadata=END)
    text: str = field(metadata=json_meta(doc="The dialogue line."))
    match: MentionMatch = field(metadata=json_meta(doc="`keyword` or `semantic`."))
    score: float = field(metadata=json_meta(digits=4, doc="1.0 for a keyword; cosine similarity for a semantic match."))
    term: str | None = field(default=None, metadata=json_meta(doc="Matched dialogue term; empty for a semantic match."))
    language: str | None = field(default=None, metadata=json_meta(doc=LINE_LANGUAGE_DOC))

    json_schema = "/properties/mentions/items"
    json_order = (
        "symbol_id",
        "segment_id",
        "start_seconds",
        "end_seconds",
        "text",
        "match",
        "score",
        "term",
        "source",
        "language",
    )


LinkKind = Literal["same_line", "anaphora", "semantic", "visual_focus"]


@dataclass(frozen=True)
class EventLink(Record):
    """Why a plot event is tied to a symbol: the kind of link and the line that makes it (the line that names
    the symbol: for anaphora the earlier line the pronoun points back to)."""

    symbol_id: str
    kind: LinkKind
    segment_id: str
    text: str

    json_schema = "/properties/events/items/properties/links/items"


@dataclass(frozen=True)
class PlotEvent(Record):
    """A typed story beat. `cue_scores` holds each cue's contribution; `cues` lists those that fired."""

    id: str
    type: str = field(metadata=json_meta(doc="Event type, e.g. `vow`, `betrayal`, `reversal`."))
    start_seconds: float = field(metadata=START)
    end_seconds: float = field(metadata=END)
    confidence: float = field(metadata=json_meta(digits=4, doc="Confidence in [0, 1]."))
    cues: tuple[EventCue, ...]
    segment_ids: tuple[str, ...]
    text: str = field(metadata=json_meta(doc="Triggering line(s), joined by ` / `."))
    cue_scores: dict[str, float] = field(default_factory=dict, metadata=json_meta(digits=4, sort_keys=True))
    matched_terms: tuple[str, ...] = ()
    links: tuple[EventLink, ...] = ()

    json_schema = "/properties/events/items"

    def __post_init__(self) -> None:
        if not 0 <= self.confidence <= 1:
            raise ValueError(f"{self.id}: confidence must be in [0, 1], got {self.confidence}")
        if self.end_seconds < self.start_seconds:
            raise ValueError(f"{self.id}: ends at {self.end_seconds} before it starts at {self.start_seconds}")


@dataclass(frozen=True)
class ThemeScore(Record):
    """How strongly one transcript segment voices one identity theme (a calibrated confidence in [0, 1])."""

    theme: str = field(
        metadata=json_meta(doc="`self_other`, `tradition_modernity`, `home_belonging` or `local_global`.")
    )
    segment_id: str = field(metadata=json_meta(doc="Transcript segment scored."))
    score: float = field(metadata=json_meta(digits=4, doc="Theme score."))
    start_seconds: float = field(metadata=START)
    end_seconds: float = field(metadata=END)

    json_schema = "/properties/themes/items"


_SYMBOL = "/properties/symbols/items"


@dataclass(frozen=True)
class Evidence(Record):
    """Why an occurrence has its role: a visual span (with its thumbnail), a mention, an event."""

    kind: str
    start_seconds: float = field(metadata=SECONDS)
    end_seconds: float = field(metadata=SECONDS)
    ref: str | None = field(default=None, metadata=OMIT_NONE)
    text: str | None = field(default=None, metadata=OMIT_NONE)

    json_schema = f"{_SYMBOL}/properties/evidence/items"


@dataclass(frozen=True)
class ScreenRegion(Record):
    """The tile where a symbol scored best; `box` is (x0, y0, x1, y1) as fractions of the displayed frame."""

    tile: int
    box: tuple[float, float, float, float] = field(metadata=json_meta(digits=3))
    full_frame: bool = field(default=False, metadata=json_meta(omit_if=False))

    json_schema = f"{_SYMBOL}/properties/screen_region"


@dataclass(frozen=True)
class SymbolOccurrence(Record):
    """A span of screen time in which one symbol is present (the `symbols` entries of timeline.json).

    Scores are the model's per-frame presence scores in [0, 1]: `peak_score` the highest, `mean_score` the
    mean over the frames of the span. Roles are the align stage's job (motiflens.story.align): before it
    runs, a visual occurrence is `decorative`, its `narrative_weight` reflects screen prominence only (see
    AlignConfig.prominence_seconds), and its evidence is the visual span with its peak thumbnail.
    A `dialogue` occurrence is a symbol that is named but never seen; its scores are its mentions' scores.
    """

    symbol_id: str = field(metadata=json_meta(doc="Taxonomy id of the symbol."))
    label: str = field(metadata=json_meta(doc="Human-readable name of the symbol."))
    start_seconds: float = field(metadata=START)
    end_seconds: float = field(metadata=END)
    peak_seconds: float = field(metadata=json_meta(digits=3, doc="Time of the highest visual score."))
    peak_score: float = field(metadata=json_meta(digits=4, doc="Highest visual score."))
    mean_score: float = field(metadata=json_meta(digits=4, doc="Mean visual score over the occurrence."))
    screen_region: ScreenRegion | None = field(metadata=OMIT_NONE)
    narrative_weight: float = field(metadata=json_meta(digits=3, doc="Narrative weight in [0, 1]."))
    evidence: tuple[Evidence, ...] = ()
    role: SymbolRole = field(default="decorative", metadata=json_meta(doc="`decorative`, `referenced` or `catalyst`."))
    origin: SymbolOrigin = field(
        default="visual", metadata=json_meta(doc="`visual` (seen on screen) or `dialogue` (named, never shown).")
    )
    #: The documented parts of narrative_weight (see AlignConfig.weights), set by alignment.
    weight_components: dict[str, float] | None = field(default=None, metadata=json_meta(digits=3, omit_if=None))

    json_schema = _SYMBOL
    json_order = (
        "symbol_id",
        "label",
        "start_seconds",
        "end_seconds",
        "peak_seconds",
        "peak_score",
        "mean_score",
        "screen_region",
        "thumbnail",
        "origin",
        "role",
        "narrative_weight",
        "weight_components",
        "evidence",
    )

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

    @property
    @in_json(omit_if=None, doc="Thumbnail path relative to the video folder (visual only).")
    def thumbnail(self) -> str | None:
        """The peak frame's JPEG: the ref of the first visual evidence that has one."""
        return next((item.ref for item in self.evidence if item.kind == "visual" and item.ref), None)
