"""Reading a run folder's JSON back (run.json, timelines) with errors that say which file and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from motiflens.core.atomic import inside
from motiflens.core.errors import InputError


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """The JSON object in `path`; InputError naming `what` when it is missing, unreadable or not an object."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no {what}; is this a MotifLens run folder?") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{path}: cannot read {what}: {error}") from None
    if not isinstance(document, dict):
        raise InputError(f"{path}: {what} is not a JSON object")
    return document


def read_run_json(run_dir: Path) -> dict[str, Any]:
    """run.json of `run_dir`, which must hold a list of videos."""
    run = read_json_object(run_dir / "run.json", "run.json")
    if not isinstance(run.get("videos"), list):
        raise InputError(f"{run_dir / 'run.json'}: not a MotifLens run.json (no 'videos' list)")
    return run


def timeline_path(run_dir: Path, entry: dict[str, Any]) -> Path:
    """Where the timeline of a run.json video entry lies; never outside `run_dir`."""
    relative = entry.get("timeline") or f"videos/{entry.get('video_id')}/timeline.json"
    try:
        return inside(run_dir, str(relative))
    except ValueError as error:
        raise InputError(f"{run_dir / 'run.json'}: {error}") from None


def read_timeline(run_dir: Path, entry: dict[str, Any]) -> dict[str, Any]:
    """The timeline of a run.json video entry."""
    return read_json_object(timeline_path(run_dir, entry), f"timeline.json of {entry.get('video_id')}")
