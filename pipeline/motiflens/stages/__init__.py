"""Stage registry: names map to implementations, imported only when a run uses them."""

from __future__ import annotations

import functools
import importlib

from motiflens.core.config import Config
from motiflens.core.errors import ConfigError
from motiflens.stages.base import Stage, VideoWork

# Order is execution order; heavy dependencies are imported only for stages a run includes.
STAGES: dict[str, str] = {
    "ingest": "motiflens.stages.ingest:IngestStage",
    "shots": "motiflens.stages.shots:ShotsStage",
    "asr": "motiflens.stages.asr:AsrStage",
    "ocr": "motiflens.stages.ocr:OcrStage",
    "reconcile": "motiflens.stages.reconcile:ReconcileStage",
    "visual": "motiflens.stages.visual:VisualStage",
    "story": "motiflens.stages.story:StoryStage",
    "align": "motiflens.stages.align:AlignStage",
}

#: Where reports put the streams they list (what is on screen and said first); a stream not named here follows these,
#: in stage order.
STREAM_ORDER = ("visual", "asr", "ocr", "shots", "story")


def stage_names() -> list[str]:
    return list(STAGES)


def stage_class(name: str) -> type[Stage]:
    module_name, _, class_name = STAGES[name].partition(":")
    try:
        return getattr(importlib.import_module(module_name), class_name)
    except ImportError as exc:
        raise ConfigError(f"stage {name!r} cannot be loaded: {exc}") from exc


def build_stages(config: Config) -> list[Stage]:
    stages = [stage_class(name)(config) for name in STAGES]
    for stage in stages:  # ingest decodes once for every frame stage
        stage.bind(stages)
    return stages


@functools.cache
def stream_names() -> tuple[str, ...]:
    """The timeline streams: the `stream` of every registered stage, in STREAM_ORDER. Every video's timeline
    reports each of them, and the tables and the corpus page have one column or row per stream."""
    streams = [stream for name in STAGES if (stream := stage_class(name).stream) is not None]
    rank = {stream: position for position, stream in enumerate(STREAM_ORDER)}
    return tuple(sorted(streams, key=lambda stream: rank.get(stream, len(rank))))


__all__ = ["STAGES", "STREAM_ORDER", "Stage", "VideoWork", "build_stages", "stage_class", "stage_names", "stream_names"]
