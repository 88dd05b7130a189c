"""`motiflens merge`: the output folders of shards (Slurm array tasks) combined into one run folder.

Every shard must come from the same config (config hash) and package version; a video may appear in one
shard only. Video folders are hard-linked where the filesystem allows (copied otherwise), run.json lists
every video, and the corpus tables are rebuilt over all of them, equal to those of a single run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from motiflens.core.atomic import inside, write_json
from motiflens.core.errors import InputError
from motiflens.core.runfiles import read_run_json
from motiflens.reports.run_reports import write_run_reports
from motiflens.reports.tables import write_tables


def _link_tree(source: Path, target: Path) -> None:
    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, copy_function=link_or_copy)


def merge_runs(run_dirs: Sequence[Path], out_dir: Path) -> dict[str, Any]:
    """Combine shard folders into `out_dir` (which must not be one of them); returns the merged run.json."""
    if not run_dirs:
        raise InputError("merge needs at least one run folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    resolved_out = out_dir.resolve()
    runs = []
    for folder in run_dirs:
        if folder.resolve() == resolved_out:
            raise InputError(f"merge output {out_dir} is also an input; choose a new folder")
        runs.append((folder, read_run_json(folder)))

    first_folder, first = runs[0]
    for folder, document in runs[1:]:
        for field in ("config_hash", "package_version", "schema_version"):
            if document.get(field) != first.get(field):
                raise InputError(
                    f"{folder} has {field} {document.get(field)!r} but {first_folder} has {first.get(field)!r}: "
                    "shards of one corpus must share config and version"
                )

    videos: list[dict[str, Any]] = []
    origin: dict[str, Path] = {}
    models: dict[str, Any] = {}
    for folder, document in runs:
        if not document.get("completed", False):
            raise InputError(f"{folder} did not finish (run.json says completed: false); rerun that shard first")
        models.update(document.get("models", {}))
        for video in document["videos"]:
            video_id = video["video_id"]
            if video_id in origin:
                raise InputError(f"video {video_id} is in both {origin[video_id]} and {folder}")
            origin[video_id] = folder
            source = folder / "videos" / video_id
            if source.is_dir():
                _link_tree(source, inside(out_dir, "videos", video_id))
            videos.append(video)

    videos.sort(key=lambda video: video["video_id"])
    counts = {status: sum(1 for video in videos if video["status"] == status) for status in ("ok", "failed", "skipped")}
    merged = {
        **{key: value for key, value in first.items() if key not in ("videos", "counts", "timings_seconds")},
        "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "completed": True,
        "merged_from": [str(folder) for folder, _ in runs],
        "shard": None,
        "models": models,
        "counts": counts,
        "timings_seconds": _sum_timings(document for _, document in runs),
        "videos": videos,
    }
    write_json(out_dir / "run.json", merged)
    write_tables(out_dir)
    write_run_reports(out_dir)
    return merged


def _sum_timings(documents: Any) -> dict[str, float]:
    totals: dict[str, float] = {}
    for document in documents:
        for stage, seconds in document.get("timings_seconds", {}).items():
            totals[stage] = round(totals.get(stage, 0.0) + float(seconds), 3)
    return totals
