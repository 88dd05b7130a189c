"""The series pages `<run>/series/<name>.html`: one per series, how its symbols travel across the episodes.

A symbol x episode grid coloured by each symbol's strongest role in the episode (a cell links to that episode's
page at the occurrence: `report.html#t=<seconds>`), the internalization index over the episodes, theme lanes and
plot-event counts per episode. Built from the corpus tables with `series.series_rows`, so the page and the
`series_symbols` / `series_episodes` tables agree. Static HTML and inline SVG, no script: every name that came
from a file, a folder or a manifest is escaped text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from motiflens.core.atomic import inside, write_text
from motiflens.reports.corpus.charts import SERIES_COLOURS, Svg
from motiflens.reports.corpus.data import finite, read_tables
from motiflens.reports.corpus.page import ROLE_COLOURS
from motiflens.reports.series import (
    ROLE_ORDER,
    TRAJECTORY_RULES,
    series_page_name,
    series_rows,
    series_videos,
    strongest_role,
)
from motiflens.reports.web import PAGE_NAME, escape, inline_asset, relative_href

THEME_COLOUR = SERIES_COLOURS[0]


def _pairs(text: Any) -> dict[str, int]:
    pairs = (item.rsplit(":", 1) for item in str(text or "").split(",") if ":" in item)
    return {key: int(value) for key, value in pairs if value.isdigit()}


def _grouped(rows: Sequence[Mapping[str, Any]], *keys: str) -> dict[tuple[str, ...], list[Mapping[str, Any]]]:
    grouped: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(tuple(str(row.get(key)) for key in keys), []).append(row)
    return grouped


def _earliest(times: Iterable[Any]) -> float | None:
    return min((t for t in map(finite, times) if t is not None), default=None)


def cell_time(role: str, occurrences: Sequence[Mapping[str, Any]], mentions: Sequence[Mapping[str, Any]],
              events: Mapping[str, Mapping[str, Any]]) -> float:
    """Where a grid cell opens its episode: the moment that earns the role. A catalyst: the earliest plot event its
    occurrences are linked to; referenced: its first mention; decorative: the peak of its strongest occurrence.
    Else (or when that moment is unknown) the start of its first occurrence with that role."""
    found = [o for o in occurrences if o.get("role") == role]
    if role == "catalyst":
        ids = {ref for o in found for ref in str(o.get("event_ids") or "").split(",") if ref}
        moment = _earliest(events[ref].get("start_seconds") for ref in ids if ref in events)
    elif role == "referenced":
        moment = _earliest(m.get("start_seconds") for m in mentions)
    else:
        strongest = max(found, key=lambda o: finite(o.get("peak_score")) or 0.0, default=None)
        moment = finite(strongest.get("peak_seconds")) if strongest else None
    if moment is None:
        moment = _earliest(o.get("start_seconds") for o in found)
    return moment or 0.0


def series_data(tables: Mapping[str, Sequence[Mapping[str, Any]]], series: str) -> dict[str, Any]:
    """What the page of `series` shows, as plain values: episodes, symbols with their cells, events, themes."""
    rows = series_rows(tables)
    episodes = [row for row in rows["series_episodes"] if row["series"] == series]
    by_episode = {row["episode"]: row for row in episodes}
    occurrences = _grouped(tables.get("symbols", ()), "video_id", "symbol_id")
    mentions = _grouped(tables.get("mentions", ()), "video_id", "symbol_id")
    events: dict[str, dict[str, Mapping[str, Any]]] = {}
    for event in tables.get("events", ()):
        events.setdefault(str(event.get("video_id")), {})[str(event.get("event_id"))] = event
    symbols = []
    for row in (row for row in rows["series_symbols"] if row["series"] == series):
        cells = {}
        for episode in map(int, row["episodes"].split(",")):
            video_id = str(by_episode[episode]["video_id"])
            found = occurrences.get((video_id, row["symbol_id"]), [])
            role = strongest_role(o.get("role") for o in found) or "referenced"
            start = cell_time(role, found, mentions.get((video_id, row["symbol_id"]), []), events.get(video_id, {}))
            screen = sum(max(0.0, (finite(o.get("end_seconds")) or 0.0) - (finite(o.get("start_seconds")) or 0.0))
                         for o in found if o.get("origin") == "visual")
            cells[episode] = {"role": role, "start": start, "occurrences": len(found), "screen": round(screen, 3)}
        symbols.append({**row, "cells": cells})
    symbols.sort(key=lambda s: (s["first_catalyst_episode"] is None, s["first_catalyst_episode"] or 0,
                                s["first_episode"], s["symbol_id"]))
    return {"series": series, "episodes": episodes, "symbols": symbols}


def _index_chart(episodes: Sequence[Mapping[str, Any]]) -> str:
    indices = [(row["episode"], finite(row["internalization_index"])) for row in episodes]
    points = [(episode, value) for episode, value in indices if value is not None]
    if not points:
        return "<p class=empty>No episode has an internalization index (nothing was on screen).</p>"
    numbers = [row["episode"] for row in episodes]
    left, right, top, bottom = 44.0, 600.0, 12.0, 152.0
    svg = Svg(right + 20, bottom + 34, "internalization index over the episodes")
    span = max(numbers) - min(numbers) or 1

    def x_of(episode: int) -> float:
        return left + (right - left) * (episode - min(numbers)) / span

    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = bottom - (bottom - top) * tick
        svg.line(left, y, right, y, "#eef0f3")
        svg.text(left - 6, y + 4, f"{tick:g}", anchor="end", size=11, fill="#667")
    for number in numbers:
        svg.text(x_of(number), bottom + 16, f"E{number}", anchor="middle", size=11, fill="#667")
    coords = [(x_of(episode), bottom - (bottom - top) * value) for episode, value in points]
    svg.polyline(coords, THEME_COLOUR)
    for (episode, value), (x, y) in zip(points, coords, strict=True):
        svg.circle(x, y, 4.5, THEME_COLOUR, f"episode {episode}: {value:.3f}")
    return svg.render()


def _lanes(episodes: Sequence[Mapping[str, Any]], column: str, label: str, colours: Sequence[str]) -> str:
    counts = {row["episode"]: _pairs(row[column]) for row in episodes}
    keys = sorted({key for pairs in counts.values() for key in pairs})
    if not keys:
        return f"<p class=empty>No {escape(label)} in this series.</p>"
    left, cell, row_height = 170.0, 44.0, 24.0
    svg = Svg(left + cell * len(episodes) + 10, row_height * (len(keys) + 1) + 8, label)
    most = max(count for pairs in counts.values() for count in pairs.values())
    for column_index, row in enumerate(episodes):
        svg.text(left + cell * column_index + cell / 2, 14, f"E{row['episode']}", anchor="middle", size=11,
                 fill="#667")
    for row_index, key in enumerate(keys):
        y = row_height * (row_index + 1)
        colour = colours[row_index % len(colours)]
        svg.text(left - 8, y + 15, key, anchor="end", size=12, title=key)
        svg.line(left, y + row_height / 2 + 2, left + cell * len(episodes), y + row_height / 2 + 2, "#eef0f3")
        for column_index, row in enumerate(episodes):
            count = counts[row["episode"]].get(key, 0)
            if count:
                radius = 3 + 7 * (count / most) ** 0.5
                svg.circle(left + cell * column_index + cell / 2, y + row_height / 2 + 2, radius, colour,
                           f"episode {row['episode']}: {key} {count}")
    return svg.render()


def _grid(data: Mapping[str, Any], run_dir: Path, page_folder: Path) -> str:
    episodes = data["episodes"]
    head = "".join(f"<th class=ep>E{row['episode']}</th>" for row in episodes)
    body = []
    for symbol in data["symbols"]:
        first = symbol["first_catalyst_episode"]
        summary = escape(symbol["trajectory"]) + (f" · catalyst from E{first}" if first is not None else "")
        cells = []
        for row in episodes:
            cell = symbol["cells"].get(row["episode"])
            if cell is None:
                cells.append("<td class='cell none'></td>")
                continue
            target = run_dir / "videos" / str(row["video_id"]) / PAGE_NAME
            tip = (f"{symbol['label']} · episode {row['episode']} · {cell['role']} · {cell['occurrences']} "
                   f"occurrence(s), {cell['screen']:g} s on screen · opens at {cell['start']:.1f} s")
            letter = cell["role"][0].upper()
            if target.is_file():
                href = relative_href(page_folder, target) + f"#t={cell['start']:.2f}"
                content = f"<a href=\"{escape(href)}\" title=\"{escape(tip)}\">{letter}</a>"
            else:
                content = f"<span title=\"{escape(tip)}\">{letter}</span>"
            colour = ROLE_COLOURS.get(cell["role"], "#d5d9e0")
            cells.append(f"<td class='cell {cell['role']}' style='background:{colour}' "
                         f"data-episode=\"{row['episode']}\">{content}</td>")
        rule = escape(TRAJECTORY_RULES.get(symbol["trajectory"], ""))
        body.append(
            f"<tr data-symbol=\"{escape(symbol['symbol_id'])}\"><th class=sym>{escape(symbol['label'])}"
            f"<small title=\"{rule}\">{summary}</small></th>{''.join(cells)}</tr>"
        )
    if not body:
        return "<p class=empty>No symbol appears in this series.</p>"
    present = sorted({symbol["trajectory"] for symbol in data["symbols"]}, key=list(TRAJECTORY_RULES).index)
    rules = " · ".join(f"<b>{escape(name)}</b>: {escape(TRAJECTORY_RULES[name])}" for name in present)
    return (f"<table class=grid><thead><tr><th></th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"<p class=note>{rules}.</p>")


def _section(title: str, body: str, note: str = "") -> str:
    note_html = f"<p class=note>{note}</p>" if note else ""
    return f"<section class=card><h2>{escape(title)}</h2>{note_html}{body}</section>"


def render_series_page(data: Mapping[str, Any], run_dir: Path, page_folder: Path) -> str:
    """The HTML of one series page (links relative to `page_folder`)."""
    series, episodes = data["series"], data["episodes"]
    legend = "".join(f"<span class=swatch style='background:{ROLE_COLOURS[role]}'></span>{role}"
                     for role in ROLE_ORDER)
    corpus = relative_href(page_folder, run_dir / PAGE_NAME)
    rows = "".join(
        f"<tr><td>E{row['episode']}</td><td>{escape(row['path'])}</td><td>{escape(row['event_counts'])}</td>"
        f"<td>{escape(row['theme_counts'])}</td></tr>" for row in episodes
    )
    sections = [
        _section("Symbols across the episodes", _grid(data, run_dir, page_folder),
                 "Each cell: the symbol's strongest role in the episode (C catalyst, R referenced, D decorative). "
                 "Click a cell to open the episode at that occurrence. Rows are in order of the first catalyst."),
        _section("Internalization index over the episodes", _index_chart(episodes),
                 "Catalyst share of symbol screen seconds per episode."),
        _section("Themes over the episodes", _lanes(episodes, "theme_counts", "themes", [THEME_COLOUR]),
                 "Dialogue segments scored on each theme (dot area by count)."),
        _section("Plot events over the episodes", _lanes(episodes, "event_counts", "plot events", SERIES_COLOURS),
                 "Detected plot events by type (dot area by count)."),
        _section("Episodes", "<table class=data><thead><tr><th>episode</th><th>file</th><th>events</th>"
                 f"<th>themes</th></tr></thead><tbody>{rows}</tbody></table>"),
    ]
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(series)} · MotifLens series</title>"
        f"{inline_asset('corpus_page.css')}{inline_asset('series_page.css')}</head><body>"
        f"<h1>{escape(series)}</h1><p class=facts>{len(episodes)} episode(s) · <a href=\"{escape(corpus)}\">"
        f"corpus page</a></p><p class=legend>{legend}</p><main>{''.join(sections)}</main></body></html>\n"
    )


def write_series_pages(run_dir: Path) -> list[Path]:
    """One page per series of the run under `<run_dir>/series/`; returns the files written."""
    tables = read_tables(run_dir)
    written = []
    for series in series_videos(tables["videos"]):
        target = inside(run_dir, series_page_name(series))
        write_text(target, render_series_page(series_data(tables, series), run_dir, target.parent))
        written.append(target)
    return written
