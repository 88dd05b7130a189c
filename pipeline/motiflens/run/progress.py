"""Progress bars for the CLI: one bar per stage, advanced as each video leaves it, and one for whole videos."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from motiflens.stages.base import VideoWork


class RunProgress:
    def __init__(self, total_videos: int, enabled: bool = True, stages: tuple[str, ...] = ()) -> None:
        self.total = total_videos
        self.enabled = enabled
        self.stages = stages
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}
        self._finished: set[str] = set()

    def __enter__(self) -> RunProgress:
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("{task.description:>10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                transient=False,
            )
            self._progress.__enter__()
            self._tasks["videos"] = self._progress.add_task("videos", total=self.total)
            for stage in self.stages:
                self._tasks[stage] = self._progress.add_task(stage, total=self.total)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.__exit__(kind, error, tb)

    def update(self, stage: str, work: VideoWork) -> None:
        if self._progress is None:
            return
        if stage not in self._tasks:
            self._tasks[stage] = self._progress.add_task(stage, total=self.total)
        self._progress.advance(self._tasks[stage])
        # A video is done when it leaves the last stage, or any stage it failed or was skipped in.
        done = work.status != "ok" or (self.stages and stage == self.stages[-1])
        if done and work.video_id not in self._finished:
            self._finished.add(work.video_id)
            self._progress.advance(self._tasks["videos"])
