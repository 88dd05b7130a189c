"""One stage over many videos, with checkpoints: reuse a matching checkpoint, else process and save one.

Both engines use it: the local engine over a chunk of videos in this process, the Ray engine inside one
actor per stage. A model loads only when some video actually needs the stage.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence

from motiflens.core.config import Config
from motiflens.core.environment import release_memory
from motiflens.core.errors import MediaError, MotifLensError
from motiflens.core.log import get_logger
from motiflens.run.checkpoint import CheckpointStore, apply, delta, restore, snapshot, stage_key
from motiflens.stages.base import Stage, VideoWork

log = get_logger("runner")

ProgressCallback = Callable[[str, VideoWork], None]


class FailFast(MotifLensError):
    """Raised with --fail-fast when a video fails; the run stops after recording it."""


def fail_fast_error(work: VideoWork) -> FailFast:
    """The error that stops a --fail-fast run at `work`, the same whichever engine ran it."""
    return FailFast(f"--fail-fast: {work.source.relative_path} failed: {work.error}")


class StageExecutor:
    def __init__(
        self,
        stage: Stage,
        config: Config,
        device: str,
        *,
        forced: bool = False,
        fail_fast: bool = False,
        progress: ProgressCallback | None = None,
        keep_open: bool = False,
    ) -> None:
        self.stage = stage
        self.config = config
        self.device = device
        self.forced = forced
        self.fail_fast = fail_fast
        self.progress = progress
        #: Ray actors keep their model between batches; the local engine frees it after each chunk.
        self.keep_open = keep_open
        self.opened = False
        self.store = CheckpointStore()

    def run(self, works: Sequence[VideoWork]) -> float:
        """Seconds spent; failed videos are skipped, cached ones loaded, the rest processed."""
        began = time.perf_counter()
        todo = [work for work in works if work.status == "ok" and not self.reuse(work)]
        if todo:
            if not self.opened:
                self.stage.open()
                self.opened = True
            try:
                for work in todo:
                    self.process(work)
            finally:
                if not self.keep_open:
                    self.close()
        return time.perf_counter() - began

    def close(self) -> None:
        """Free the stage's models, the same way for every stage: the stage drops what `open` loaded, then the
        memory goes back (garbage collected, CUDA cache emptied when torch is loaded) before the next stage opens."""
        if self.opened:
            self.opened = False
            try:
                self.stage.close()
            finally:
                release_memory()

    def key(self, work: VideoWork) -> str:
        if work.content_sha256 is None:
            work.content_sha256 = self.store.content_sha256(work)
        key = stage_key(self.stage, self.config, self.device, work.content_sha256, work.stage_keys)
        work.stage_keys[self.stage.name] = key
        return key

    def reuse(self, work: VideoWork) -> bool:
        """Load this stage's checkpoint for the video if its key matches and its files are still there."""
        work.workdir.mkdir(parents=True, exist_ok=True)
        try:
            key = self.key(work)
        except OSError as exc:  # unreadable file: the stage itself reports it as the video's failure
            log.debug("%s: no content hash: %s", work.video_id, exc)
            return False
        change = None if self.forced else self.store.load(work, self.stage.name, key)
        if change is None:
            return False
        before = snapshot(work)
        apply(work, change)
        if not self.stage.cache_valid(work):
            restore(work, before)
            return False
        work.cached_stages.append(self.stage.name)
        work.timings_seconds[self.stage.name] = 0.0
        if self.progress is not None:
            self.progress(self.stage.name, work)
        return True

    def process(self, work: VideoWork) -> None:
        stage = self.stage
        began = time.perf_counter()
        before = snapshot(work)
        try:
            stage.process(work)
        except MediaError as exc:
            work.fail(exc.status, str(exc))  # type: ignore[arg-type]
        except MotifLensError:
            raise
        except Exception as exc:  # a bug or an unforeseen input: record it, keep the batch going
            log.debug("%s failed in %s:\n%s", work.video_id, stage.name, traceback.format_exc())
            work.fail("failed", f"{stage.name}: {type(exc).__name__}: {exc}")
        finally:
            work.timings_seconds[stage.name] = round(time.perf_counter() - began, 3)
        if stage.name in work.stage_keys:
            self.store.save(work, stage.name, work.stage_keys[stage.name], delta(before, snapshot(work)))
        if work.status != "ok":
            log.warning("%s %s: %s", work.source.relative_path, work.status, work.error)
        if self.progress is not None:
            self.progress(stage.name, work)
        if work.status == "failed" and self.fail_fast:
            raise fail_fast_error(work)
