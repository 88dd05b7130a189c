"""`motiflens merge`: the output folders of shards (Slurm array tasks) combined into one run folder.

Every shard must come from the same config (config hash) and package version; a video may appear in one
shard only. Shards record their place in run.json (`"shard": {"index": I, "count": N}`): the folders must be
shards 0..N-1 of one N, each once, else the merge is refused; `allow_partial` accepts a set with shards missing
(never a mixed N or a shard twice) and marks the merged run partial. Video folders are hard-linked where the
filesystem allows (copied otherwise), run.json lists every video, and the corpus tables are rebuilt over all of
them, equal to those of a single run. The merged run.json names its shards relative to the output folder.
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


def check_shard_set(
    runs: Sequence[tuple[Path, dict[str, Any]]], *, allow_partial: bool = False
) -> dict[str, Any] | None:
    """The shard set the runs form ({count, indices, missing}), None for plain runs; InputError if inconsistent."""
    shards: list[tuple[Path, dict[str, Any]]] = [(folder, doc["shard"]) for folder, doc in runs if doc.get("shard")]
    plain = [folder for folder, document in runs if not document.get("shard")]
    if len(plain) == len(runs):
        return None
    if plain:
        raise InputError(f"{plain[0]} is not a shard (its run.json has no shard) but other folders are: "
                         "merge shards of one sharded run only")
    counts = sorted({int(shard["count"]) for _, shard in shards})
    if len(counts) > 1:
        raise InputError(f"the folders are shards of different splits (N = {', '.join(map(str, counts))}): "
                         "merge the shards of one --shard I/N run only")
    count = counts[0]
    seen: dict[int, Path] = {}
    for folder, shard in shards:
        index = int(shard["index"])
        if index in seen:
            raise InputError(f"shard {index}/{count} is given twice: {seen[index]} and {folder}")
        seen[index] = folder
    missing = [index for index in range(count) if index not in seen]
    if missing and not allow_partial:
        names = ", ".join(f"{index}/{count}" for index in missing)
        raise InputError(f"incomplete shard set: shard {names} missing ({len(seen)} of {count} given); "
                         "rerun or add the missing shards, or pass --allow-partial to merge a partial corpus")
    return {"count": count, "indices": sorted(seen), "missing": missing}


def merge_runs(run_dirs: Sequence[Path], out_dir: Path, *, allow_partial: bool = False) -> dict[str, Any]:
    """Combine shard folders into `out_dir` (which must not be one of them); returns the merged run.json.

    Refuses an incomplete shard set unless `allow_partial` (see check_shard_set).
    """
    if not run_dirs:
        raise InputError("merge needs at least one run folder")
    resolved_out = out_dir.resolve()
    runs = []
    for folder in run_dirs:
        if folder.resolve() == resolved_out:
            raise InputError(f"merge output {out_dir} is also an input; choose a new folder")
        runs.append((folder, read_run_json(folder)))

    # Every check comes before the first write, so a refused merge leaves no half-made output folder.
    first_folder, first = runs[0]
    for folder, document in runs:
        if not document.get("completed", False):
            raise InputError(f"{folder} did not finish (run.json says completed: false); rerun that shard first")
        for field in ("config_hash", "package_version", "schema_version"):
            if document.get(field) != first.get(field):
                raise InputError(
                    f"{folder} has {field} {document.get(field)!r} but {first_folder} has {first.get(field)!r}: "
                    "shards of one corpus must share config and version"
                )
    shard_set = check_shard_set(runs, allow_partial=allow_partial)
    origin: dict[str, Path] = {}
    for folder, document in runs:
        for video in document["videos"]:
            video_id = video["video_id"]
            if video_id in origin:
                raise InputError(f"video {video_id} is in both {origin[video_id]} and {folder}")
            origin[video_id] = folder

    out_dir.mkdir(parents=True, exist_ok=True)
    videos: list[dict[str, Any]] = []
    models: dict[str, Any] = {}
    for folder, document in runs:
        models.update(document.get("models", {}))
        for video in document["videos"]:
            source = folder / "videos" / video["video_id"]
            if source.is_dir():
                _link_tree(source, inside(out_dir, "videos", video["video_id"]))
            videos.append(video)

    videos.sort(key=lambda video: video["video_id"])
    counts = {status: sum(1 for video in videos if video["status"] == status) for status in ("ok", "failed", "skipped")}
    merged = {
        **{key: value for key, value in first.items() if key not in ("videos", "counts", "timings_seconds")},
        "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "completed": True,
        "merged_from": [Path(os.path.relpath(folder.resolve(), resolved_out)).as_posix() for folder, _ in runs],
        "shard": None,
        "shards": shard_set,
        "partial": bool(shard_set and shard_set["missing"]),
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
