"""What a whole run found, as plain JSON values: the numbers behind every chart and table of the corpus page.

Read from the run's corpus tables (Parquet) and run.json: symbol frequency and time, the role mix per symbol
(decorative / referenced / catalyst), the internalization index per video (and over time and by series when the
manifest gave `date` / `series`), plot-event counts, symbol x event-type co-occurrence, identity themes, every
video with the link to its own page, and the status of each stream.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from motiflens.core.atomic import inside
from motiflens.core.errors import InputError
from motiflens.reports.series import series_page_name, series_videos
from motiflens.reports.web import PAGE_NAME, ROLES
from motiflens.stages import stream_names

TABLE_NAMES = ("videos", "symbols", "mentions", "events", "segments", "shots", "themes")
META_PREFIX = "meta_"



def read_tables(run_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Rows of every corpus table of the run (Parquet); InputError when the run has no tables."""
    import pyarrow.parquet as pq

    folder = run_dir / "tables"
    if not (folder / "videos.parquet").is_file():
        raise InputError(
            f"{run_dir}: no corpus tables in {folder} (videos.parquet is missing); run `motiflens run` first"
        )
    tables = {}
    for name in TABLE_NAMES:
        path = folder / f"{name}.parquet"
        try:
            tables[name] = pq.read_table(path).to_pylist() if path.is_file() else []
        except (OSError, ValueError) as error:
            raise InputError(f"{path}: cannot read the table: {error}") from None
    return tables


def _read_run(run_dir: Path) -> dict[str, Any]:
    """run.json when it is there and readable (stream reasons, counts); the page works from the tables alone."""
    try:
        document = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return document if isinstance(document, dict) else {}


def finite(value: Any) -> float | None:
    """`value` as a float when it is a finite number (not a bool); None otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _round(value: float, digits: int = 3) -> float:
    return round(value + 0.0, digits)


def parse_date(text: Any) -> dt.date | None:
    """A manifest date: YYYY-MM-DD (or with / or .), an ISO date-time, YYYY-MM or YYYY; None when unclear."""
    if not isinstance(text, str) or not text.strip():
        return None
    value = text.strip().replace("/", "-").replace(".", "-")
    for candidate, fill in ((value[:10], ""), (value[:7], "-01"), (value[:4], "-01-01")):
        try:
            parsed = dt.date.fromisoformat(candidate + fill)
        except ValueError:
            continue
        # Accept a prefix only when the rest is a time (2024-05-01T10:00) or nothing; "2024-05-01x" is unclear.
        rest = value[len(candidate):]
        if rest == "" or (len(candidate) == 10 and rest[:1] in ("T", " ")):
            return parsed
    return None


# ----------------------------------------------------------------------------------------------- numbers


def corpus_data(run_dir: Path) -> dict[str, Any]:
    """Everything the page shows, as plain JSON values (also the page's JSON island)."""
    tables = read_tables(run_dir)
    run = _read_run(run_dir)
    videos = sorted(tables["videos"], key=lambda row: str(row.get("video_id")))
    meta_keys = sorted({key for row in videos for key in row if key.startswith(META_PREFIX)})

    entries = {str(entry.get("video_id")): entry for entry in run.get("videos") or [] if isinstance(entry, Mapping)}
    video_rows = []
    for row in videos:
        video_id = str(row.get("video_id"))
        page = Path("videos") / video_id / PAGE_NAME
        try:
            has_page = row.get("status") == "ok" and inside(run_dir, str(page)).is_file()
        except ValueError:
            has_page = False
        video_rows.append(
            {
                "video_id": video_id,
                "path": row.get("path"),
                "status": row.get("status"),
                "error": row.get("error"),
                "duration_seconds": row.get("duration_seconds"),
                "language": row.get("language"),
                "n_symbol_occurrences": row.get("n_symbol_occurrences"),
                "n_mentions": row.get("n_mentions"),
                "n_events": row.get("n_events"),
                "internalization_index": finite(row.get("internalization_index")),
                "dialogue_internalization": finite(row.get("dialogue_internalization")),
                "meta": {key[len(META_PREFIX):]: row.get(key) for key in meta_keys},
                "href": "/".join(quote(part) for part in page.parts) if has_page else None,
            }
        )

    return {
        "run": {
            "config_hash": run.get("config_hash") or _first(videos, "config_hash"),
            "package_version": run.get("package_version") or _first(videos, "package_version"),
            "counts": dict(sorted(Counter(str(row.get("status")) for row in videos).items())),
            "videos": len(videos),
        },
        "meta_keys": [key[len(META_PREFIX):] for key in meta_keys],
        "videos": video_rows,
        "symbols": _symbol_stats(tables["symbols"]),
        "event_counts": _counts(tables["events"], "type"),
        "theme_counts": _counts(tables["themes"], "theme"),
        "cooccurrence": _cooccurrence(tables["symbols"], tables["events"]),
        "streams": _streams(videos, entries),
        "over_time": _over_time(video_rows),
        "by_series": _by_series(video_rows),
        "series_pages": [
            {"series": name, "episodes": len(rows), "href": quote(series_page_name(name))}
            for name, rows in series_videos(videos).items()
        ],
    }


def _first(rows: Sequence[Mapping[str, Any]], key: str) -> Any:
    return next((row.get(key) for row in rows if row.get(key)), None)


def _counts(rows: Iterable[Mapping[str, Any]], key: str) -> dict[str, int]:
    counts = Counter(str(row.get(key)) for row in rows if row.get(key) is not None)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _symbol_stats(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    stats: dict[str, dict[str, Any]] = {}
    for row in rows:
        symbol_id = str(row.get("symbol_id"))
        entry = stats.setdefault(
            symbol_id,
            {
                "symbol_id": symbol_id,
                "label": str(row.get("label") or symbol_id),
                "occurrences": 0,
                "videos": set(),
                "screen_seconds": 0.0,
                "dialogue_seconds": 0.0,
                "role_counts": dict.fromkeys(ROLES, 0),
                "role_seconds": dict.fromkeys(ROLES, 0.0),
                "mean_weight": 0.0,
            },
        )
        seconds = finite(row.get("duration_seconds")) or 0.0
        entry["occurrences"] += 1
        entry["videos"].add(str(row.get("video_id")))
        entry["screen_seconds" if row.get("origin", "visual") != "dialogue" else "dialogue_seconds"] += seconds
        role = row.get("role")
        if role in ROLES:
            entry["role_counts"][role] += 1
            entry["role_seconds"][role] += seconds
        entry["mean_weight"] += finite(row.get("narrative_weight")) or 0.0
    result = []
    for entry in stats.values():
        entry["videos"] = len(entry["videos"])
        entry["screen_seconds"] = _round(entry["screen_seconds"])
        entry["dialogue_seconds"] = _round(entry["dialogue_seconds"])
        entry["role_seconds"] = {role: _round(value) for role, value in entry["role_seconds"].items()}
        entry["mean_weight"] = _round(entry["mean_weight"] / entry["occurrences"])
        result.append(entry)
    result.sort(key=lambda e: (-e["occurrences"], -(e["screen_seconds"] + e["dialogue_seconds"]), e["symbol_id"]))
    return result


def _cooccurrence(symbols: list[dict[str, Any]], events: list[dict[str, Any]]) -> dict[str, Any]:
    """Occurrences of each symbol coupled to at least one event of each type (via `symbols.event_ids`)."""
    event_type = {(str(e.get("video_id")), str(e.get("event_id"))): str(e.get("type")) for e in events}
    counts: dict[tuple[str, str], int] = defaultdict(int)
    catalyst: dict[tuple[str, str], int] = defaultdict(int)
    labels: dict[str, str] = {}
    for row in symbols:
        symbol_id = str(row.get("symbol_id"))
        labels.setdefault(symbol_id, str(row.get("label") or symbol_id))
        ids = [part for part in str(row.get("event_ids") or "").split(",") if part]
        kinds = {event_type[key] for key in ((str(row.get("video_id")), i) for i in ids) if key in event_type}
        for kind in kinds:
            counts[(symbol_id, kind)] += 1
            if row.get("role") == "catalyst":
                catalyst[(symbol_id, kind)] += 1
    symbol_ids = sorted({s for s, _ in counts}, key=lambda s: (-sum(v for (a, _), v in counts.items() if a == s), s))
    types = sorted({t for _, t in counts}, key=lambda t: (-sum(v for (_, b), v in counts.items() if b == t), t))
    return {
        "symbols": symbol_ids,
        "labels": [labels[s] for s in symbol_ids],
        "event_types": types,
        "counts": [[counts.get((s, t), 0) for t in types] for s in symbol_ids],
        "catalyst_counts": [[catalyst.get((s, t), 0) for t in types] for s in symbol_ids],
    }


def _streams(videos: list[dict[str, Any]], entries: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Per stream: how many ok videos had it ok / skipped / failed, and the distinct reasons with counts."""
    result: dict[str, Any] = {}
    ok = [row for row in videos if row.get("status") == "ok"]
    names = [*stream_names()]
    for entry in entries.values():
        for name in entry.get("streams") or {}:
            if name not in names:
                names.append(str(name))
    for name in names:
        statuses: Counter[str] = Counter()
        reasons: Counter[tuple[str, str]] = Counter()
        for row in ok:
            stream = (entries.get(str(row.get("video_id"))) or {}).get("streams") or {}
            info: Mapping[str, Any] = stream[name] if isinstance(stream.get(name), Mapping) else {}
            status = row.get(f"stream_{name}") or info.get("status")
            if status is None:
                continue
            statuses[str(status)] += 1
            if info.get("reason"):
                reasons[(str(status), str(info["reason"]))] += 1
        if statuses:
            result[name] = {
                "counts": dict(sorted(statuses.items())),
                "reasons": [
                    {"status": status, "reason": reason, "videos": n}
                    for (status, reason), n in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
                ],
            }
    return result


def _over_time(video_rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not any("date" in row["meta"] for row in video_rows):
        return None
    points, unparsed = [], []
    for row in video_rows:
        if row["status"] != "ok":
            continue
        date = parse_date(row["meta"].get("date"))
        if date is None:
            unparsed.append(row["video_id"])
        elif row["internalization_index"] is not None:
            points.append(
                {
                    "video_id": row["video_id"],
                    "date": date.isoformat(),
                    "series": row["meta"].get("series"),
                    "index": row["internalization_index"],
                }
            )
    points.sort(key=lambda p: (p["date"], p["video_id"]))
    return {"points": points, "unparsed": unparsed}


def _by_series(video_rows: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    if not any("series" in row["meta"] for row in video_rows):
        return None
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in video_rows:
        if row["status"] == "ok":
            groups[str(row["meta"].get("series") or "(no series)")].append(row)
    result = []
    for series, rows in sorted(groups.items()):
        values = [row["internalization_index"] for row in rows if row["internalization_index"] is not None]
        result.append(
            {
                "series": series,
                "videos": len(rows),
                "with_index": len(values),
                "mean_index": _round(sum(values) / len(values)) if values else None,
                "points": [
                    {"video_id": row["video_id"], "index": row["internalization_index"]}
                    for row in rows
                    if row["internalization_index"] is not None
                ],
            }
        )
    return result
