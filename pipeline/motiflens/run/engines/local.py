"""The local engine: each stage over a whole chunk of `run.chunk_videos` videos in this process, one model in
memory at a time; a chunk's videos are handed back when its last stage is done."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from motiflens.run.executor import StageExecutor

if TYPE_CHECKING:
    from motiflens.run.runner import Runner
    from motiflens.stages.base import VideoWork


class LocalEngine:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def run(self, runner: Runner, works: Sequence[VideoWork]) -> Iterator[VideoWork]:
        size = runner.config.run.chunk_videos
        for offset in range(0, len(works), size):
            chunk = works[offset : offset + size]
            for stage in runner.stages:
                executor = StageExecutor(
                    stage,
                    runner.config,
                    runner.device,
                    forced=stage.name in runner.forced,
                    fail_fast=runner.fail_fast,
                    progress=runner.progress,
                )
                self.seconds[stage.name] = self.seconds.get(stage.name, 0.0) + executor.run(chunk)
            yield from chunk

    def timings(self) -> dict[str, float]:
        return dict(self.seconds)

    def placement(self, work: VideoWork) -> dict[str, Any]:
        return {}

    def stage_info(self, runner: Runner) -> dict[str, Any]:
        info = {stage.name: stage.info() for stage in runner.stages if stage.info()}
        return {"stage_info": info} if info else {}

    def shutdown(self) -> None:
        """Nothing outlives a chunk here."""
