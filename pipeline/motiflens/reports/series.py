"""Series arcs: how each symbol travels across the episodes of a series, from the per-episode corpus tables.

Pure functions over table rows (dicts as `pyarrow.Table.to_pylist()` gives them), used by `tables.build_tables`
for the `series_symbols` and `series_episodes` tables and by the series page. A video belongs to a series when
discovery gave it a `series` and an `episode` (see `run/discovery.py`); only `ok` episodes count for symbols.

Strongest role of a symbol in an episode: the highest of its occurrences' roles there, in the order
decorative < referenced < catalyst (one catalyst occurrence makes the episode a catalyst episode).

Trajectory of a symbol over the episodes where it is present (has any occurrence), in episode order, with its
strongest role per episode; the first rule that holds wins:

1. `episodic`: present in one episode only (there is no arc to read);
2. `stays_decorative`: never named and never a catalyst (decorative in every episode);
3. `stays_referenced`: named in some episode, never a catalyst;
4. `rises`: not a catalyst in its first episode, a catalyst in its last; `first_catalyst_episode` says when;
5. `falls`: a catalyst in its first episode, not in its last;
6. `stays_catalyst`: a catalyst in its first and its last episode;
7. `episodic`: otherwise (a catalyst only in between: it flares up and fades).
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# The roles weakest to strongest: the ranking behind "strongest role" (a rule of this module, not a list order).
ROLE_ORDER = ("decorative", "referenced", "catalyst")
#: Each trajectory in a few words, for the pages (the exact rules are in the module docstring).
TRAJECTORY_RULES = {
    "rises": "not a catalyst in its first episode, a catalyst in its last",
    "stays_decorative": "never named, never a catalyst",
    "stays_referenced": "named, never a catalyst",
    "falls": "a catalyst in its first episode, not in its last",
    "stays_catalyst": "a catalyst in its first and its last episode",
    "episodic": "in one episode only, or a catalyst only in between",
}
LIST_SEPARATOR = ","
SERIES_FOLDER = "series"

Row = dict[str, Any]


def strongest_role(roles: Iterable[Any]) -> str | None:
    """The highest of `roles` in ROLE_ORDER (unknown values ignored); None when there is none."""
    ranks = [ROLE_ORDER.index(role) for role in roles if role in ROLE_ORDER]
    return ROLE_ORDER[max(ranks)] if ranks else None


def trajectory(roles: Sequence[str]) -> tuple[str, int | None]:
    """(class, index of the first catalyst episode in `roles`) for the strongest roles of the present episodes in
    episode order, by the rules of the module docstring."""
    first_catalyst = roles.index("catalyst") if "catalyst" in roles else None
    if len(roles) <= 1:
        return "episodic", first_catalyst
    if first_catalyst is None:
        return ("stays_referenced" if "referenced" in roles else "stays_decorative"), None
    starts, ends = roles[0] == "catalyst", roles[-1] == "catalyst"
    if ends and not starts:
        return "rises", first_catalyst
    if starts and not ends:
        return "falls", first_catalyst
    return ("stays_catalyst" if starts else "episodic"), first_catalyst


def series_page_name(series: str) -> str:
    """`series/<slug>-<hash>.html`: readable, unique per name, never climbing out of the run folder."""
    ascii_text = unicodedata.normalize("NFKD", series).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:40].strip("-") or "series"
    return f"{SERIES_FOLDER}/{slug}-{hashlib.sha1(series.encode('utf-8')).hexdigest()[:8]}.html"


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else 0.0


def _seconds(row: Mapping[str, Any]) -> float:
    return max(0.0, _number(row.get("end_seconds")) - _number(row.get("start_seconds")))


def _joined(values: Iterable[Any]) -> str:
    return LIST_SEPARATOR.join(str(value) for value in values)


def _counts_text(counter: Mapping[str, int]) -> str:
    return _joined(f"{key}:{count}" for key, count in sorted(counter.items()))


def series_videos(videos: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """{series: its videos in episode order (then video id)} for the videos that have a series and an episode."""
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for video in videos:
        if video.get("series") and isinstance(video.get("episode"), int):
            groups[str(video["series"])].append(video)
    return {
        name: sorted(rows, key=lambda video: (video["episode"], str(video.get("video_id"))))
        for name, rows in sorted(groups.items())
    }


def _by_video(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    grouped: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[str(row.get("video_id"))].append(row)
    return grouped


def series_rows(tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, list[Row]]:
    """`series_symbols` and `series_episodes` rows from the rows of the `videos`, `symbols`, `mentions`,
    `events` and `themes` tables."""
    symbols, mentions = _by_video(tables.get("symbols", ())), _by_video(tables.get("mentions", ()))
    events, themes = _by_video(tables.get("events", ())), _by_video(tables.get("themes", ()))
    symbol_rows: list[Row] = []
    episode_rows: list[Row] = []
    for series, videos in series_videos(tables.get("videos", ())).items():
        ok = [video for video in videos if video.get("status") == "ok"]
        per_symbol: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
        labels: dict[str, str] = {}
        for video in ok:
            video_id, episode = str(video.get("video_id")), int(video["episode"])
            for occurrence in symbols.get(video_id, ()):
                symbol_id = str(occurrence.get("symbol_id"))
                labels.setdefault(symbol_id, str(occurrence.get("label") or symbol_id))
                cell = per_symbol[symbol_id].setdefault(episode, {"roles": [], "screen": 0.0, "named": 0.0})
                cell["roles"].append(occurrence.get("role"))
                if occurrence.get("origin") == "visual":
                    cell["screen"] += _seconds(occurrence)
            for mention in mentions.get(video_id, ()):
                symbol_id = str(mention.get("symbol_id"))
                labels.setdefault(symbol_id, symbol_id)
                cell = per_symbol[symbol_id].setdefault(episode, {"roles": [], "screen": 0.0, "named": 0.0})
                cell["named"] += _seconds(mention)
            episode_events = events.get(video_id, ())
            episode_themes = themes.get(video_id, ())
            occurrences = symbols.get(video_id, ())
            catalysts = {row.get("symbol_id") for row in occurrences if row.get("role") == "catalyst"}
            episode_rows.append({
                "series": series,
                "episode": episode,
                "video_id": video_id,
                "path": video.get("path"),
                "internalization_index": video.get("internalization_index"),
                "dialogue_internalization": video.get("dialogue_internalization"),
                "n_symbols": len({row.get("symbol_id") for row in occurrences}),
                "n_catalyst_symbols": len(catalysts),
                "n_events": len(episode_events),
                "event_counts": _counts_text(Counter(str(row.get("type")) for row in episode_events)),
                "theme_counts": _counts_text(Counter(str(row.get("theme")) for row in episode_themes)),
            })
        for symbol_id, cells in per_symbol.items():
            episodes = sorted(cells)
            # A mention without an occurrence (should not happen) still counts as named, hence referenced.
            roles = [strongest_role(cells[e]["roles"]) or "referenced" for e in episodes]
            kind, first_catalyst = trajectory(roles)
            screen = [round(cells[e]["screen"], 3) for e in episodes]
            named = [round(cells[e]["named"], 3) for e in episodes]
            symbol_rows.append({
                "series": series,
                "symbol_id": symbol_id,
                "label": labels[symbol_id],
                "trajectory": kind,
                "first_episode": episodes[0],
                "last_episode": episodes[-1],
                "first_catalyst_episode": None if first_catalyst is None else episodes[first_catalyst],
                "episodes_present": len(episodes),
                "n_episodes": len(ok),
                "episode_share": round(len(episodes) / len(ok), 4),
                "catalyst_episodes": roles.count("catalyst"),
                "screen_seconds": round(sum(screen), 3),
                "named_seconds": round(sum(named), 3),
                "episodes": _joined(episodes),
                "roles": _joined(roles),
                "screen_seconds_by_episode": _joined(screen),
                "named_seconds_by_episode": _joined(named),
            })
    return {"series_symbols": symbol_rows, "series_episodes": episode_rows}
