"""A run: every stage over every video through the configured engine (run/engines), each video recorded in
run.json and given its timeline as soon as it is finished."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from motiflens import SCHEMA_VERSION, __version__
from motiflens.core.atomic import inside, sweep_partials, write_json
from motiflens.core.config import Config
from motiflens.core.environment import describe_platform, git_commit, package_versions, resolve_device, seed_everything
from motiflens.core.errors import ConfigError
from motiflens.core.log import get_logger
from motiflens.core.records import VideoSource
from motiflens.reports.run_reports import write_run_reports
from motiflens.reports.tables import write_tables
from motiflens.run.engines import load_engine
from motiflens.run.executor import FailFast, ProgressCallback
from motiflens.run.timeline import build_timeline, validate_timeline
from motiflens.stages import Stage, VideoWork, build_stages
from motiflens.story.tracks import write_symbols_vtt

log = get_logger("runner")

__all__ = ["FailFast", "RunReport", "Runner", "forced_stages"]


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
        self.device = "cpu"
        self.shard = shard
        self.engine_name = config.engine.name
        self.engine = load_engine(self.engine_name)

    def run(self, sources: Sequence[VideoSource], inputs: Sequence[Path] = ()) -> RunReport:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        seed_everything(self.config.seed)
        device = self.device = resolve_device(self.config.device)
        for stage in self.stages:
            stage.prepare()
        started = datetime.now(UTC).isoformat(timespec="seconds")
        report = RunReport(out_dir=self.out_dir)
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
            "engine": self.engine_name,
        }
        models: dict[str, dict[str, str]] = {}
        works = [self._new_work(source) for source in sources]
        # Engines hand videos back as they finish (Ray: in any order); run.json lists them in input order.
        rank = {work.video_id: position for position, work in enumerate(works)}
        completed = False
        try:
            for count, work in enumerate(self.engine.run(self, works), 1):
                for stage in self.stages:
                    models.update(stage.models())
                header.update(self.engine.stage_info(self))
                entry = {**self._finish(work, models), **self.engine.placement(work)}
                bisect.insort(report.videos, entry, key=lambda video: rank[video["video_id"]])
                if count % self.config.run.chunk_videos == 0:
                    self._write_run_json(header, models, report, completed=False)
            completed = True
        finally:
            self._write_run_json(header, models, report, completed=completed)
            self.engine.shutdown()
        write_tables(self.out_dir)
        write_run_reports(self.out_dir)
        return report

    def _new_work(self, source: VideoSource) -> VideoWork:
        workdir = inside(self.out_dir, "videos", source.video_id)
        if sweep_partials(workdir):
            log.info("%s: removed temp files of an interrupted run", source.video_id)
        return VideoWork(source=source, workdir=workdir)

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
        completed: bool,
    ) -> None:
        """Rewritten after every `run.chunk_videos` finished videos, so a killed run still leaves a consistent
        record."""
        stage_seconds = {stage.name: 0.0 for stage in self.stages} | self.engine.timings()
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
