"""Assemble `timeline.json` from a finished VideoWork and check it against the committed schema."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from motiflens import SCHEMA_VERSION
from motiflens.core.errors import SchemaError
from motiflens.core.records import StreamStatus
from motiflens.stages import stream_names
from motiflens.stages.base import VideoWork
from motiflens.story.align import summarize


@cache
def timeline_schema() -> dict[str, Any]:
    text = resources.files("motiflens").joinpath("schemas/timeline.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def validate_timeline(document: dict[str, Any]) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(timeline_schema())
    errors = sorted(validator.iter_errors(document), key=lambda error: list(error.absolute_path))
    if errors:
        lines = [
            f"  {'/'.join(str(part) for part in error.absolute_path) or '(root)'}: {error.message}"
            for error in errors[:10]
        ]
        raise SchemaError("timeline.json does not match schema version 1:\n" + "\n".join(lines))


def build_timeline(
    work: VideoWork, config_hash: str, package_version: str, models: dict[str, dict[str, str]]
) -> dict[str, Any]:
    if work.info is None:
        raise ValueError(f"{work.video_id}: no probe result, no timeline")
    streams = {
        name: StreamStatus("skipped", "no stage for this stream in this version of MotifLens")
        for name in stream_names()
    }
    streams.update(work.streams)
    transcript = work.transcript.to_json() if work.transcript is not None else {"language": None, "segments": []}
    return {
        "schema_version": SCHEMA_VERSION,
        "video": work.info.to_json(),
        "run": {"config_hash": config_hash, "package_version": package_version, "models": models},
        "streams": {name: streams[name].to_json() for name in sorted(streams)},
        "ingest": work.ingest_report,
        "shots": [shot.to_json() for shot in work.shots],
        "transcript": transcript,
        "mentions": [mention.to_json() for mention in work.mentions],
        "events": [event.to_json() for event in work.events],
        "themes": [theme.to_json() for theme in work.themes],
        "symbols": [occurrence.to_json() for occurrence in work.symbols],
        "summary": summarize(work.symbols, work.events, work.themes),
    }
