"""Per-video report page: the video with synchronized lanes for shots, transcript, symbols, events and themes.

The page is one self-contained HTML file (no CDN, no external CSS or JS) so it opens from file:// inside an output
folder on an offline machine: its script and style are reports/assets/video_page.{js,css}, inlined when the page is
built. The timeline travels as a JSON island; the script builds the lanes from it with textContent/setAttribute
only, so text that came from a video (speech, OCR, file names) is never parsed as HTML.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from motiflens.core.atomic import inside, write_text
from motiflens.reports.web import PAGE_NAME, ROLES, inline_asset, json_for_script, relative_href


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    minutes, rest = divmod(float(seconds), 60.0)
    return f"{int(minutes)}:{rest:04.1f}"


def _number(value: Any, digits: int = 2) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "n/a"
    return f"{value:.{digits}f}"


def _sortable(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _counts_table(caption: str, counts: Mapping[str, Any], unit: str = "") -> str:
    if not counts:
        return f"<p><b>{html.escape(caption)}:</b> none</p>"
    rows = "".join(
        f"<tr><td>{html.escape(str(key))}</td><td class=num>{html.escape(str(value))}{unit}</td></tr>"
        for key, value in sorted(counts.items(), key=lambda item: (-_sortable(item[1]), str(item[0])))
    )
    return f"<table class=counts><caption>{html.escape(caption)}</caption>{rows}</table>"


def _stream_lines(streams: Mapping[str, Any]) -> str:
    items = []
    for name in sorted(streams):
        stream = streams[name] if isinstance(streams[name], Mapping) else {}
        status = str(stream.get("status", "unknown"))
        reason = stream.get("reason")
        text = f"{name} stream {status}" + (f": {reason}" if reason else "")
        items.append(f'<li class="stream status-{html.escape(status)}">{html.escape(text)}</li>')
    return f"<ul class=streams>{''.join(items)}</ul>"


def _summary_box(document: Mapping[str, Any]) -> str:
    video = document.get("video") or {}
    summary = document.get("summary") or {}
    transcript = document.get("transcript") or {}
    index = summary.get("internalization_index")
    index_text = _number(index) if index is not None else "n/a (no symbol on screen)"
    dialogue = summary.get("dialogue_internalization")
    dialogue_text = _number(dialogue) if dialogue is not None else "n/a (no symbol named)"
    facts = [
        ("Duration", _clock(video.get("duration_seconds"))),
        ("Frame", f"{video.get('width', '?')}×{video.get('height', '?')} {video.get('orientation', '')}".strip()),
        ("Language", str(transcript.get("language") or "unknown")),
        ("Internalization index", index_text),
        ("Dialogue internalization", dialogue_text),
    ]
    fact_rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts)
    parts = [
        f"<table class=facts>{fact_rows}</table>",
        _counts_table("Symbol screen seconds", summary.get("symbol_screen_seconds") or {}, " s"),
    ]
    if summary.get("role_seconds"):
        parts.append(_counts_table("Symbol seconds by role", summary["role_seconds"], " s"))
    parts.append(_counts_table("Plot events", summary.get("event_counts") or {}))
    if summary.get("theme_counts"):
        parts.append(_counts_table("Themes", summary["theme_counts"]))
    parts.append(_stream_lines(document.get("streams") or {}))
    return f'<section class=summary aria-label="summary">{"".join(parts)}</section>'


def render_video_page(document: dict[str, Any], video_href: str | None) -> str:
    """The HTML of one video's report; `video_href` is the (relative, URL-encoded) video link, None if missing."""
    video = document.get("video") or {}
    video_id = str(video.get("id", "video"))
    file_name = str(video.get("path") or video_id)
    if video_href is not None:
        player = (
            f'<video id=player controls preload=metadata src="{html.escape(video_href, quote=True)}"></video>'
        )
    else:
        player = f'<p id=player-missing class=missing>Video file not found: {html.escape(file_name)}</p>'
    legend = "".join(f'<span class="swatch role-{role}"></span>{role} ' for role in ROLES)
    return (
        "<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n"
        '<meta name=viewport content="width=device-width, initial-scale=1">\n'
        f"<title>MotifLens · {html.escape(video_id)}</title>\n{inline_asset('video_page.css')}\n</head>\n<body>\n"
        f"<header><h1>{html.escape(video_id)}</h1><p class=file>{html.escape(file_name)}</p></header>\n"
        f'<div class=top><div class=player>{player}<div id=now aria-live=polite></div></div>\n'
        f"{_summary_box(document)}</div>\n"
        f'<div class=controls><label>Zoom <input id=zoom type=range min=1 max=64 step=1 value=1></label>'
        f'<span class=legend>Symbol role: {legend}</span></div>\n'
        '<div id=timeline><div id=lane-titles></div><div id=scroller><div id=tracks></div></div></div>\n'
        '<div id=tooltip role=tooltip hidden></div>\n'
        "<noscript><p>The lanes need JavaScript; the summary above is complete without it.</p></noscript>\n"
        f'<script type="application/json" id="timeline-data">{json_for_script(document)}</script>\n'
        f"{inline_asset('video_page.js')}\n</body>\n</html>\n"
    )


def write_video_page(document: dict[str, Any], video_folder: Path, video_file: Path | None) -> Path:
    """Write `report.html` into the video's output folder (atomically) and return its path."""
    href = relative_href(video_folder, video_file) if video_file is not None and video_file.is_file() else None
    target = inside(video_folder, PAGE_NAME)
    write_text(target, render_video_page(document, href))
    return target

