"""The local engine: each stage over the whole chunk in this process, one model in memory at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from motiflens.run.executor import StageExecutor

if TYPE_CHECKING:
    from motiflens.run.runner import Runner
    from motiflens.stages.base import VideoWork


class LocalEngine:
    def run_chunk(self, runner: Runner, works: list[VideoWork]) -> dict[str, float]:
        seconds = {}
        for stage in runner.stages:
            executor = StageExecutor(
                stage,
                runner.config,
                runner.device,
                forced=stage.name in runner.forced,
                fail_fast=runner.fail_fast,
                progress=runner.progress,
            )
            seconds[stage.name] = executor.run(works)
        return seconds

    def stage_info(self, runner: Runner) -> dict[str, Any]:
        info = {stage.name: stage.info() for stage in runner.stages if stage.info()}
        return {"stage_info": info} if info else {}

    def shutdown(self) -> None:
        """Nothing outlives a chunk here."""
