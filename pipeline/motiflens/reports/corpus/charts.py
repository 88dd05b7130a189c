"""A small SVG chart library for the report pages: bars, stacked bars, a heat map, a time line and series rows.

Charts are inline SVG drawn here (no plotting library, no CDN, no fonts to fetch), so a page opens from file:// on
an offline machine and its bytes depend only on its data. Every label is escaped; tooltips are SVG <title>s.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from motiflens.reports.web import escape

SERIES_COLOURS = ("#1f618d", "#d35400", "#1e8449", "#8e44ad", "#b03a2e", "#7d6608", "#117a65", "#5d6d7e")


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
            self.parts.append(f"<{element} {attrs}><title>{escape(title)}</title></{element}>")

    def rect(self, x: float, y: float, w: float, h: float, fill: str, title: str | None = None) -> None:
        attrs = f'x="{_f(x)}" y="{_f(y)}" width="{_f(max(w, 0.0))}" height="{_f(h)}" fill="{escape(fill)}"'
        self._titled("rect", title, attrs)

    def circle(self, x: float, y: float, r: float, fill: str, title: str | None = None) -> None:
        attrs = f'cx="{_f(x)}" cy="{_f(y)}" r="{_f(r)}" fill="{escape(fill)}" fill-opacity="0.85"'
        self._titled("circle", title, attrs)

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str = "#d5d9e0", width: float = 1) -> None:
        self.parts.append(
            f'<line x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" stroke="{escape(stroke)}" '
            f'stroke-width="{_f(width)}"/>'
        )

    def polyline(self, points: Sequence[tuple[float, float]], stroke: str) -> None:
        path = " ".join(f"{_f(x)},{_f(y)}" for x, y in points)
        self.parts.append(f'<polyline points="{path}" fill="none" stroke="{escape(stroke)}" stroke-width="1.5"/>')

    def text(self, x: float, y: float, text: str, *, anchor: str = "start", size: int = 12, fill: str = "#1d2330",
             title: str | None = None, bold: bool = False) -> None:
        weight = ' font-weight="600"' if bold else ""
        tip = f"<title>{escape(title)}</title>" if title is not None else ""
        self.parts.append(
            f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}" font-size="{size}" fill="{escape(fill)}"{weight}>'
            f"{tip}{escape(text)}</text>"
        )

    def render(self) -> str:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class=chart viewBox="0 0 {_f(self.width)} {_f(self.height)}" '
            f'width="{_f(self.width)}" height="{_f(self.height)}" role="img" aria-label="{escape(self.label)}">'
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
            f"{escape(_short(kind, 16))}</text>"
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
