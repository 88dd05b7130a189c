"""The local engine: chunks of videos, each stage over a whole chunk, results written as they finish."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import SCHEMA_VERSION, __version__
from .atomic import inside, sweep_partials, write_json
from .checkpoint import CheckpointStore, apply, delta, restore, snapshot, stage_key
from .config import Config
from .environment import describe_platform, git_commit, package_versions, resolve_device, seed_everything
from .errors import ConfigError, MediaError, MotifLensError
from .log import get_logger
from .records import VideoSource
from .stages import Stage, VideoWork, build_stages
from .story.tracks import write_symbols_vtt
from .tables import write_tables
from .timeline import build_timeline, validate_timeline

log = get_logger("runner")

ProgressCallback = Callable[[str, VideoWork], None]


def forced_stages(stages: Sequence[Stage], names: Sequence[str]) -> set[str]:
    """The stages named by --force (or every stage for "all"), and every stage that depends on them."""
    known = [stage.name for stage in stages]
    unknown = sorted(set(names) - {*known, "all"})
    if unknown:
        raise ConfigError(f"--force {', '.join(unknown)}: unknown stage (stages: {', '.join(known)}, or all)")
    forced = set(known) if "all" in names else set(names)
    for stage in stages:  # registry order is execution order, so one pass reaches every dependent
        if forced & set(stage.depends_on):
            forced.add(stage.name)
    return forced


class FailFast(MotifLensError):
    """Raised with --fail-fast when a video fails; the run stops after recording it."""


@dataclass
class RunReport:
    out_dir: Path
    videos: list[dict[str, Any]] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for video in self.videos if video["status"] == status)

    @property
    def failed(self) -> int:
        return self.count("failed")


class Runner:
    def __init__(
        self,
        config: Config,
        out_dir: Path,
        *,
        config_path: Path | None = None,
        fail_fast: bool = False,
        progress: ProgressCallback | None = None,
        force: Sequence[str] = (),
        shard: tuple[int, int] | None = None,
    ) -> None:
        self.config = config
        self.out_dir = out_dir
        self.config_path = config_path
        self.fail_fast = fail_fast or config.run.fail_fast
        self.progress = progress
        self.stages: list[Stage] = build_stages(config)
        self.forced = forced_stages(self.stages, force)
        self.store = CheckpointStore()
        self.device = "cpu"
        self.shard = shard

    def run(self, sources: Sequence[VideoSource], inputs: Sequence[Path] = ()) -> RunReport:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        seed_everything(self.config.seed)
        device = self.device = resolve_device(self.config.device)
        for stage in self.stages:
            stage.prepare()
        started = datetime.now(UTC).isoformat(timespec="seconds")
        report = RunReport(out_dir=self.out_dir)
        stage_seconds = {stage.name: 0.0 for stage in self.stages}
        header = {
            "schema_version": SCHEMA_VERSION,
            "package_version": __version__,
            "git": git_commit(Path(__file__).parent),
            "started_at": started,
            "environment": {**describe_platform(), "packages": package_versions()},
            "device": device,
            "seed": self.config.seed,
            "config_path": str(self.config_path) if self.config_path else None,
            "config_hash": self.config.hash(),
            "config": self.config.to_dict(),
            "inputs": [str(path) for path in inputs],
            "stages": [stage.name for stage in self.stages],
            "shard": {"index": self.shard[0], "count": self.shard[1]} if self.shard else None,
            "forced": sorted(self.forced),
        }
        models: dict[str, dict[str, str]] = {}
        chunk_size = self.config.run.chunk_videos
        completed = False
        try:
            for offset in range(0, len(sources), chunk_size):
                works = [self._new_work(source) for source in sources[offset : offset + chunk_size]]
                for stage in self.stages:
                    stage_seconds[stage.name] += self._run_stage(stage, works)
                    models.update(stage.models())
                    if stage.info():
                        header.setdefault("stage_info", {})[stage.name] = stage.info()
                for work in works:
                    report.videos.append(self._finish(work, models))
                self._write_run_json(header, models, report, stage_seconds, completed=False)
            completed = True
        finally:
            self._write_run_json(header, models, report, stage_seconds, completed=completed)
        write_tables(self.out_dir)
        return report

    def _new_work(self, source: VideoSource) -> VideoWork:
        workdir = inside(self.out_dir, "videos", source.video_id)
        if sweep_partials(workdir):
            log.info("%s: removed temp files of an interrupted run", source.video_id)
        return VideoWork(source=source, workdir=workdir)

    def _run_stage(self, stage: Stage, works: list[VideoWork]) -> float:
        began = time.perf_counter()
        todo = [work for work in works if work.status == "ok" and not self._reuse(stage, work)]
        if not todo:
            return time.perf_counter() - began
        stage.open()  # only when some video needs the stage: a finished run loads no model
        try:
            for work in todo:
                self._process(stage, work)
        finally:
            stage.close()
        return time.perf_counter() - began

    def _key(self, stage: Stage, work: VideoWork) -> str:
        if work.content_sha256 is None:
            work.content_sha256 = self.store.content_sha256(work)
        key = stage_key(stage, self.config, self.device, work.content_sha256, work.stage_keys)
        work.stage_keys[stage.name] = key
        return key

    def _reuse(self, stage: Stage, work: VideoWork) -> bool:
        """Load the stage's checkpoint for this video if its key matches and its files are still there."""
        work.workdir.mkdir(parents=True, exist_ok=True)
        try:
            key = self._key(stage, work)
        except OSError as exc:  # unreadable file: let the stage report it as the video's failure
            log.debug("%s: no content hash: %s", work.video_id, exc)
            return False
        change = None if stage.name in self.forced else self.store.load(work, stage.name, key)
        if change is None:
            return False
        before = snapshot(work)
        apply(work, change)
        if not stage.cache_valid(work):
            restore(work, before)
            return False
        work.cached_stages.append(stage.name)
        work.timings_seconds[stage.name] = 0.0
        if self.progress is not None:
            self.progress(stage.name, work)
        return True

    def _process(self, stage: Stage, work: VideoWork) -> None:
        work.workdir.mkdir(parents=True, exist_ok=True)
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
            raise FailFast(f"--fail-fast: {work.source.relative_path} failed: {work.error}")

    def _finish(self, work: VideoWork, models: dict[str, dict[str, str]]) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "video_id": work.video_id,
            "path": work.source.relative_path,
            "file": str(work.source.path),
            "status": work.status,
        }
        if work.status == "ok":
            document = build_timeline(work, self.config.hash(), __version__, models)
            validate_timeline(document)
            timeline_path = work.workdir / "timeline.json"
            write_json(timeline_path, document)
            write_symbols_vtt(document, work.workdir)
            entry["timeline"] = timeline_path.relative_to(self.out_dir.resolve()).as_posix()
            entry["streams"] = document["streams"]
        if work.error:
            entry["error"] = work.error
        if work.warnings:
            entry["warnings"] = list(work.warnings)
        if work.stats:
            entry["stats"] = work.stats
        if work.source.metadata:
            entry["metadata"] = dict(work.source.metadata)
        entry["timings_seconds"] = work.timings_seconds
        if work.cached_stages:
            entry["cached_stages"] = list(work.cached_stages)
        return entry

    def _write_run_json(
        self,
        header: dict[str, Any],
        models: dict[str, dict[str, str]],
        report: RunReport,
        stage_seconds: dict[str, float],
        completed: bool,
    ) -> None:
        """Rewritten after every chunk, so a killed run still leaves a consistent record."""
        document = {
            **header,
            "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "completed": completed,
            "models": models,
            "counts": {status: report.count(status) for status in ("ok", "failed", "skipped")},
            "timings_seconds": {name: round(seconds, 3) for name, seconds in stage_seconds.items()},
            "videos": report.videos,
        }
        write_json(self.out_dir / "run.json", document)
