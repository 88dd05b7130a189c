"""The stage contract and the per-video work record that stages read and fill."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from motiflens.core.config import Config
from motiflens.core.records import (
    AudioTrack,
    FrameLayout,
    Mention,
    PlotEvent,
    Shot,
    StreamStatus,
    SymbolOccurrence,
    ThemeScore,
    Transcript,
    VideoInfo,
    VideoSource,
    VideoState,
)


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
    frees memory (GPU included) before the next stage opens. A stage raises MediaError subclasses for
    problems with a video; the runner records them and moves on to the next video.
    """

    name: ClassVar[str]
    #: The `streams` entry this stage reports in timeline.json, if any.
    stream: ClassVar[str | None] = None
    #: Dotted config keys whose values change this stage's results (part of its checkpoint key).
    config_sections: ClassVar[tuple[str, ...]] = ()
    #: Stages whose results this one reads; a change there redoes this stage too.
    depends_on: ClassVar[tuple[str, ...]] = ()
    #: Whether results may differ between CPU and GPU (precision), so the device is part of the key.
    uses_device: ClassVar[bool] = False

    def __init__(self, config: Config) -> None:
        self.config = config

    def prepare(self) -> None:
        """Find and verify models; called once before any video work starts, so that a model that
        cannot be had fails the run (ModelError) before anything is decoded or written."""

    def open(self) -> None:
        """Load models; called once before a chunk of videos."""

    @abstractmethod
    def process(self, work: VideoWork) -> None:
        """Read what earlier stages put in `work`, add this stage's results."""

    def close(self) -> None:
        """Free what `open` loaded."""

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
