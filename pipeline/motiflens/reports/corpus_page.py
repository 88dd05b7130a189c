"""Corpus page `<run>/report.html`: what a whole run found, drawn from its corpus tables.

Symbol frequency and time, the role mix per symbol (decorative / referenced / catalyst), the internalization
index per video (and over time and by series when the manifest gave `date` / `series`), plot-event counts,
symbol x event-type co-occurrence, identity themes, every video with a link to its own page, and the status of
each stream. Charts are inline SVG drawn here (no plotting library, no CDN, no fonts to fetch), so the page
opens from file:// on an offline machine and its bytes depend only on the tables. Every text that came from a
video or a manifest is escaped with html.escape; the data behind the charts travels as a JSON island
(`<script type="application/json" id="corpus-data">`), written by `json_for_script`.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from motiflens.core.atomic import inside, write_text
from motiflens.core.errors import InputError
from motiflens.reports.video_page import PAGE_NAME, ROLES, json_for_script

ROLE_COLOURS = {"decorative": "#95a5a6", "referenced": "#e0a800", "catalyst": "#c0392b"}
SERIES_COLOURS = ("#1f618d", "#d35400", "#1e8449", "#8e44ad", "#b03a2e", "#7d6608", "#117a65", "#5d6d7e")
TABLE_NAMES = ("videos", "symbols", "mentions", "events", "segments", "shots", "themes")
STREAM_ORDER = ("visual", "asr", "ocr", "shots", "story")
META_PREFIX = "meta_"

# ------------------------------------------------------------------------------------------------ reading


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


def _number(value: Any) -> float | None:
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
                "internalization_index": _number(row.get("internalization_index")),
                "dialogue_internalization": _number(row.get("dialogue_internalization")),
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
        seconds = _number(row.get("duration_seconds")) or 0.0
        entry["occurrences"] += 1
        entry["videos"].add(str(row.get("video_id")))
        entry["screen_seconds" if row.get("origin", "visual") != "dialogue" else "dialogue_seconds"] += seconds
        role = row.get("role")
        if role in ROLES:
            entry["role_counts"][role] += 1
            entry["role_seconds"][role] += seconds
        entry["mean_weight"] += _number(row.get("narrative_weight")) or 0.0
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
        types = {event_type[key] for key in ((str(row.get("video_id")), i) for i in ids) if key in event_type}
        for kind in types:
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
    names = [*STREAM_ORDER]
    for entry in entries.values():
        for name in entry.get("streams") or {}:
            if name not in names:
                names.append(str(name))
    for name in names:
        statuses: Counter[str] = Counter()
        reasons: Counter[tuple[str, str]] = Counter()
        for row in ok:
            stream = (entries.get(str(row.get("video_id"))) or {}).get("streams") or {}
            info = stream.get(name) if isinstance(stream.get(name), Mapping) else {}
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


# ------------------------------------------------------------------------------------------------- SVG


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _f(value: float) -> str:
    text = f"{value:.1f}"
    return "0" if text in ("0.0", "-0.0") else text.removesuffix(".0")


def _short(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fmt(value: float) -> str:
    if abs(value - round(value)) < 1e-9:
        return str(round(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def nice_ticks(maximum: float, count: int = 4, integer: bool = False) -> list[float]:
    """Round axis ticks from 0 to at least `maximum` (whole steps only for counts when `integer`)."""
    if maximum <= 0:
        return [0.0, 1.0]
    raw = maximum / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if integer:
        step = max(1.0, math.ceil(step))
    top = math.ceil(maximum / step - 1e-9) * step
    return [round(i * step, 10) for i in range(round(top / step) + 1)]


class Svg:
    """A tiny SVG writer: shapes with an optional <title> (the browser's native tooltip)."""

    def __init__(self, width: float, height: float, label: str) -> None:
        self.width, self.height, self.label = width, height, label
        self.parts: list[str] = []

    def _titled(self, element: str, title: str | None, attrs: str) -> None:
        if title is None:
            self.parts.append(f"<{element} {attrs}/>")
        else:
            self.parts.append(f"<{element} {attrs}><title>{_e(title)}</title></{element}>")

    def rect(self, x: float, y: float, w: float, h: float, fill: str, title: str | None = None) -> None:
        attrs = f'x="{_f(x)}" y="{_f(y)}" width="{_f(max(w, 0.0))}" height="{_f(h)}" fill="{_e(fill)}"'
        self._titled("rect", title, attrs)

    def circle(self, x: float, y: float, r: float, fill: str, title: str | None = None) -> None:
        self._titled("circle", title, f'cx="{_f(x)}" cy="{_f(y)}" r="{_f(r)}" fill="{_e(fill)}" fill-opacity="0.85"')

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str = "#d5d9e0", width: float = 1) -> None:
        self.parts.append(
            f'<line x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" stroke="{_e(stroke)}" '
            f'stroke-width="{_f(width)}"/>'
        )

    def polyline(self, points: Sequence[tuple[float, float]], stroke: str) -> None:
        path = " ".join(f"{_f(x)},{_f(y)}" for x, y in points)
        self.parts.append(f'<polyline points="{path}" fill="none" stroke="{_e(stroke)}" stroke-width="1.5"/>')

    def text(self, x: float, y: float, text: str, *, anchor: str = "start", size: int = 12, fill: str = "#1d2330",
             title: str | None = None, bold: bool = False) -> None:
        weight = ' font-weight="600"' if bold else ""
        tip = f"<title>{_e(title)}</title>" if title is not None else ""
        self.parts.append(
            f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}" font-size="{size}" fill="{_e(fill)}"{weight}>'
            f"{tip}{_e(text)}</text>"
        )

    def render(self) -> str:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class=chart viewBox="0 0 {_f(self.width)} {_f(self.height)}" '
            f'width="{_f(self.width)}" height="{_f(self.height)}" role="img" aria-label="{_e(self.label)}">'
            + "".join(self.parts)
            + "</svg>"
        )


ROW = 22
WIDTH = 620


def _label_width(labels: Iterable[str]) -> float:
    longest = max((len(_short(label)) for label in labels), default=4)
    return min(210.0, 14.0 + 7.0 * longest)


def _value_axis(svg: Svg, left: float, right: float, top: float, bottom: float, ticks: list[float],
                unit: str = "") -> None:
    for tick in ticks:
        x = left + (right - left) * tick / ticks[-1]
        svg.line(x, top, x, bottom, "#eef0f3")
        svg.text(x, bottom + 14, _fmt(tick) + unit, anchor="middle", size=11, fill="#667")


def bar_chart(rows: Sequence[tuple[str, float, str]], label: str, unit: str = "", maximum: float | None = None,
              integer: bool = False) -> str:
    """Horizontal bars: (label, value, tooltip) per row; `integer` for counts (whole-number ticks)."""
    if not rows:
        return "<p class=empty>Nothing to draw.</p>"
    left = _label_width(r[0] for r in rows)
    right = WIDTH - 56
    ticks = nice_ticks(maximum if maximum is not None else max(r[1] for r in rows), integer=integer)
    height = 10 + ROW * len(rows) + 24
    svg = Svg(WIDTH, height, label)
    _value_axis(svg, left, right, 6, height - 22, ticks, unit)
    for i, (name, value, tip) in enumerate(rows):
        y = 10 + i * ROW
        width = (right - left) * value / ticks[-1]
        svg.text(left - 6, y + 14, _short(name), anchor="end", title=name)
        svg.rect(left, y + 3, width, ROW - 6, "#2e86c1", tip)
        svg.text(left + width + 4, y + 14, _fmt(value) + unit, size=11, fill="#445")
    return svg.render()


def stacked_chart(rows: Sequence[tuple[str, Mapping[str, float], str]], keys: Sequence[str],
                  colours: Mapping[str, str], label: str, unit: str = "", share: bool = False) -> str:
    """Horizontal stacked bars: (label, {key: value}, tooltip prefix); `share` draws each row as 100%."""
    if not rows:
        return "<p class=empty>Nothing to draw.</p>"
    left = _label_width(r[0] for r in rows)
    right = WIDTH - 56
    totals = [sum(values.get(k, 0.0) for k in keys) for _, values, _ in rows]
    ticks = [0.0, 0.25, 0.5, 0.75, 1.0] if share else nice_ticks(max(totals))
    height = 10 + ROW * len(rows) + 24 + 22
    svg = Svg(WIDTH, height, label)
    _value_axis(svg, left, right, 6, height - 44, ticks, "" if share else unit)
    for i, ((name, values, tip), total) in enumerate(zip(rows, totals, strict=True)):
        y = 10 + i * ROW
        svg.text(left - 6, y + 14, _short(name), anchor="end", title=name)
        x = left
        scale = (1.0 / total if total else 0.0) if share else 1.0 / ticks[-1]
        for key in keys:
            value = values.get(key, 0.0)
            if value <= 0:
                continue
            width = (right - left) * value * scale
            percent = f" ({100 * value / total:.0f}%)" if total else ""
            svg.rect(x, y + 3, width, ROW - 6, colours[key], f"{tip}{key}: {_fmt(value)}{unit}{percent}")
            x += width
        svg.text(x + 4, y + 14, _fmt(total) + unit, size=11, fill="#445")
    legend_y = height - 10
    x = left
    for key in keys:
        svg.rect(x, legend_y - 10, 12, 12, colours[key])
        svg.text(x + 16, legend_y, key, size=11)
        x += 24 + 7 * len(key)
    return svg.render()


def heat_map(data: Mapping[str, Any], label: str) -> str:
    """Symbols (rows) x event types (columns); the cell says how many occurrences are coupled to such events."""
    labels, types, counts = data["labels"], data["event_types"], data["counts"]
    if not labels or not types:
        return "<p class=empty>No symbol occurrence is coupled to a plot event in this run.</p>"
    left = _label_width(labels)
    cell = 56.0
    top = 92.0
    width = left + cell * len(types) + 10
    height = top + ROW * 1.4 * len(labels) + 10
    svg = Svg(width, height, label)
    peak = max(max(row) for row in counts) or 1
    for j, kind in enumerate(types):
        x = left + cell * j + cell / 2
        svg.parts.append(
            f'<text transform="translate({_f(x + 4)},{_f(top - 6)}) rotate(-50)" font-size="12" fill="#1d2330">'
            f"{_e(_short(kind, 16))}</text>"
        )
    for i, name in enumerate(labels):
        y = top + i * ROW * 1.4
        svg.text(left - 6, y + ROW * 0.7 + 4, _short(name), anchor="end", title=name)
        for j, kind in enumerate(types):
            value = counts[i][j]
            strength = value / peak
            fill = "#f4f6f8" if value == 0 else _mix("#fdebd0", "#922b21", strength)
            tip = (f"{name} × {kind}: {value} occurrence(s) coupled, "
                   f"{data['catalyst_counts'][i][j]} of them catalyst")
            svg.rect(left + cell * j + 1, y + 1, cell - 2, ROW * 1.4 - 2, fill, tip)
            if value:
                svg.text(left + cell * j + cell / 2, y + ROW * 0.7 + 4, str(value), anchor="middle",
                         fill="#fff" if strength > 0.5 else "#1d2330")
    return svg.render()


def _mix(low: str, high: str, t: float) -> str:
    a = [int(low[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(high[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b, strict=True))


def _series_colours(names: Iterable[Any]) -> dict[str, str]:
    unique = sorted({str(name) for name in names})
    return {name: SERIES_COLOURS[i % len(SERIES_COLOURS)] for i, name in enumerate(unique)}


def time_chart(points: Sequence[Mapping[str, Any]], label: str) -> str:
    """Internalization index (y, 0..1) against the manifest date (x), one line per series."""
    if not points:
        return "<p class=empty>No video has both a readable date and an internalization index.</p>"
    dates = [dt.date.fromisoformat(p["date"]).toordinal() for p in points]
    first, last = min(dates), max(dates)
    if first == last:
        first, last = first - 1, last + 1
    left, right, top, bottom = 48.0, WIDTH - 44.0, 12.0, 212.0
    colours = _series_colours(p.get("series") or "" for p in points)
    legend = len(colours) > 1 or any(p.get("series") for p in points)
    svg = Svg(WIDTH, bottom + 40 + (22 if legend else 0), label)

    def x_of(day: int) -> float:
        return left + (right - left) * (day - first) / (last - first)

    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = bottom - (bottom - top) * tick
        svg.line(left, y, right, y, "#eef0f3")
        svg.text(left - 6, y + 4, _fmt(tick), anchor="end", size=11, fill="#667")
    steps = 4 if last - first >= 4 else last - first
    for k in range(steps + 1):
        day = round(first + (last - first) * k / steps)
        svg.line(x_of(day), bottom, x_of(day), bottom + 4, "#667")
        svg.text(x_of(day), bottom + 17, dt.date.fromordinal(day).isoformat(), anchor="middle", size=11, fill="#667")
    by_series: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for point, day in zip(points, dates, strict=True):
        by_series[str(point.get("series") or "")].append((x_of(day), bottom - (bottom - top) * point["index"]))
    for series, coords in sorted(by_series.items()):
        if len(coords) > 1:
            svg.polyline(sorted(coords), colours[series])
    for point, day in zip(points, dates, strict=True):
        series = str(point.get("series") or "")
        tip = f"{point['video_id']} · {point['date']}" + (f" · {series}" if series else "") + f" · {point['index']:.3f}"
        svg.circle(x_of(day), bottom - (bottom - top) * point["index"], 5, colours[series], tip)
    if legend:
        x, y = left, bottom + 44
        for series, colour in colours.items():
            svg.rect(x, y - 10, 12, 12, colour)
            svg.text(x + 16, y, _short(series or "(no series)", 24), size=11, title=series or "(no series)")
            x += 30 + 7 * len(_short(series or "(no series)", 24))
    return svg.render()


def series_chart(groups: Sequence[Mapping[str, Any]], label: str) -> str:
    """One row per series: each video's index as a dot on 0..1, the series mean as a bar."""
    if not groups:
        return "<p class=empty>No series.</p>"
    left = _label_width(g["series"] for g in groups) + 6
    right = WIDTH - 120
    height = 10 + 28 * len(groups) + 24
    svg = Svg(WIDTH, height, label)
    _value_axis(svg, left, right, 6, height - 22, [0.0, 0.25, 0.5, 0.75, 1.0])
    colours = _series_colours(g["series"] for g in groups)
    for i, group in enumerate(groups):
        y = 10 + 28 * i + 14
        name = group["series"]
        svg.text(left - 12, y + 4, _short(name), anchor="end", title=name)
        mean = group["mean_index"]
        if mean is not None:
            svg.rect(left, y - 8, (right - left) * mean, 16, "#d6eaf8", f"{name}: mean {mean:.3f}")
            svg.line(left + (right - left) * mean, y - 10, left + (right - left) * mean, y + 10, "#1d2330", 2)
        for point in group["points"]:
            svg.circle(left + (right - left) * point["index"], y, 4.5, colours[name],
                       f"{point['video_id']}: {point['index']:.3f}")
        mean_text = f"mean {mean:.2f}" if mean is not None else "no index"
        svg.text(right + 8, y + 4, f"{mean_text} (n={group['with_index']})", size=11, fill="#445")
    return svg.render()


# ------------------------------------------------------------------------------------------------- page


def _table(headers: Sequence[str], rows: Iterable[Sequence[tuple[str, Any]]], caption: str = "",
           sortable: bool = True) -> str:
    """rows hold (already escaped html, sort value) cells."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for content, sort_value in row:
            numeric = isinstance(sort_value, int | float) and not isinstance(sort_value, bool)
            key = f' data-sort="{_e(sort_value)}"' if sort_value is not None else ""
            cells.append(f"<td{' class=num' if numeric else ''}{key}>{content}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    cls = "data sortable" if sortable else "data"
    return f"<table class='{cls}'>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _cell(value: Any, digits: int = 2) -> tuple[str, Any]:
    number = _number(value)
    if number is not None:
        text = f"{number:.{digits}f}" if isinstance(value, float) else str(value)
        return _e(text), number
    if value is None:
        return "", None
    return _e(value), str(value)


def _stream_notes(streams: Mapping[str, Any], total_ok: int) -> tuple[str, str]:
    """(a plain-words notice for the top of the page, the full stream table)."""
    notices = []
    visual = streams.get("visual")
    if visual and visual["counts"].get("ok", 0) < sum(visual["counts"].values()):
        not_ok = sum(n for status, n in visual["counts"].items() if status != "ok")
        reasons = "; ".join(f"{r['reason']} ({r['videos']} video(s))" for r in visual["reasons"]) or "no reason given"
        notices.append(
            f"The visual stream did not run for {not_ok} of {total_ok} video(s): {reasons}. "
            "Symbols of those videos come from the dialogue only (origin dialogue), so their screen time is 0."
        )
    for name, info in streams.items():
        failed = info["counts"].get("failed", 0)
        if name != "visual" and failed:
            notices.append(f"The {name} stream failed for {failed} video(s); see the stream table below.")
    rows = []
    for name, info in streams.items():
        counts = ", ".join(f"{status} {n}" for status, n in info["counts"].items())
        reasons = "<br>".join(
            f"<b>{_e(r['status'])}</b> ({r['videos']}): {_e(r['reason'])}" for r in info["reasons"]
        )
        rows.append([(_e(name), name), (_e(counts), counts), (reasons, None)])
    notice = "".join(f"<p class=notice>{_e(text)}</p>" for text in notices)
    return notice, _table(["stream", "videos by status", "reasons"], rows, sortable=False)


def _section(title: str, body: str, note: str = "", wide: bool = False) -> str:
    note_html = f"<p class=note>{note}</p>" if note else ""
    return f"<section class='card{' wide' if wide else ''}'><h2>{_e(title)}</h2>{note_html}{body}</section>"


def render_corpus_page(data: Mapping[str, Any]) -> str:
    """The HTML of the corpus page for `corpus_data(...)`."""
    run, symbols, videos = data["run"], data["symbols"], data["videos"]
    ok = run["counts"].get("ok", 0)
    notice, stream_table = _stream_notes(data["streams"], ok)
    counts = ", ".join(f"{n} {status}" for status, n in run["counts"].items())
    facts = (
        f"<p class=facts>{run['videos']} video(s): {_e(counts)} · "
        f"{sum(s['occurrences'] for s in symbols)} symbol occurrence(s) of {len(symbols)} symbol(s) · "
        f"{sum(data['event_counts'].values())} plot event(s) · config {_e(run.get('config_hash') or 'n/a')} · "
        f"MotifLens {_e(run.get('package_version') or 'n/a')}</p>"
    )

    sections = []
    frequency = bar_chart(
        [(s["label"], s["occurrences"], f"{s['label']} ({s['symbol_id']}): {s['occurrences']} occurrence(s) in "
          f"{s['videos']} video(s)") for s in symbols],
        "symbol occurrences", integer=True,
    )
    time_rows = [
        (s["label"], {"on screen": s["screen_seconds"], "named only": s["dialogue_seconds"]}, f"{s['label']}: ")
        for s in symbols
    ]
    seconds = stacked_chart(time_rows, ("on screen", "named only"), {"on screen": "#1f618d", "named only": "#aab7c4"},
                            "symbol seconds", unit=" s")
    sections.append(_section(
        "Symbols: how often", frequency,
        "Occurrences per symbol over the whole run; hover a bar for the number of videos."))
    sections.append(_section(
        "Symbols: how long", seconds,
        "Seconds per symbol: <i>on screen</i> is visual screen time (CLIP); <i>named only</i> is the span of "
        "dialogue-only occurrences (named, never shown)."))
    roles = stacked_chart(
        [(s["label"], {r: float(s["role_counts"][r]) for r in ROLES}, f"{s['label']}: ") for s in symbols],
        ROLES, ROLE_COLOURS, "role mix per symbol", share=True,
    )
    sections.append(_section(
        "Role mix per symbol", roles,
        "Share of each symbol's occurrences that are decorative, referenced (named in the dialogue) or "
        "catalyst (linked to a plot event by its dialogue or by filling the frame); the number is the count of "
        "occurrences."))

    for key, title, note, missing in (
        ("internalization_index", "Internalization index per video",
         "Catalyst share of symbol screen seconds, per video (1 = every second a symbol is on screen, it drives "
         "the plot).", "nothing on screen"),
        ("dialogue_internalization", "Dialogue internalization per video",
         "Catalyst share of the occurrences of named symbols, per video.", "no symbol named"),
    ):
        with_value = sorted((v for v in videos if v[key] is not None), key=lambda v: (-v[key], v["video_id"]))
        without = [v["video_id"] for v in videos if v["status"] == "ok" and v[key] is None]
        if without:
            note += f" No value ({missing}): {_e(', '.join(without))}."
        chart = bar_chart([(v["video_id"], v[key], f"{v['video_id']}: {v[key]:.3f}") for v in with_value],
                          title.lower(), maximum=1.0)
        sections.append(_section(title, chart, note))

    over_time, by_series = data.get("over_time"), data.get("by_series")
    if over_time is not None:
        note = "Each dot is a video (manifest column <code>date</code>); lines join the videos of one series."
        if over_time["unparsed"]:
            note += f" Dates not understood: {_e(', '.join(over_time['unparsed']))}."
        sections.append(_section("Internalization index over time",
                                 time_chart(over_time["points"], "internalization index over time"), note))
    if by_series is not None:
        sections.append(_section("Internalization index by series",
                                 series_chart(by_series, "internalization index by series"),
                                 "Each dot is a video (manifest column <code>series</code>); the bar is the mean."))
    if over_time is None and by_series is None:
        sections.append(_section(
            "Over time and by series",
            "<p class=empty>The videos carry no <code>date</code> or <code>series</code>. Give them in a CSV "
            "manifest (columns <code>path,series,date</code>) to see the index over time and by series.</p>"))

    sections.append(_section(
        "Plot events",
        bar_chart([(kind, n, f"{kind}: {n} event(s)") for kind, n in data["event_counts"].items()], "event types",
                  integer=True),
        "Detected plot events by type, over all videos."))
    sections.append(_section(
        "Symbols × plot events", heat_map(data["cooccurrence"], "symbol and event co-occurrence"),
        "Occurrences of a symbol coupled to a plot event of a type (in its evidence: overlapping, following "
        "within the window, or naming it); hover a cell for how many of them are catalysts."))
    if data["theme_counts"]:
        sections.append(_section(
            "Identity themes",
            bar_chart([(t, n, f"{t}: {n} segment(s)") for t, n in data["theme_counts"].items()], "themes",
                      integer=True),
            "Dialogue segments scored on each theme."))

    symbol_rows = [
        [(_e(s["symbol_id"]), s["symbol_id"]), (_e(s["label"]), s["label"]), _cell(s["occurrences"]),
         _cell(s["videos"]), _cell(s["screen_seconds"], 1), _cell(s["dialogue_seconds"], 1),
         *(_cell(s["role_counts"][r]) for r in ROLES), _cell(s["mean_weight"])]
        for s in symbols
    ]
    sections.append(_section(
        "Symbols", _table(["symbol", "label", "occurrences", "videos", "screen s", "named-only s", *ROLES,
                           "mean weight"], symbol_rows)
        if symbols else "<p class=empty>No symbol occurrences in this run.</p>", wide=True))

    meta_keys = data["meta_keys"]
    video_rows = []
    for v in videos:
        name = _e(v["video_id"])
        link = f'<a href="{_e(v["href"])}">{name}</a>' if v["href"] else name
        video_rows.append([
            (link, v["video_id"]), _cell(v["path"]), (_e(v["status"]), v["status"]),
            _cell(v["duration_seconds"], 1), _cell(v["n_symbol_occurrences"]), _cell(v["n_mentions"]),
            _cell(v["n_events"]), _cell(v["internalization_index"]), _cell(v["dialogue_internalization"]),
            *(_cell(v["meta"].get(key)) for key in meta_keys),
            (_e(str(v["error"] or "").splitlines()[0] if v["error"] else ""), None),
        ])
    sections.append(_section(
        "Videos",
        _table(["video", "file", "status", "duration s", "symbols", "mentions", "events", "index",
                "dialogue index", *meta_keys, "error"], video_rows),
        "Click a video for its timeline page; click a column title to sort.", wide=True))
    sections.append(_section("Streams", stream_table, wide=True))

    legend = "".join(f'<span class=swatch style="background:{ROLE_COLOURS[r]}"></span>{r} ' for r in ROLES)
    return (
        "<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n"
        '<meta name=viewport content="width=device-width, initial-scale=1">\n'
        f"<title>MotifLens corpus report</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>MotifLens corpus report</h1>{facts}<p class=legend>Symbol roles: {legend}</p></header>\n"
        f"{notice}\n<main>{''.join(sections)}</main>\n"
        f'<script type="application/json" id="corpus-data">{json_for_script(data)}</script>\n'
        f"<script>{_JS}</script>\n</body>\n</html>\n"
    )


def write_corpus_page(run_dir: Path) -> Path:
    """Write `<run_dir>/report.html` from the run's tables (atomically) and return its path."""
    target = inside(run_dir, PAGE_NAME)
    write_text(target, render_corpus_page(corpus_data(run_dir)))
    return target


_CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,sans-serif;margin:0;padding:14px 18px;color:#1d2330;background:#fafbfc}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:0 0 4px}
.facts{margin:0;color:#445}.legend{margin:4px 0 0;color:#445;font-size:13px}
.swatch{display:inline-block;width:12px;height:12px;margin:0 3px 0 8px;vertical-align:-1px;border-radius:2px}
.notice{margin:10px 0;padding:8px 12px;border-left:4px solid #b03a2e;background:#fdedec;max-width:1250px}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:14px;margin-top:12px}
.card{background:#fff;border:1px solid #d5d9e0;border-radius:4px;padding:10px 12px;overflow-x:auto}
.card.wide{grid-column:1/-1}
.note{margin:0 0 8px;color:#5a6272;font-size:12.5px}.empty{color:#5a6272;font-style:italic}
svg.chart{display:block;max-width:100%;height:auto;font-family:system-ui,sans-serif}
table.data{border-collapse:collapse;font-size:13px}
table.data th,table.data td{padding:3px 10px 3px 0;text-align:left;vertical-align:top;border-bottom:1px solid #eef0f3}
table.data td:first-child{white-space:nowrap}
table.data td.num{text-align:right;font-variant-numeric:tabular-nums}
table.sortable th{cursor:pointer;user-select:none;white-space:nowrap}
table.sortable th[aria-sort=ascending]::after{content:" ▲"}table.sortable th[aria-sort=descending]::after{content:" ▼"}
a{color:#1f618d}
"""

_JS = r"""
(function () {
  'use strict';
  // The numbers behind every chart, for anyone who opens the console: window.motiflensCorpus.
  window.motiflensCorpus = JSON.parse(document.getElementById('corpus-data').textContent);
  function value(cell) {
    var raw = cell.getAttribute('data-sort');
    if (raw === null) return {n: null, s: ''};
    var n = Number(raw);
    return raw !== '' && isFinite(n) ? {n: n, s: raw} : {n: null, s: raw};
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    var heads = table.querySelectorAll('thead th');
    Array.prototype.forEach.call(heads, function (th, column) {
      th.addEventListener('click', function () {
        var ascending = th.getAttribute('aria-sort') !== 'ascending';
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = value(a.cells[column]), y = value(b.cells[column]);
          var order = (x.n !== null && y.n !== null) ? x.n - y.n : x.s.localeCompare(y.s);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
})();
"""
