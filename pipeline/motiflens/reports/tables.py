"""Corpus tables: every video's timeline.json flattened into Parquet and CSV under `<run>/tables/`.

Columns are declared once in `TABLES` (names, types, descriptions), so the files, the README and the tests agree,
and a column never changes type because one run happened to have no values for it. Rows are sorted by video, then
time, then id, and the CSV bytes depend only on the input: rerunning on the same outputs reproduces the files.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from motiflens.core.atomic import atomic_path, inside
from motiflens.core.record_json import Record, annotation, json_names, json_types
from motiflens.core.records import (
    Mention,
    PlotEvent,
    Segment,
    Shot,
    SymbolOccurrence,
    ThemeScore,
    Transcript,
    VideoInfo,
)
from motiflens.core.runfiles import read_run_json, read_timeline
from motiflens.reports.series import series_rows
from motiflens.stages import stream_names

# Lists inside a cell (event ids, cues, segment ids) are joined with this; ids never contain it.
LIST_SEPARATOR = ","
META_PREFIX = "meta_"
CUES = ("dialogue", "audio", "cut_rate", "visual")
SERIES = ("series_symbols", "series_episodes")
VIDEO_FIELDS = ("duration_seconds", "width", "height", "fps", "rotation", "orientation", "has_audio", "sha256")


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    description: str


def _string(name: str, description: str) -> Column:
    return Column(name, pa.string(), description)


def _float(name: str, description: str) -> Column:
    return Column(name, pa.float64(), description)


def _int(name: str, description: str) -> Column:
    return Column(name, pa.int64(), description)


def _bool(name: str, description: str) -> Column:
    return Column(name, pa.bool_(), description)


_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
}


def _fields(record: type[Record], *names: str) -> tuple[Column, ...]:
    """Columns that are plain fields of a record (all of them when no name is given), named as in its JSON, with
    the field's type and `doc` (core/records.py): such a column is declared once, on the record."""
    entries = json_names(record)
    columns = []
    for name in names or tuple(entries):
        entry = entries[name]
        kinds = json_types(annotation(record, entry))[0] - {"null"}
        if len(kinds) != 1 or entry.spec.doc is None or next(iter(kinds)) not in _ARROW_TYPES:
            raise TypeError(f"{record.__name__}.{entry.attribute} is no table column: a scalar field with a doc")
        columns.append(Column(name, _ARROW_TYPES[next(iter(kinds))], entry.spec.doc))
    return tuple(columns)


VIDEO_ID = _string("video_id", "Video id, the folder name under `videos/`.")

TABLE_DESCRIPTIONS: dict[str, str] = {
    "videos": "one row per input video, whatever its status; failed and skipped videos carry their error. "
    "Manifest metadata follows as `meta_<key>` string columns, sorted by key.",
    "symbols": "one row per symbol occurrence (visual, or dialogue-only when a symbol is named but never shown).",
    "mentions": "one row per dialogue line that names a symbol.",
    "events": "one row per detected plot event.",
    "segments": "one row per transcript segment (speech or on-screen subtitle).",
    "shots": "one row per shot.",
    "themes": "one row per dialogue segment scored on a cultural theme.",
    "series_symbols": "one row per series and symbol: where the symbol appears across the `ok` episodes and how "
    "its role changes (rules in `motiflens.reports.series`). Per-episode lists are comma-separated and aligned "
    "with `episodes`.",
    "series_episodes": "one row per `ok` episode of a series, in episode order: its indices, events and themes.",
}

TABLES: dict[str, tuple[Column, ...]] = {
    "videos": (
        VIDEO_ID,
        _string("path", "Path as given, relative to the input folder or manifest."),
        _string("series", "Series: the manifest's `series`, else the folder of `path`; empty for none."),
        _int("episode", "Episode number within the series (manifest, file name or file order); empty for none."),
        _string("status", "`ok`, `failed` or `skipped`."),
        _string("error", "Why the video failed or was skipped; empty when ok."),
        *_fields(VideoInfo, *VIDEO_FIELDS),
        *_fields(Transcript, "language"),
        *(
            _string(f"stream_{stream}", f"Status of the {stream} stream: `ok`, `skipped` or `failed`.")
            for stream in stream_names()
        ),
        _int("n_shots", "Number of shots."),
        _int("n_segments", "Number of transcript segments."),
        _int("n_mentions", "Number of symbol mentions in the dialogue."),
        _int("n_events", "Number of plot events."),
        _int("n_themes", "Number of theme scores."),
        _int("n_symbol_occurrences", "Number of symbol occurrences."),
        _float(
            "internalization_index",
            "Catalyst share of symbol screen seconds; empty when no symbol was on screen (or the visual stream "
            "did not run).",
        ),
        _float(
            "dialogue_internalization",
            "Catalyst share of the occurrences of named symbols; empty when no symbol is named.",
        ),
        _string("config_hash", "Hash of the resolved config of the run."),
        _string("package_version", "MotifLens version that wrote the results."),
    ),
    "symbols": (
        VIDEO_ID,
        _int("occurrence_index", "Position in the timeline's `symbols` list."),
        *_fields(SymbolOccurrence, "symbol_id", "label", "origin", "role", "narrative_weight"),
        *_fields(SymbolOccurrence, "start_seconds", "end_seconds"),
        _float("duration_seconds", "End minus start."),
        *_fields(SymbolOccurrence, "peak_seconds", "peak_score", "mean_score"),
        _float("w_prominence", "Weight component: screen prominence."),
        _float("w_reference", "Weight component: named in the dialogue."),
        _float("w_event_coupling", "Weight component: overlap with plot events."),
        _float("w_recurrence", "Weight component: recurrence across shots."),
        _int("n_mentions_evidence", "Evidence items of kind `mention` or `episode_mention`."),
        _string("event_ids", "Ids of the events in the evidence, comma-separated."),
        _int("screen_tile", "Screen tile of the peak detection (visual only)."),
        *_fields(SymbolOccurrence, "thumbnail"),
    ),
    "mentions": (VIDEO_ID, *_fields(Mention)),
    "events": (
        VIDEO_ID,
        _string("event_id", "Event id, unique within the video."),
        *_fields(PlotEvent, "type", "start_seconds", "end_seconds", "confidence"),
        _string("cues", "Cues that fired, comma-separated (`dialogue`, `audio`, `cut_rate`, `visual`)."),
        *(_float(f"cue_{cue}", f"Score of the {cue} cue.") for cue in CUES),
        _string("segment_ids", "Transcript segments that triggered it, comma-separated."),
        _string("matched_terms", "Dialogue terms that matched, comma-separated."),
        _string(
            "linked_symbols",
            "Symbols the event's dialogue links it to, as `symbol_id:kind` (same_line, anaphora, semantic), "
            "comma-separated.",
        ),
        *_fields(PlotEvent, "text"),
    ),
    "segments": (
        VIDEO_ID,
        _string("segment_id", "Segment id, unique within the video."),
        *_fields(Segment, "source", "start_seconds", "end_seconds", "text", "text_en", "language"),
        _float("confidence", "Recognition confidence in [0, 1]."),
        _string("linked_ids", "Segments of the other source with the same line, comma-separated."),
        _float("agreement", "Text agreement with the linked segments, in [0, 1]."),
    ),
    "shots": (
        VIDEO_ID,
        _int("shot_index", "Shot number, from 0."),
        *_fields(Shot, "start_seconds", "end_seconds"),
        _float("duration_seconds", "End minus start."),
    ),
    "themes": (VIDEO_ID, *_fields(ThemeScore, "theme", "segment_id", "start_seconds", "end_seconds", "score")),
    "series_symbols": (
        _string("series", "Series name."),
        _string("symbol_id", "Taxonomy id of the symbol."),
        _string("label", "Human-readable name of the symbol."),
        _string(
            "trajectory",
            "`rises`, `stays_decorative`, `stays_referenced`, `falls`, `stays_catalyst` or `episodic`.",
        ),
        _int("first_episode", "First episode where the symbol appears (shown or named)."),
        _int("last_episode", "Last episode where it appears."),
        _int("first_catalyst_episode", "First episode where it is a catalyst; empty when never."),
        _int("episodes_present", "Number of episodes where it appears."),
        _int("n_episodes", "Number of `ok` episodes in the series."),
        _float("episode_share", "Share of the series' episodes where it appears."),
        _int("catalyst_episodes", "Number of episodes where it is a catalyst."),
        _float("screen_seconds", "Seconds on screen over the series."),
        _float("named_seconds", "Seconds of dialogue lines naming it over the series."),
        _string("episodes", "Episodes where it appears, comma-separated."),
        _string("roles", "Its strongest role in each of those episodes (catalyst > referenced > decorative)."),
        _string("screen_seconds_by_episode", "Seconds on screen in each of those episodes."),
        _string("named_seconds_by_episode", "Seconds of lines naming it in each of those episodes."),
    ),
    "series_episodes": (
        _string("series", "Series name."),
        _int("episode", "Episode number."),
        VIDEO_ID,
        _string("path", "Path as given, relative to the input folder or manifest."),
        _float("internalization_index", "Catalyst share of symbol screen seconds; empty when none was on screen."),
        _float("dialogue_internalization", "Catalyst share of the occurrences of named symbols."),
        _int("n_symbols", "Distinct symbols that appear."),
        _int("n_catalyst_symbols", "Distinct symbols that are a catalyst."),
        _int("n_events", "Number of plot events."),
        _string("event_counts", "Plot events by type, as `type:count`, comma-separated."),
        _string("theme_counts", "Segments scored on each theme, as `theme:count`, comma-separated."),
    ),
}

# Deterministic row order: video, then time, then id.
SORT_KEYS: dict[str, tuple[str, ...]] = {
    "videos": ("video_id",),
    "symbols": ("video_id", "start_seconds", "end_seconds", "symbol_id", "occurrence_index"),
    "mentions": ("video_id", "start_seconds", "end_seconds", "symbol_id", "segment_id"),
    "events": ("video_id", "start_seconds", "end_seconds", "event_id"),
    "segments": ("video_id", "start_seconds", "end_seconds", "segment_id"),
    "shots": ("video_id", "start_seconds", "shot_index"),
    "themes": ("video_id", "start_seconds", "end_seconds", "theme", "segment_id"),
    "series_symbols": ("series", "first_episode", "symbol_id"),
    "series_episodes": ("series", "episode", "video_id"),
}

Row = dict[str, Any]


def _coerce(value: Any, kind: pa.DataType) -> Any:
    """The column's type or None: a stray value from an older or hand-edited file becomes a null, not a crash."""
    if value is None:
        return None
    if pa.types.is_boolean(kind):
        return value if isinstance(value, bool) else None
    if isinstance(value, bool):  # bool is an int in Python; never let it pass as a number
        return None
    if pa.types.is_integer(kind):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value if isinstance(value, int) else None
    if pa.types.is_floating(kind):
        return float(value) if isinstance(value, int | float) else None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _joined(values: Any) -> str | None:
    if not isinstance(values, list):
        return None
    return LIST_SEPARATOR.join(str(value) for value in values)


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _duration(item: Mapping[str, Any]) -> float | None:
    start, end = item.get("start_seconds"), item.get("end_seconds")
    if isinstance(start, int | float) and isinstance(end, int | float):
        return round(end - start, 3)
    return None


def _video_row(entry: Mapping[str, Any], document: Mapping[str, Any], run: Mapping[str, Any]) -> Row:
    video, summary = _dict(document.get("video")), _dict(document.get("summary"))
    streams, provenance = _dict(document.get("streams")), _dict(document.get("run"))
    row: Row = {
        "video_id": entry.get("video_id"),
        "path": entry.get("path", video.get("path")),
        "series": _dict(entry.get("metadata")).get("series"),
        "episode": _episode(_dict(entry.get("metadata")).get("episode")),
        "status": entry.get("status"),
        "error": entry.get("error"),
        **{key: video.get(key) for key in VIDEO_FIELDS},
        "language": _dict(document.get("transcript")).get("language"),
        **{f"stream_{stream}": _dict(streams.get(stream)).get("status") for stream in stream_names()},
        "internalization_index": summary.get("internalization_index"),
        "dialogue_internalization": summary.get("dialogue_internalization"),
        # A failed video has no timeline; it still ran under the run's config and version.
        "config_hash": provenance.get("config_hash", run.get("config_hash")),
        "package_version": provenance.get("package_version", run.get("package_version")),
    }
    if document:
        row |= {
            "n_shots": len(_list(document.get("shots"))),
            "n_segments": len(_list(_dict(document.get("transcript")).get("segments"))),
            "n_mentions": len(_list(document.get("mentions"))),
            "n_events": len(_list(document.get("events"))),
            "n_themes": len(_list(document.get("themes"))),
            "n_symbol_occurrences": len(_list(document.get("symbols"))),
        }
    for key, value in _dict(entry.get("metadata")).items():
        row[META_PREFIX + str(key)] = None if value is None else str(value)
    return row


def _episode(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _symbol_rows(document: Mapping[str, Any]) -> Iterable[Row]:
    for index, symbol in enumerate(_list(document.get("symbols"))):
        weights, evidence = _dict(symbol.get("weight_components")), _list(symbol.get("evidence"))
        yield {
            **symbol,
            "occurrence_index": index,
            "duration_seconds": _duration(symbol),
            **{f"w_{key}": weights.get(key) for key in ("prominence", "reference", "event_coupling", "recurrence")},
            "n_mentions_evidence": sum(1 for item in evidence if item.get("kind") in ("mention", "episode_mention")),
            "event_ids": _joined([item["ref"] for item in evidence if item.get("kind") == "event" and "ref" in item]),
            "screen_tile": _dict(symbol.get("screen_region")).get("tile"),
        }


def _event_rows(document: Mapping[str, Any]) -> Iterable[Row]:
    for event in _list(document.get("events")):
        scores = _dict(event.get("cue_scores"))
        yield {
            **event,
            "event_id": event.get("id"),
            "cues": _joined(event.get("cues")),
            **{f"cue_{cue}": scores.get(cue) for cue in CUES},
            "segment_ids": _joined(event.get("segment_ids")),
            "matched_terms": _joined(event.get("matched_terms")),
            "linked_symbols": _joined(
                [f"{_dict(link).get('symbol_id')}:{_dict(link).get('kind')}" for link in _list(event.get("links"))]
            ),
        }


def _segment_rows(document: Mapping[str, Any]) -> Iterable[Row]:
    for segment in _list(_dict(document.get("transcript")).get("segments")):
        yield {**segment, "segment_id": segment.get("id"), "linked_ids": _joined(segment.get("linked_ids"))}


def _shot_rows(document: Mapping[str, Any]) -> Iterable[Row]:
    for shot in _list(document.get("shots")):
        yield {**shot, "shot_index": shot.get("index"), "duration_seconds": _duration(shot)}


ROWS: dict[str, Callable[[Mapping[str, Any]], Iterable[Row]]] = {
    "symbols": _symbol_rows,
    "mentions": lambda document: _list(document.get("mentions")),
    "events": _event_rows,
    "segments": _segment_rows,
    "shots": _shot_rows,
    "themes": lambda document: _list(document.get("themes")),
}


def _sort_key(row: Row, keys: tuple[str, ...]) -> tuple[tuple[bool, Any], ...]:
    # Nulls last; within one column the values share a type after coercion, so they compare.
    return tuple((row.get(key) is None, row.get(key) if row.get(key) is not None else 0) for key in keys)


def _schema(columns: Iterable[Column]) -> pa.Schema:
    return pa.schema(
        [pa.field(column.name, column.type, metadata={"description": column.description}) for column in columns]
    )


def _table(columns: tuple[Column, ...], rows: list[Row], keys: tuple[str, ...]) -> pa.Table:
    coerced = [{column.name: _coerce(row.get(column.name), column.type) for column in columns} for row in rows]
    coerced.sort(key=lambda row: _sort_key(row, keys))
    return pa.Table.from_pylist(coerced, schema=_schema(columns))


def build_tables(run_dir: Path) -> dict[str, pa.Table]:
    """Every table of `TABLES` (videos gaining `meta_<key>` columns) from `run_dir`'s run.json and timelines."""
    run = read_run_json(run_dir)
    rows: dict[str, list[Row]] = {name: [] for name in TABLES}
    for entry in _list(run.get("videos")):
        document = read_timeline(run_dir, entry) if entry.get("status") == "ok" else {}
        rows["videos"].append(_video_row(entry, document, run))
        for name, build in ROWS.items():
            rows[name].extend({**row, "video_id": entry.get("video_id")} for row in build(document))
    meta = sorted({key for row in rows["videos"] for key in row if key.startswith(META_PREFIX)})
    columns = {**TABLES, "videos": (*TABLES["videos"], *(_string(key, "Manifest metadata.") for key in meta))}
    tables = {name: _table(columns[name], rows[name], SORT_KEYS[name]) for name in TABLES if name not in SERIES}
    # The series tables aggregate the typed per-episode tables, so they are built from those, last.
    series = series_rows({name: table.to_pylist() for name, table in tables.items()})
    return tables | {name: _table(TABLES[name], series[name], SORT_KEYS[name]) for name in SERIES}


def write_tables(run_dir: Path, tables: Mapping[str, pa.Table] | None = None) -> list[Path]:
    """`<run_dir>/tables/<name>.parquet` and `.csv` for each table, each replaced atomically."""
    if tables is None:
        tables = build_tables(run_dir)
    folder = run_dir / "tables"
    written = []
    for name, table in tables.items():
        for suffix, write in ((".parquet", pq.write_table), (".csv", pa_csv.write_csv)):
            target = inside(folder, name + suffix)
            with atomic_path(target) as temp:
                write(table, str(temp))
            written.append(target)
    return written


def describe_tables_markdown() -> str:
    """A markdown section per table: its purpose, then its columns' names, types and descriptions."""
    blocks = []
    for name, columns in TABLES.items():
        lines = [f"**`{name}`**: {TABLE_DESCRIPTIONS[name]}", "", "| column | type | description |", "|---|---|---|"]
        lines += [f"| `{column.name}` | {column.type} | {column.description} |" for column in columns]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
