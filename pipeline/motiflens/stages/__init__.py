"""Stage registry: names map to implementations, imported only when a run uses them."""

from __future__ import annotations

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
    "visual": "motiflens.stages.visual:VisualStage",
    "story": "motiflens.stages.story:StoryStage",
    "align": "motiflens.stages.align:AlignStage",
}

#: Timeline streams that every video reports, whether or not a stage produced them.
CONTRACT_STREAMS = ("visual", "asr", "ocr", "shots")


def stage_names() -> list[str]:
    return list(STAGES)


def build_stages(config: Config) -> list[Stage]:
    stages = []
    for name in STAGES:
        module_name, _, class_name = STAGES[name].partition(":")
        try:
            stage_class = getattr(importlib.import_module(module_name), class_name)
        except ImportError as exc:
            raise ConfigError(f"stage {name!r} cannot be loaded: {exc}") from exc
        stages.append(stage_class(config))
    return stages


__all__ = ["CONTRACT_STREAMS", "STAGES", "Stage", "VideoWork", "build_stages", "stage_names"]
