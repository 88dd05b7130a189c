"""WebVTT track of a timeline's symbol occurrences, to watch beside the video in any player.

Each cue says which symbol is there, its narrative role and weight, and in a second line why: the line that
names it, the events it takes part in, how often it recurs. All of that text may come from the video, so it is
escaped and kept on one line per cue line.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from motiflens.core.atomic import write_text
from motiflens.dialogue.subtitles import _vtt_escape, timestamp
from motiflens.dialogue.text import collapse_spaces

# Limits in display columns (a Chinese character takes two), so a cue fits under a vertical video.
QUOTE_COLUMNS = 24
DETAIL_COLUMNS = 40
SEPARATOR = " · "


def _short(text: str, limit: int) -> str:
    kept: list[str] = []
    used = 0
    for char in collapse_spaces(text):
        used += 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if used > limit:
            return "".join(kept).rstrip() + "…"
        kept.append(char)
    return "".join(kept)


def _headline(symbol: Mapping[str, Any]) -> str:
    headline = str(symbol.get("label") or symbol["symbol_id"])
    if symbol.get("role"):
        headline += f" — {symbol['role']}"
    if isinstance(symbol.get("narrative_weight"), int | float):
        headline += f" ({symbol['narrative_weight']:.2f})"
    return headline


def _evidence_line(symbol: Mapping[str, Any], event_types: Mapping[str, str]) -> str:
    """One part per kind of evidence, in the order the kinds first appear."""
    parts: dict[str, str] = {}
    events: list[str] = []
    for item in symbol.get("evidence") or []:
        kind, text = str(item.get("kind", "")), str(item.get("text") or "")
        if kind == "event":
            ref = str(item.get("ref", ""))
            name = event_types.get(ref) or text.partition(":")[0] or ref
            if name and name not in events:
                events.append(name)
            parts["event"] = "event: " + ", ".join(events)
        elif kind in parts:
            continue  # the first line that names a symbol says enough; more would not fit a subtitle
        elif kind == "mention":
            parts[kind] = f'named: "{_short(text, QUOTE_COLUMNS)}"'
        elif kind == "episode_mention":
            parts[kind] = "named elsewhere in the episode"
        elif kind == "visual":
            parts[kind] = "seen: " + _short(text, DETAIL_COLUMNS) if text else "seen"
        elif kind:
            parts[kind] = f"{kind}: {_short(text, DETAIL_COLUMNS)}" if text else kind
    return SEPARATOR.join(parts.values())


def symbols_vtt(document: Mapping[str, Any]) -> str:
    """WebVTT with one cue per symbol occurrence, sorted by start; header only when there is none."""
    event_types = {str(event.get("id")): str(event.get("type")) for event in document.get("events") or []}
    symbols = sorted(
        enumerate(document.get("symbols") or []),
        key=lambda pair: (pair[1]["start_seconds"], pair[1]["end_seconds"], str(pair[1]["symbol_id"]), pair[0]),
    )
    blocks = ["WEBVTT"]
    for number, (_, symbol) in enumerate(symbols, start=1):
        start = float(symbol["start_seconds"])
        # Players drop zero-length cues; keep at least one millisecond.
        end = max(float(symbol["end_seconds"]), start + 0.001)
        lines = [_headline(symbol), _evidence_line(symbol, event_types)]
        body = "\n".join(_vtt_escape(collapse_spaces(line)) for line in lines if line)
        blocks.append(f"symbol-{number:04d}\n{timestamp(start, '.')} --> {timestamp(end, '.')}\n{body}")
    return "\n\n".join(blocks) + "\n"


def write_symbols_vtt(document: Mapping[str, Any], folder: Path) -> Path:
    """`symbols.vtt` in `folder`, replaced atomically."""
    target = folder / "symbols.vtt"
    write_text(target, symbols_vtt(document))
    return target
