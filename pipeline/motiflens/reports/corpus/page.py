"""The corpus page `<run>/report.html`: what a whole run found, laid out from `corpus.data` with `corpus.charts`.

Every text that came from a video or a manifest is escaped (`web.escape`); the data behind the charts travels as
a JSON island (`<script type="application/json" id="corpus-data">`, written by `json_for_script`) that the page's
script (reports/assets/corpus_page.js, which also sorts the tables) exposes as `window.motiflensCorpus`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from motiflens.core.atomic import inside, write_text
from motiflens.reports.corpus.charts import bar_chart, heat_map, series_chart, stacked_chart, time_chart
from motiflens.reports.corpus.data import corpus_data, finite
from motiflens.reports.web import PAGE_NAME, ROLES, escape, inline_asset, json_for_script

ROLE_COLOURS = {"decorative": "#95a5a6", "referenced": "#e0a800", "catalyst": "#c0392b"}


def _table(headers: Sequence[str], rows: Iterable[Sequence[tuple[str, Any]]], caption: str = "",
           sortable: bool = True) -> str:
    """rows hold (already escaped html, sort value) cells."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for content, sort_value in row:
            numeric = isinstance(sort_value, int | float) and not isinstance(sort_value, bool)
            key = f' data-sort="{escape(sort_value)}"' if sort_value is not None else ""
            cells.append(f"<td{' class=num' if numeric else ''}{key}>{content}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    cls = "data sortable" if sortable else "data"
    return f"<table class='{cls}'>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _cell(value: Any, digits: int = 2) -> tuple[str, Any]:
    number = finite(value)
    if number is not None:
        text = f"{number:.{digits}f}" if isinstance(value, float) else str(value)
        return escape(text), number
    if value is None:
        return "", None
    return escape(value), str(value)


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
            f"<b>{escape(r['status'])}</b> ({r['videos']}): {escape(r['reason'])}" for r in info["reasons"]
        )
        rows.append([(escape(name), name), (escape(counts), counts), (reasons, None)])
    notice = "".join(f"<p class=notice>{escape(text)}</p>" for text in notices)
    return notice, _table(["stream", "videos by status", "reasons"], rows, sortable=False)


def _section(title: str, body: str, note: str = "", wide: bool = False) -> str:
    note_html = f"<p class=note>{note}</p>" if note else ""
    return f"<section class='card{' wide' if wide else ''}'><h2>{escape(title)}</h2>{note_html}{body}</section>"


def render_corpus_page(data: Mapping[str, Any]) -> str:
    """The HTML of the corpus page for `corpus_data(...)`."""
    run, symbols, videos = data["run"], data["symbols"], data["videos"]
    ok = run["counts"].get("ok", 0)
    notice, stream_table = _stream_notes(data["streams"], ok)
    counts = ", ".join(f"{n} {status}" for status, n in run["counts"].items())
    facts = (
        f"<p class=facts>{run['videos']} video(s): {escape(counts)} · "
        f"{sum(s['occurrences'] for s in symbols)} symbol occurrence(s) of {len(symbols)} symbol(s) · "
        f"{sum(data['event_counts'].values())} plot event(s) · config {escape(run.get('config_hash') or 'n/a')} · "
        f"MotifLens {escape(run.get('package_version') or 'n/a')}</p>"
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
            note += f" No value ({missing}): {escape(', '.join(without))}."
        chart = bar_chart([(v["video_id"], v[key], f"{v['video_id']}: {v[key]:.3f}") for v in with_value],
                          title.lower(), maximum=1.0)
        sections.append(_section(title, chart, note))

    over_time, by_series = data.get("over_time"), data.get("by_series")
    if over_time is not None:
        note = "Each dot is a video (manifest column <code>date</code>); lines join the videos of one series."
        if over_time["unparsed"]:
            note += f" Dates not understood: {escape(', '.join(over_time['unparsed']))}."
        sections.append(_section("Internalization index over time",
                                 time_chart(over_time["points"], "internalization index over time"), note))
    if by_series is not None:
        sections.append(_section("Internalization index by series",
                                 series_chart(by_series, "internalization index by series"),
                                 "Each dot is a video (manifest column <code>series</code>); the bar is the mean."))
    if data.get("series_pages"):
        links = "".join(f"<li><a href=\"{escape(page['href'])}\">{escape(page['series'])}</a> "
                        f"({page['episodes']} episode(s))</li>" for page in data["series_pages"])
        sections.append(_section("Series arcs", f"<ul class=series-links>{links}</ul>",
                                 "One page per series: each symbol's role across the episodes, in episode order."))
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
        [(escape(s["symbol_id"]), s["symbol_id"]), (escape(s["label"]), s["label"]), _cell(s["occurrences"]),
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
        name = escape(v["video_id"])
        link = f'<a href="{escape(v["href"])}">{name}</a>' if v["href"] else name
        video_rows.append([
            (link, v["video_id"]), _cell(v["path"]), (escape(v["status"]), v["status"]),
            _cell(v["duration_seconds"], 1), _cell(v["n_symbol_occurrences"]), _cell(v["n_mentions"]),
            _cell(v["n_events"]), _cell(v["internalization_index"]), _cell(v["dialogue_internalization"]),
            *(_cell(v["meta"].get(key)) for key in meta_keys),
            (escape(str(v["error"] or "").splitlines()[0] if v["error"] else ""), None),
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
        f"<title>MotifLens corpus report</title>\n{inline_asset('corpus_page.css')}\n</head>\n<body>\n"
        f"<header><h1>MotifLens corpus report</h1>{facts}<p class=legend>Symbol roles: {legend}</p></header>\n"
        f"{notice}\n<main>{''.join(sections)}</main>\n"
        f'<script type="application/json" id="corpus-data">{json_for_script(data)}</script>\n'
        f"{inline_asset('corpus_page.js')}\n</body>\n</html>\n"
    )


def write_corpus_page(run_dir: Path) -> Path:
    """Write `<run_dir>/report.html` from the run's tables (atomically) and return its path."""
    target = inside(run_dir, PAGE_NAME)
    write_text(target, render_corpus_page(corpus_data(run_dir)))
    return target
