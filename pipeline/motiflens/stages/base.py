"""The stage contract and the per-video work record that stages read and fill."""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from motiflens.core.config import Config
from motiflens.core.records import (
    AudioTrack,
    FrameLayout,
    Mention,
    PlotEvent,
    Segment,
    Shot,
    StreamStatus,
    SymbolOccurrence,
    ThemeScore,
    Transcript,
    VideoInfo,
    VideoSource,
    VideoState,
)
from motiflens.media.decode import FrameSink


@dataclass
class VideoWork:
    """Everything known about one video during a run. Stages fill the fields they own."""

    source: VideoSource
    workdir: Path
    info: VideoInfo | None = None
    layout: FrameLayout | None = None
    frame_times: list[float] = field(default_factory=list)
    audio: AudioTrack | None = None
    streams: dict[str, StreamStatus] = field(default_factory=dict)
    shots: list[Shot] = field(default_factory=list)
    transcript: Transcript | None = None
    #: Subtitle segments read on screen (OCR), linked with the speech by the reconcile stage.
    subtitles: list[Segment] = field(default_factory=list)
    symbols: list[SymbolOccurrence] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    events: list[PlotEvent] = field(default_factory=list)
    themes: list[ThemeScore] = field(default_factory=list)
    ingest_report: dict[str, Any] = field(default_factory=dict)
    #: Counters a stage wants in run.json for this video (e.g. dropped hallucinations), by stage name.
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    status: VideoState = "ok"
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    timings_seconds: dict[str, float] = field(default_factory=dict)
    #: sha256 of the video file, the root of every stage's checkpoint key.
    content_sha256: str | None = None
    #: Checkpoint key per stage, and the stages whose checkpoint was reused in this run.
    stage_keys: dict[str, str] = field(default_factory=dict)
    cached_stages: list[str] = field(default_factory=list)

    @property
    def video_id(self) -> str:
        return self.source.video_id

    def fail(self, status: VideoState, message: str) -> None:
        self.status = status
        self.error = message


class Stage(ABC):
    """One job over many videos.

    `open` loads anything heavy once for a chunk of videos, `process` handles one video, `close`
    drops what `open` loaded; the executor then returns the memory (GPU cache included) before the next
    stage opens. A stage raises MediaError subclasses for problems with a video; the runner records them
    and moves on to the next video.
    """

    name: ClassVar[str]
    #: The `streams` entry this stage reports in timeline.json, if any (stages.stream_names() collects them).
    stream: ClassVar[str | None] = None
    #: Attributes that `open` fills with loaded models; `close` drops them.
    loaded: ClassVar[tuple[str, ...]] = ()
    #: Dotted config keys whose values change this stage's results (part of its checkpoint key).
    config_sections: ClassVar[tuple[str, ...]] = ()
    #: Stages whose results this one reads; a change there redoes this stage too.
    depends_on: ClassVar[tuple[str, ...]] = ()
    #: Whether results may differ between CPU and GPU (precision), so the device is part of the key.
    uses_device: ClassVar[bool] = False

    def __init__(self, config: Config) -> None:
        self.config = config

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "prepare" in cls.__dict__:
            setattr(cls, "prepare", _once(cls.__dict__["prepare"]))  # noqa: B010 (mypy refuses to assign a method)

    def bind(self, stages: Sequence[Stage]) -> None:
        """See the run's other stages (built together by build_stages); ingest feeds the frame consumers."""

    def frame_sink(self, work: VideoWork, info: VideoInfo, sinks: dict[str, FrameSink]) -> FrameSink | None:
        """The frames this stage needs from the video's shared decode pass (None: none), given the sinks of
        the stages before it in the same pass. A frame stage reads its product in `process`."""
        return None

    def shrink_product(self, work: VideoWork) -> None:
        """Called by ingest once the layout is known: keep only what this stage will read of its frame product."""

    def prepare(self) -> None:
        """Find and verify models; called once before any video work starts, so that a model that
        cannot be had fails the run (ModelError) before anything is decoded or written."""

    def open(self) -> None:
        """Load models; called once before a chunk of videos."""

    @abstractmethod
    def process(self, work: VideoWork) -> None:
        """Read what earlier stages put in `work`, add this stage's results."""

    def close(self) -> None:
        """Drop what `open` loaded (the attributes named in `loaded`), so that nothing keeps it alive once the
        executor collects garbage and empties the CUDA cache."""
        for name in self.loaded:
            setattr(self, name, None)

    def models(self) -> dict[str, dict[str, str]]:
        """{role: {id, sha256}} of the models this stage used, for run.json and timeline.json."""
        return {}

    def fingerprint(self) -> dict[str, Any]:
        """What besides config determines the results: models (id + sha256) and data files. Default: models()."""
        return self.models()

    def cache_valid(self, work: VideoWork) -> bool:
        """Whether a loaded checkpoint's files are still there (e.g. audio.wav); default True."""
        return True

    def info(self) -> dict[str, Any]:
        """Run-level facts worth keeping in run.json (e.g. calibrated thresholds); empty by default."""
        return {}


def _once(prepare: Callable[[Stage], None]) -> Callable[[Stage], None]:
    """`prepare` runs once per stage object: ingest prepares the stages it decodes for (so a Ray actor that
    runs ingest alone knows them), and the runner's later call finds them ready."""

    @functools.wraps(prepare)
    def prepare_once(self: Stage) -> None:
        if self.__dict__.get("_prepared"):
            return
        prepare(self)
        self.__dict__["_prepared"] = True

    return prepare_once
