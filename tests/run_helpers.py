"""A synthetic run folder (run.json, timelines, corpus tables) for the query, corpus-page and run-report tests.

Four ok videos and one failed one, with manifest metadata (series, date, a free note) so the corpus page draws
its over-time and by-series charts. Built from report_helpers.make_timeline in well under a second, instead of
running the pipeline. `payload` goes into every text that could come from a video or a manifest.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from motiflens.reports.tables import write_tables
from report_helpers import make_timeline

SKIP_REASON = "no weights for visual model 'clip-vit-b-32' (visual.on_missing_weights=skip)"


def _variant(video_id: str, payload: str, path: str) -> dict[str, Any]:
    document = make_timeline(payload, video_path=path)
    document["video"]["id"] = video_id
    if video_id == "ep-02":
        # Every occurrence drives the plot.
        for symbol in document["symbols"]:
            symbol["role"] = "catalyst"
        document["summary"]["internalization_index"] = 1.0
    elif video_id == "ep-03":
        document["symbols"] = []
        document["summary"]["internalization_index"] = None
    elif video_id == "ep-04":
        document["symbols"] = document["symbols"][:1]
        document["symbols"][0]["role"] = "referenced"
        document["events"] = document["events"][1:]
        document["summary"]["internalization_index"] = 0.0
    return document


# video id → (status, series, date); the last date is deliberately unreadable.
VIDEOS: dict[str, tuple[str, str, str]] = {
    "ep-01": ("ok", "Jade Saga", "2024-01-05"),
    "ep-02": ("ok", "Jade Saga", "2024-02-10"),
    "ep-03": ("ok", "Thai Romance", "2024-03-01"),
    "ep-04": ("ok", "Thai Romance", "sometime in spring"),
    "bad-05": ("failed", "Thai Romance", "2024-04-01"),
}


def make_run(run_dir: Path, payload: str = "", video_file: Path | None = None) -> dict[str, Any]:
    """Write the run into `run_dir` and return its run.json; every ok video points at `video_file`."""
    suffix = f" {payload}" if payload else ""
    entries = []
    for video_id, (status, series, date) in VIDEOS.items():
        path = f"{video_id}{suffix}.mp4"
        entry: dict[str, Any] = {
            "video_id": video_id,
            "path": path,
            "file": str(video_file if video_file is not None else run_dir.parent / "inputs" / path),
            "status": status,
            "metadata": {"series": series + suffix, "date": date, "note": f"note{suffix}"},
        }
        if status == "ok":
            document = _variant(video_id, payload, path)
            timeline = run_dir / "videos" / video_id / "timeline.json"
            timeline.parent.mkdir(parents=True, exist_ok=True)
            timeline.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
            entry["timeline"] = f"videos/{video_id}/timeline.json"
            entry["streams"] = {
                "asr": {"status": "ok"},
                "visual": {"status": "skipped", "reason": SKIP_REASON + suffix},
            }
        else:
            entry["error"] = f"cannot open {path}: moov atom not found"
        entries.append(entry)
    run = {
        "schema_version": "1",
        "package_version": "0.1.0",
        "config_hash": "cbab9b5f34998632",
        "started_at": "2026-01-01T00:00:00+00:00",
        "counts": {"ok": 4, "failed": 1, "skipped": 0},
        "videos": entries,
    }
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "run.json").write_text(json.dumps(run, ensure_ascii=False, indent=2), encoding="utf-8")
    write_tables(run_dir)
    return run


def timelines(run_dir: Path) -> dict[str, dict[str, Any]]:
    """The ok videos' timelines as written, by video id."""
    run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    return {
        entry["video_id"]: json.loads((run_dir / entry["timeline"]).read_text(encoding="utf-8"))
        for entry in run["videos"]
        if entry["status"] == "ok"
    }


#: The files a reader of a run uses (run.json holds timings, placements and paths, so it differs by design).
READER_FILES = ("timeline.json", "symbols.vtt", "transcript.vtt", "transcript.srt", ".csv")


def run_json(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "run.json").read_text(encoding="utf-8"))


def outputs(run_dir: Path) -> dict[str, bytes]:
    """Every file a reader uses, by relative path: two runs that should agree compare equal here."""
    return {
        path.relative_to(run_dir).as_posix(): path.read_bytes()
        for path in sorted(run_dir.rglob("*"))
        if path.is_file() and path.name.endswith(READER_FILES)
    }
