"""Per-stage checkpoints: what a stage added to a video's work, keyed by everything that determines it.

A stage's key hashes the video's content (sha256), the stage's config sections, its models (id + sha256)
and data files (taxonomy, definitions), the resolved device where it matters, the package version, and
the keys of the stages it reads from. A rerun loads a checkpoint whose key matches instead of working;
changing one stage's config changes its key and the keys of the stages that depend on it, and nothing
else. Checkpoints are JSON (never pickle), written atomically, so a killed run leaves either a whole
checkpoint or none: the video in flight is redone, nothing else.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from motiflens import SCHEMA_VERSION, __version__
from motiflens.core.atomic import sha256_file, write_json
from motiflens.core.config import Config
from motiflens.core.record_json import RECORDS
from motiflens.core.records import VideoSource
from motiflens.stages.base import Stage, VideoWork

CHECKPOINT_VERSION = 1

#: The parts of VideoWork that stages produce (timings and the source are the run's own).
STATE_FIELDS = (
    "info",
    "layout",
    "frame_times",
    "audio",
    "streams",
    "shots",
    "transcript",
    "subtitles",
    "symbols",
    "mentions",
    "events",
    "themes",
    "ingest_report",
    "stats",
    "status",
    "error",
)
#: Fields merged key by key, so two stages can each add their own entry.
MERGED_FIELDS = ("streams", "stats")


def encode(value: Any) -> Any:
    """JSON-safe form of records, tuples and paths; exact for floats (JSON keeps the shortest repr)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # Every Record subclass is registered as core.records is imported (above); anything else is refused.
        name = type(value).__name__
        if RECORDS.get(name) is not type(value):
            raise TypeError(f"{name} is not a checkpointable record")
        return {"__record__": name, **{f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(item) for item in value]}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {str(key): encode(item) for key, item in value.items()}
    if isinstance(value, Path):
        return {"__path__": str(value)}
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        return value.item()
    return value


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "__record__" in value:
        fields = {key: decode(item) for key, item in value.items() if key != "__record__"}
        return RECORDS[value["__record__"]](**fields)
    if "__tuple__" in value:
        return tuple(decode(item) for item in value["__tuple__"])
    if "__path__" in value:
        return Path(value["__path__"])
    return {key: decode(item) for key, item in value.items()}


def snapshot(work: VideoWork) -> dict[str, Any]:
    state = {name: encode(getattr(work, name)) for name in STATE_FIELDS}
    state["warnings"] = list(work.warnings)
    return state


def delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What a stage changed: whole fields, entries of merged fields, and warnings it appended."""
    changed: dict[str, Any] = {"fields": {}, "entries": {}, "warnings": after["warnings"][len(before["warnings"]) :]}
    for name in STATE_FIELDS:
        if before[name] == after[name]:
            continue
        if name in MERGED_FIELDS:
            old, new = before[name], after[name]
            removed = set(old) - set(new)
            if removed:  # a stage never removes another's entry; be exact if one ever does
                changed["fields"][name] = new
                continue
            changed["entries"][name] = {key: new[key] for key in new if old.get(key) != new[key]}
        else:
            changed["fields"][name] = after[name]
    return changed


def apply(work: VideoWork, change: dict[str, Any]) -> None:
    for name, value in change["fields"].items():
        setattr(work, name, decode(value))
    for name, entries in change["entries"].items():
        getattr(work, name).update({key: decode(item) for key, item in entries.items()})
    work.warnings.extend(change["warnings"])


def restore(work: VideoWork, state: dict[str, Any]) -> None:
    for name in STATE_FIELDS:
        setattr(work, name, decode(state[name]))
    work.warnings = list(state["warnings"])


def encode_work(work: VideoWork) -> dict[str, Any]:
    """A whole VideoWork as JSON-safe data, to hand a video from one process (Ray actor) to the next."""
    source = work.source
    return {
        "source": {
            "path": str(source.path),
            "relative_path": source.relative_path,
            "video_id": source.video_id,
            "metadata": dict(source.metadata),
        },
        "workdir": str(work.workdir),
        "state": snapshot(work),
        "content_sha256": work.content_sha256,
        "stage_keys": dict(work.stage_keys),
        "cached_stages": list(work.cached_stages),
        "timings_seconds": dict(work.timings_seconds),
    }


def decode_work(document: dict[str, Any]) -> VideoWork:
    source = document["source"]
    work = VideoWork(
        source=VideoSource(Path(source["path"]), source["relative_path"], source["video_id"], source["metadata"]),
        workdir=Path(document["workdir"]),
    )
    restore(work, document["state"])
    work.content_sha256 = document["content_sha256"]
    work.stage_keys = dict(document["stage_keys"])
    work.cached_stages = list(document["cached_stages"])
    work.timings_seconds = dict(document["timings_seconds"])
    return work


def config_value(config: Config, dotted: str) -> Any:
    node: Any = config.to_dict()
    for part in dotted.split("."):
        node = node[part]
    return node


def stage_key(stage: Stage, config: Config, device: str, content_sha256: str, upstream: dict[str, str]) -> str:
    payload = {
        "checkpoint": CHECKPOINT_VERSION,
        "package": __version__,
        "schema": SCHEMA_VERSION,
        "stage": stage.name,
        "video": content_sha256,
        "config": {section: config_value(config, section) for section in stage.config_sections},
        "fingerprint": stage.fingerprint(),
        "device": device if stage.uses_device else None,
        "upstream": {name: upstream[name] for name in stage.depends_on if name in upstream},
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


class CheckpointStore:
    """`videos/<id>/stages/<stage>.json` beside the video's other outputs."""

    @staticmethod
    def path(work: VideoWork, stage: str) -> Path:
        return work.workdir / "stages" / f"{stage}.json"

    def load(self, work: VideoWork, stage: str, key: str) -> dict[str, Any] | None:
        try:
            document = json.loads(self.path(work, stage).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(document, dict) or document.get("key") != key:
            return None
        change = document.get("delta")
        return change if isinstance(change, dict) else None

    def save(self, work: VideoWork, stage: str, key: str, change: dict[str, Any]) -> None:
        write_json(self.path(work, stage), {"stage": stage, "key": key, "delta": change})

    @staticmethod
    def content_sha256(work: VideoWork) -> str:
        """The video file's sha256, recomputed only when its size or modification time changed."""
        path = work.source.path
        status = path.stat()
        memo = work.workdir / "stages" / "source.json"
        try:
            known = json.loads(memo.read_text(encoding="utf-8"))
            if known["size"] == status.st_size and known["mtime_ns"] == status.st_mtime_ns:
                return str(known["sha256"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        digest = sha256_file(path)
        write_json(
            memo, {"path": os.fspath(path), "size": status.st_size, "mtime_ns": status.st_mtime_ns, "sha256": digest}
        )
        return digest
