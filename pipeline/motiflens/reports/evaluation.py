"""`motiflens evaluate RUN_DIR GOLD`: agreement between a run and a researcher's own coding of some episodes.

GOLD is a CSV file (UTF-8, a BOM from Excel is fine; comma-, semicolon- or tab-separated), one coded unit a row:

    column         kinds           value
    video          all             the video: its id in the run (`lantern-vow-9c595c63`), its path as given to
                                   `motiflens run` (`episodes/lantern_vow.mp4`), its file name (`lantern_vow.mp4`)
                                   or its file stem (`lantern_vow`); a name that fits two videos is an error
    kind           all             mention | event | role | none
    start_seconds  mention event role   start of the span: seconds (12.5) or [H:]MM:SS(.s) (0:12.5)
    end_seconds    mention event role   end of the span (>= start)
    symbol_id      mention role    taxonomy id of the symbol (`red_lantern`)
    event_type     event           confrontation | humiliation | reversal | revelation | vow | betrayal | rescue |
                                   confession | reconciliation | loss
    role           role            decorative | referenced | catalyst
    note           all (optional)  free text, ignored; any other column is ignored too

A `mention` row is a span in which the dialogue (speech or burned-in subtitles) names a symbol; an `event` row a plot
event; a `role` row one occurrence of a symbol (on screen or named) with the role it plays in the story. A `none`
row (video and kind only) declares a video coded that has nothing to code, so the run's items there count as
false positives. Columns that do not belong to a row's kind must be empty (a `role` row may give the `event_type` its
catalyst drives; it is not scored). Bad rows raise InputError naming the row
(as a spreadsheet numbers it: the header is row 1) and the column; all bad rows are listed at once.

Scope: every video named in the gold is taken as fully coded for every kind the gold uses anywhere (a coded video
with no event rows, in a gold that has event rows elsewhere, says "no events here"). Gold videos missing from the
run, or not `ok` in it, are reported and left out of every number.

GOLD may also be a Label Studio JSON export of RUN_DIR/labelstudio/tasks.json annotated with the role choice of
`labelstudio_config()`: each task judged `present` with a role is a gold `role` row; only roles are evaluated then,
and since the tasks are the run's own occurrences, such gold measures role agreement, not detection.

Matching, per video, with tolerance T seconds (--tolerance, default 1.0):
- mentions: a predicted mention (timeline `mentions[]`) of the same symbol is a candidate for a gold mention when
  its span overlaps the gold span widened by T on both sides; pairs are made one to one, greedily, closest span
  midpoints first (ties: earlier gold row, then earlier prediction). Counts per symbol give precision, recall, F1;
  micro sums the counts over symbols, macro averages the per-symbol values where they are defined.
- events: the same with `events[]` and `type` = event_type (per type), and once more ignoring the type.
- roles: each gold role row takes the predicted occurrence (`symbols[]`) of the same symbol whose span overlaps the
  widened gold span most (ties: closest midpoint); several gold rows may take the same occurrence. No candidate:
  predicted role `missing`. Occurrences taken by no gold row are counted per role as unmatched predictions. Cohen's
  kappa and Krippendorff's alpha (nominal) with percentile bootstrap intervals over units are computed over the
  matched pairs, and separately over all gold rows with `missing` as a category.

The report is JSON (RUN_DIR/evaluation/evaluation.json unless --json says otherwise) and Markdown beside it (same
name, .md), which is also printed. Nothing in either depends on the clock, so a rerun is byte-identical.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from motiflens.core.agreement import bootstrap_ci, cohen_kappa, confusion, krippendorff_alpha_nominal, prf
from motiflens.core.atomic import dumps_json, write_text
from motiflens.core.errors import InputError
from motiflens.core.runfiles import read_run_json, read_timeline

EVALUATION_VERSION = "1"
KINDS = ("mention", "event", "role", "none")
ROLES = ("decorative", "referenced", "catalyst")
MISSING = "missing"
REQUIRED_COLUMNS = ("video", "kind", "start_seconds", "end_seconds")
# Which value columns each kind needs; the others must be empty, except OPTIONAL_FIELDS.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "mention": ("start_seconds", "end_seconds", "symbol_id"),
    "event": ("start_seconds", "end_seconds", "event_type"),
    "role": ("start_seconds", "end_seconds", "symbol_id", "role"),
    "none": (),
}
VALUE_COLUMNS = ("start_seconds", "end_seconds", "symbol_id", "event_type", "role")
#: A catalyst role row may name the event type it drives (documentation for the reader; not scored).
OPTIONAL_FIELDS: dict[str, tuple[str, ...]] = {"role": ("event_type",)}
MAX_LISTED_ERRORS = 20
DEFAULT_TOLERANCE = 1.0
DEFAULT_RESAMPLES = 2000
CONFIDENCE_LEVEL = 0.95
ALPHA_RELIABLE, ALPHA_TENTATIVE = 0.800, 0.667


def event_types() -> tuple[str, ...]:
    """The event types of timeline schema version 1."""
    text = resources.files("motiflens").joinpath("schemas/timeline.schema.json").read_text(encoding="utf-8")
    return tuple(json.loads(text)["$defs"]["event_type"]["enum"])


# ------------------------------------------------------------------------------------------------------------
# Gold


@dataclass(frozen=True)
class GoldRow:
    """One coded unit. `row` is the spreadsheet row of a CSV (header = 1) or the task index of an export."""

    row: int
    video: str
    kind: str
    start: float
    end: float
    symbol_id: str | None = None
    event_type: str | None = None
    role: str | None = None


@dataclass
class Gold:
    path: Path
    format: str  # "csv" | "labelstudio"
    rows: list[GoldRow]
    videos: list[str]  # every coded video, as the gold names it, in order of first appearance
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def unit(self) -> str:
        return "row" if self.format == "csv" else "task"

    def kinds(self) -> set[str]:
        return {row.kind for row in self.rows}


_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")


def parse_seconds(text: str) -> float:
    """Seconds from `12.5`, `0:12.5`, `01:02:03.5`; ValueError with the reason otherwise."""
    clock = _CLOCK.match(text)
    if clock:
        hours, minutes, seconds = int(clock.group(1) or 0), int(clock.group(2)), float(clock.group(3))
        if minutes >= 60 or seconds >= 60:
            raise ValueError(f"{text!r} is not a valid [H:]MM:SS time")
        return hours * 3600 + minutes * 60 + seconds
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number of seconds (write 12.5 or 0:12.5, with a dot)") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{text!r} must be a finite number of seconds >= 0")
    return value


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    if "," not in header:
        for candidate in (";", "\t"):
            if candidate in header:
                return candidate
    return ","


def read_gold_csv(path: Path) -> Gold:
    """The gold CSV at `path` (columns in the module docstring); InputError listing every bad row and column."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read the gold CSV (UTF-8 expected): {error}") from None
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)))
    while records and not any(cell.strip() for cell in records[0]):
        records.pop(0)  # leading blank lines
    if not records:
        raise InputError(f"{path}: the gold CSV is empty (expected a header row: {', '.join(REQUIRED_COLUMNS)}, ...)")
    header = [name.strip().lower() for name in records[0]]
    duplicated = sorted({name for name in header if name and header.count(name) > 1})
    if duplicated:
        raise InputError(f"{path}: row 1 (header) names column(s) {', '.join(duplicated)} more than once")
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise InputError(f"{path}: row 1 (header) lacks column(s) {', '.join(missing)}; a gold CSV needs "
                         f"{', '.join(REQUIRED_COLUMNS)}, plus symbol_id, event_type and role as its kinds require")
    column = {name: index for index, name in enumerate(header) if name}
    rows: list[GoldRow] = []
    errors: list[str] = []
    videos: dict[str, None] = {}
    types = event_types()
    for number, cells in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        row_errors: list[str] = []

        def bad(name: str, problem: str, row_errors: list[str] = row_errors, number: int = number) -> None:
            row_errors.append(f"row {number}, column {name}: {problem}")

        if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header):]):
            row_errors.append(f"row {number}: {len(cells)} cells but the header names {len(header)} columns")

        def value(name: str, cells: list[str] = cells) -> str:
            index = column.get(name)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        video = value("video")
        if not video:
            bad("video", "empty; name the video by id, file name or file stem")
        kind = value("kind").lower()
        if kind not in KINDS:
            bad("kind", f"{value('kind')!r} is not one of {' | '.join(KINDS)}")
        else:
            needed = KIND_FIELDS[kind]
            for name in VALUE_COLUMNS:
                if name in needed and name not in column:
                    bad(name, f"the column is missing from the header; kind {kind!r} needs it")
                elif name in needed and not value(name):
                    bad(name, f"empty; kind {kind!r} needs it")
                elif name not in needed and name not in OPTIONAL_FIELDS.get(kind, ()) and value(name):
                    bad(name, f"must be empty for kind {kind!r} (got {value(name)!r})")
        times: dict[str, float] = {}
        for name in ("start_seconds", "end_seconds"):
            if kind in KIND_FIELDS and name in KIND_FIELDS[kind] and value(name):
                try:
                    times[name] = parse_seconds(value(name))
                except ValueError as error:
                    bad(name, str(error))
        if len(times) == 2 and times["end_seconds"] < times["start_seconds"]:
            bad("end_seconds", f"{value('end_seconds')} is before start_seconds {value('start_seconds')}")
        event_type = value("event_type").lower() if kind in ("event", "role") else ""
        if event_type and event_type not in types:
            bad("event_type", f"{value('event_type')!r} is not one of {' | '.join(types)}")
        role = value("role").lower() if kind == "role" else ""
        if role and role not in ROLES:
            bad("role", f"{value('role')!r} is not one of {' | '.join(ROLES)}")
        if row_errors:
            errors.extend(row_errors)
            continue
        videos[video] = None
        if kind != "none":
            rows.append(GoldRow(number, video, kind, times["start_seconds"], times["end_seconds"],
                                symbol_id=value("symbol_id") or None, event_type=event_type or None,
                                role=role or None))
    if errors:
        shown = errors[:MAX_LISTED_ERRORS]
        more = f"\n  ... and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
        raise InputError(f"{path}: {len(errors)} problem(s) in the gold CSV:\n  " + "\n  ".join(shown) + more)
    if not videos:
        raise InputError(f"{path}: the gold CSV has a header but no rows")
    return Gold(path, "csv", rows, list(videos))


def read_gold(path: Path) -> Gold:
    """A gold CSV, or a Label Studio JSON export (`.json`) whose tasks carry the role choice."""
    if path.suffix.lower() != ".json":
        return read_gold_csv(path)
    from motiflens.reports.labelstudio import read_labelstudio_roles

    found, summary = read_labelstudio_roles(path)
    if not summary["annotated"]:
        raise InputError(f"{path}: no task of this Label Studio export has a submitted annotation")
    rows = [GoldRow(row["task"], row["video_id"], "role", row["start_seconds"], row["end_seconds"],
                    symbol_id=row["symbol_id"], role=row["role"]) for row in found]
    if not rows:
        raise InputError(f"{path}: no annotated task is judged present with a role ({summary['absent']} absent, "
                         f"{summary['present_without_role']} present without a role); choose a role in the "
                         "labeling config's role question (motiflens report rewrites labelstudio/config.xml)")
    source = {key: value for key, value in summary.items() if key != "videos"}
    return Gold(path, "labelstudio", rows, list(summary["videos"]), source)


# ------------------------------------------------------------------------------------------------------------
# The run


@dataclass(frozen=True)
class Item:
    """A predicted item: its label (symbol id or event type), span, role (occurrences) and index in the timeline."""

    label: str
    start: float
    end: float
    index: int
    role: str | None = None


def _resolve_videos(gold: Gold, run_dir: Path, run: Mapping[str, Any]) -> dict[str, dict[str, Any] | None]:
    """Each gold video name → its run.json entry (None: not in the run). Ids first, then paths, names, stems."""
    entries = [entry for entry in run["videos"] if isinstance(entry, dict) and entry.get("video_id")]

    def keys(entry: Mapping[str, Any]) -> tuple[set[str], ...]:
        path = str(entry.get("path") or "")
        name = path.replace("\\", "/").rsplit("/", 1)[-1]
        return {str(entry["video_id"])}, {path}, {name}, {Path(name).stem} if name else set()

    resolved: dict[str, dict[str, Any] | None] = {}
    for video in gold.videos:
        resolved[video] = None
        for level in range(4):
            found = [entry for entry in entries if video in keys(entry)[level]]
            if len(found) > 1:
                rows = [row.row for row in gold.rows if row.video == video][:5]
                where = f" ({gold.unit}s {', '.join(map(str, rows))})" if rows else ""
                raise InputError(f"{gold.path}: video {video!r}{where} fits several videos of {run_dir}: "
                                 f"{', '.join(str(entry['video_id']) for entry in found)}; name it by its id")
            if found:
                resolved[video] = found[0]
                break
    return resolved


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _items(document: Mapping[str, Any], key: str, label_key: str, where: str) -> list[Item]:
    items = []
    for index, entry in enumerate(document.get(key) or []):
        start = _number(entry.get("start_seconds")) if isinstance(entry, Mapping) else None
        end = _number(entry.get("end_seconds")) if isinstance(entry, Mapping) else None
        if start is None or end is None or not isinstance(entry.get(label_key), str):
            raise InputError(f"{where}: {key}[{index}] lacks {label_key}, start_seconds or end_seconds")
        role = entry.get("role") if key == "symbols" else None
        items.append(Item(entry[label_key], start, end, index, role if isinstance(role, str) else None))
    return items


# ------------------------------------------------------------------------------------------------------------
# Matching


def _overlaps(gold: GoldRow, item: Item, tolerance: float) -> bool:
    return item.start <= gold.end + tolerance and item.end >= gold.start - tolerance


def _overlap(gold: GoldRow, item: Item, tolerance: float) -> float:
    return min(item.end, gold.end + tolerance) - max(item.start, gold.start - tolerance)


def _distance(gold: GoldRow, item: Item) -> float:
    return abs((gold.start + gold.end) / 2.0 - (item.start + item.end) / 2.0)


def greedy_match(gold: Sequence[GoldRow], items: Sequence[Item], tolerance: float) -> dict[int, int]:
    """One-to-one pairs {gold position: item position} of overlapping (tolerance-widened) spans, closest first."""
    candidates = sorted(
        (_distance(row, item), g, p)
        for g, row in enumerate(gold)
        for p, item in enumerate(items)
        if _overlaps(row, item, tolerance)
    )
    pairs: dict[int, int] = {}
    taken: set[int] = set()
    for _, g, p in candidates:
        if g not in pairs and p not in taken:
            pairs[g] = p
            taken.add(p)
    return pairs


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _scores(tp: int, fp: int, fn: int) -> dict[str, Any]:
    precision, recall, f1 = prf(tp, fp, fn)
    return {"tp": tp, "fp": fp, "fn": fn, "precision": _round(precision), "recall": _round(recall), "f1": _round(f1)}


def _mean(values: Iterable[float | None]) -> float | None:
    defined = [value for value in values if value is not None]
    return _round(sum(defined) / len(defined)) if defined else None


def _span(row: GoldRow | Item) -> dict[str, float]:
    return {"start_seconds": row.start, "end_seconds": row.end}


@dataclass
class _Detection:
    """Counts and audit lists of one detection task (mentions or events) while videos are added."""

    counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    matches: list[dict[str, Any]] = field(default_factory=list)
    false_positives: list[dict[str, Any]] = field(default_factory=list)
    agnostic: Counter[str] = field(default_factory=Counter)

    def add(self, video_id: str, gold: list[GoldRow], items: list[Item], tolerance: float, label_name: str,
            gold_label: Callable[[GoldRow], str]) -> None:
        for label in sorted({gold_label(row) for row in gold} | {item.label for item in items}):
            mine = [row for row in gold if gold_label(row) == label]
            theirs = [item for item in items if item.label == label]
            pairs = greedy_match(mine, theirs, tolerance)
            counts = self.counts[label]
            counts["gold"] += len(mine)
            counts["predicted"] += len(theirs)
            counts["tp"] += len(pairs)
            counts["fn"] += len(mine) - len(pairs)
            counts["fp"] += len(theirs) - len(pairs)
            for g, row in enumerate(mine):
                matched = theirs[pairs[g]] if g in pairs else None
                self.matches.append({"row": row.row, "video_id": video_id, label_name: label, **_span(row),
                                     "predicted": None if matched is None else _span(matched)})
            used = set(pairs.values())
            self.false_positives.extend(
                {"video_id": video_id, label_name: label, **_span(item)}
                for p, item in enumerate(theirs) if p not in used
            )

    def add_agnostic(self, gold: list[GoldRow], items: list[Item], tolerance: float) -> None:
        pairs = greedy_match(gold, items, tolerance)
        self.agnostic["tp"] += len(pairs)
        self.agnostic["fn"] += len(gold) - len(pairs)
        self.agnostic["fp"] += len(items) - len(pairs)

    def result(self, per: str) -> dict[str, Any]:
        per_label = {
            label: {"gold": counts["gold"], "predicted": counts["predicted"],
                    **_scores(counts["tp"], counts["fp"], counts["fn"])}
            for label, counts in sorted(self.counts.items())
        }
        total = Counter[str]()
        for counts in self.counts.values():
            total.update(counts)
        micro = _scores(total["tp"], total["fp"], total["fn"])
        macro = {name: _mean(scores[name] for scores in per_label.values()) for name in ("precision", "recall", "f1")}
        macro["labels"] = len(per_label)
        self.matches.sort(key=lambda match: match["row"])
        return {"gold": total["gold"], "predicted": total["predicted"], "micro": micro, "macro": macro,
                per: per_label, "matches": self.matches, "false_positives": self.false_positives}


def _role_statistics(gold: list[str], predicted: list[str], resamples: int, seed: int) -> dict[str, Any]:
    n = len(gold)
    accuracy = sum(1 for a, b in zip(gold, predicted, strict=True) if a == b) / n if n else None

    def with_ci(statistic: Callable[[Sequence[str], Sequence[str]], float | None]) -> dict[str, Any]:
        low, high = bootstrap_ci(gold, predicted, statistic, resamples=resamples, level=CONFIDENCE_LEVEL, seed=seed)
        return {"value": _round(statistic(gold, predicted)), "ci": [_round(low), _round(high)]}

    return {"n": n, "accuracy": _round(accuracy), "cohen_kappa": with_ci(cohen_kappa),
            "krippendorff_alpha": with_ci(krippendorff_alpha_nominal)}


# ------------------------------------------------------------------------------------------------------------
# The evaluation


def evaluate_run(
    run_dir: Path,
    gold_path: Path,
    tolerance: float = DEFAULT_TOLERANCE,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> dict[str, Any]:
    """The evaluation report (a JSON-ready dict) of the run in `run_dir` against the gold at `gold_path`."""
    if not math.isfinite(tolerance) or tolerance < 0:
        raise InputError(f"the tolerance must be a finite number of seconds >= 0, got {tolerance}")
    if resamples < 1:
        raise InputError(f"the number of bootstrap resamples must be >= 1, got {resamples}")
    run = read_run_json(run_dir)
    gold = read_gold(gold_path)
    resolved = _resolve_videos(gold, run_dir, run)
    if not any(resolved.values()):
        shown = ", ".join(repr(video) for video in gold.videos[:5]) + (", ..." if len(gold.videos) > 5 else "")
        raise InputError(f"{gold_path}: none of its {len(gold.videos)} video(s) ({shown}) is a video of {run_dir}; "
                         "name videos by id, path, file name or file stem as in its run.json")

    rows_by_video: dict[str, list[GoldRow]] = defaultdict(list)
    evaluated: list[dict[str, Any]] = []
    not_evaluated: list[dict[str, Any]] = []
    entries: dict[str, dict[str, Any]] = {}
    names: dict[str, list[str]] = defaultdict(list)
    for video in gold.videos:
        entry = resolved[video]
        count = sum(1 for row in gold.rows if row.video == video)
        if entry is None or entry.get("status") != "ok":
            reason = "not in the run" if entry is None else str(entry.get("status"))
            error = str(entry.get("error") or "").splitlines()[0] if entry is not None and entry.get("error") else None
            not_evaluated.append({"video": video, "video_id": None if entry is None else entry["video_id"],
                                  "status": reason, "error": error, "gold_units": count})
            continue
        video_id = str(entry["video_id"])
        if video_id not in entries:
            entries[video_id] = entry
            evaluated.append({"video_id": video_id, "gold_names": names[video_id], "gold_units": 0})
        names[video_id].append(video)
        next(item for item in evaluated if item["video_id"] == video_id)["gold_units"] += count
        rows_by_video[video_id].extend(row for row in gold.rows if row.video == video)

    kinds = gold.kinds()
    mentions, events, agnostic_events = _Detection(), _Detection(), _Detection()
    role_units: list[dict[str, Any]] = []
    unmatched: Counter[str] = Counter()
    shared = 0
    seen_symbols: set[str] = set()
    for video_id, entry in entries.items():
        document = read_timeline(run_dir, entry)
        where = f"timeline.json of {video_id}"
        seen_symbols.update(item.label for key in ("mentions", "symbols")
                            for item in _items(document, key, "symbol_id", where))
        rows = sorted(rows_by_video[video_id], key=lambda row: row.row)
        if "mention" in kinds:
            mentions.add(video_id, [row for row in rows if row.kind == "mention"],
                         _items(document, "mentions", "symbol_id", where), tolerance, "symbol_id",
                         lambda row: str(row.symbol_id))
        if "event" in kinds:
            gold_events = [row for row in rows if row.kind == "event"]
            predicted_events = _items(document, "events", "type", where)
            events.add(video_id, gold_events, predicted_events, tolerance, "event_type",
                       lambda row: str(row.event_type))
            agnostic_events.add_agnostic(gold_events, predicted_events, tolerance)
        if "role" in kinds:
            occurrences = _items(document, "symbols", "symbol_id", where)
            taken: Counter[int] = Counter()
            for row in (row for row in rows if row.kind == "role"):
                candidates = [item for item in occurrences
                              if item.label == row.symbol_id and _overlaps(row, item, tolerance)]
                best = min(candidates, key=lambda item: (-_overlap(row, item, tolerance), _distance(row, item),
                                                         item.index), default=None)
                if best is not None:
                    taken[best.index] += 1
                role_units.append({"row": row.row, "video_id": video_id, "symbol_id": row.symbol_id, **_span(row),
                                   "gold": row.role, "predicted": MISSING if best is None else best.role or MISSING,
                                   "predicted_span": None if best is None else _span(best)})
            shared += sum(1 for times in taken.values() if times > 1)
            unmatched.update(item.role or MISSING for item in occurrences if item.index not in taken)

    report: dict[str, Any] = {
        "evaluation_version": EVALUATION_VERSION,
        "run": {"dir": str(run_dir), "config_hash": run.get("config_hash"),
                "package_version": run.get("package_version")},
        "gold": {"path": str(gold_path), "sha256": hashlib.sha256(gold_path.read_bytes()).hexdigest(),
                 "format": gold.format, "units": len(gold.rows),
                 "units_by_kind": {kind: sum(1 for row in gold.rows if row.kind == kind)
                                   for kind in KINDS if kind != "none"},
                 "videos": len({str(entry["video_id"]) if entry is not None else f"name:{video}"
                                for video, entry in resolved.items()}),
                 # Gold symbol ids that no evaluated timeline has: a typo, or symbols the run misses altogether.
                 "symbols_never_in_the_run": sorted({str(row.symbol_id) for video_id in entries
                                                     for row in rows_by_video[video_id] if row.symbol_id}
                                                    - seen_symbols),
                 **({"labelstudio": gold.source} if gold.source else {})},
        "settings": {"tolerance_seconds": tolerance,
                     "bootstrap": {"resamples": resamples, "level": CONFIDENCE_LEVEL, "seed": seed,
                                   "method": "percentile; units resampled with replacement"}},
        "videos": {"evaluated": evaluated, "not_evaluated": not_evaluated},
        "mentions": mentions.result("per_symbol") if "mention" in kinds else None,
        "events": None,
        "roles": None,
    }
    if "event" in kinds:
        report["events"] = events.result("per_type")
        report["events"]["type_agnostic"] = _scores(agnostic_events.agnostic["tp"], agnostic_events.agnostic["fp"],
                                                     agnostic_events.agnostic["fn"])
    if "role" in kinds:
        role_units.sort(key=lambda unit: unit["row"])
        gold_roles = [unit["gold"] for unit in role_units]
        predicted_roles = [unit["predicted"] for unit in role_units]
        pairs = [(g, p) for g, p in zip(gold_roles, predicted_roles, strict=True) if p != MISSING]
        matrix = confusion(gold_roles, predicted_roles, (*ROLES, MISSING))
        report["roles"] = {
            "labels": list(ROLES),
            "gold": len(role_units),
            "matched": len(pairs),
            "missing": len(role_units) - len(pairs),
            "confusion": {role: matrix[role] for role in ROLES},
            "matched_pairs": _role_statistics([g for g, _ in pairs], [p for _, p in pairs], resamples, seed),
            "all_gold": _role_statistics(gold_roles, predicted_roles, resamples, seed),
            "unmatched_predictions": {role: unmatched[role] for role in (*ROLES, MISSING) if unmatched[role]},
            "predictions_taken_by_several_gold_units": shared,
            "units": role_units,
        }
    return report


def write_evaluation(report: Mapping[str, Any], json_path: Path) -> tuple[Path, str]:
    """Write the JSON and, beside it, the Markdown (same name, .md); returns the Markdown's path and text."""
    markdown = render_markdown(report)
    markdown_path = json_path.with_suffix(".md")
    write_text(json_path, dumps_json(report))
    write_text(markdown_path, markdown)
    return markdown_path, markdown


# ------------------------------------------------------------------------------------------------------------
# Markdown


def _f(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _ci(statistic: Mapping[str, Any]) -> str:
    low, high = statistic["ci"]
    interval = "" if low is None else f" [{low:.3f}, {high:.3f}]"
    return _f(statistic["value"]) + interval


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    rule = "|" + "|".join(" --- " if i == 0 else " ---: " for i in range(len(header))) + "|"
    lines = ["| " + " | ".join(header) + " |", rule]
    lines.extend("| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows)
    return lines


def _detection_section(section: Mapping[str, Any], per: str, what: str) -> list[str]:
    header = [what, "gold", "predicted", "TP", "FP", "FN", "precision", "recall", "F1"]
    rows = [[f"`{label}`", s["gold"], s["predicted"], s["tp"], s["fp"], s["fn"], _f(s["precision"]),
             _f(s["recall"]), _f(s["f1"])] for label, s in section[per].items()]
    micro, macro = section["micro"], section["macro"]
    rows.append(["**micro** (all counts)", section["gold"], section["predicted"], micro["tp"], micro["fp"],
                 micro["fn"], _f(micro["precision"]), _f(micro["recall"]), _f(micro["f1"])])
    rows.append([f"**macro** (mean of {macro['labels']})", "", "", "", "", "", _f(macro["precision"]),
                 _f(macro["recall"]), _f(macro["f1"])])
    return _table(header, rows)


def render_markdown(report: Mapping[str, Any]) -> str:
    """The human-readable report: what was compared, the tables, and how to read them."""
    settings, gold, videos = report["settings"], report["gold"], report["videos"]
    tolerance, boot = settings["tolerance_seconds"], settings["bootstrap"]
    level = f"{boot['level'] * 100:g}%"
    kinds = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in gold["units_by_kind"].items() if n)
    origin = "CSV file" if gold["format"] == "csv" else "Label Studio export"
    lines = [
        f"# Agreement of run `{report['run']['dir']}` with gold `{Path(gold['path']).name}`",
        "",
        f"Gold: {gold['units']} coded units ({kinds}) in {gold['videos']} video(s), from a {origin} "
        f"(sha256 `{gold['sha256'][:12]}`). Evaluated: {len(videos['evaluated'])} video(s). "
        f"Time tolerance ±{tolerance:g} s; {level} intervals: percentile bootstrap over units, "
        f"{boot['resamples']} resamples, seed {boot['seed']}.",
    ]
    if gold.get("labelstudio"):
        source = gold["labelstudio"]
        lines += ["", f"Label Studio: {source['tasks']} tasks, {source['annotated']} annotated; {source['absent']} "
                  f"judged absent and {source['present_without_role']} present without a role are not gold units."]
    if gold["symbols_never_in_the_run"]:
        never = ", ".join(f"`{symbol}`" for symbol in gold["symbols_never_in_the_run"])
        lines += ["", f"Gold symbol ids that no evaluated video of the run has (a typo, or symbols the run misses "
                  f"altogether): {never}."]
    if videos["not_evaluated"]:
        lines += ["", "Not evaluated (left out of every number):", ""]
        for video in videos["not_evaluated"]:
            status = "not in the run" if video["video_id"] is None else f"`{video['video_id']}` is {video['status']}"
            error = f" ({video['error']})" if video.get("error") else ""
            lines.append(f"- `{video['video']}`: {status}{error}; {video['gold_units']} gold unit(s)")

    if report["mentions"] is not None:
        lines += ["", "## Symbol mentions in the dialogue", ""]
        lines += _detection_section(report["mentions"], "per_symbol", "symbol")
    if report["events"] is not None:
        events = report["events"]
        agnostic = events["type_agnostic"]
        lines += ["", "## Plot events", ""]
        lines += _detection_section(events, "per_type", "event type")
        lines += ["", f"Type-agnostic (a run event of any type matches): TP {agnostic['tp']}, FP {agnostic['fp']}, "
                  f"FN {agnostic['fn']}; precision {_f(agnostic['precision'])}, recall {_f(agnostic['recall'])}, "
                  f"F1 {_f(agnostic['f1'])}."]
    if report["roles"] is not None:
        roles = report["roles"]
        columns = [*roles["labels"], MISSING]
        lines += ["", "## Symbol roles", "", "Confusion matrix (rows: gold, columns: run):", ""]
        matrix_rows = [[f"**{role}**", *(roles["confusion"][role][c] for c in columns),
                        sum(roles["confusion"][role].values())] for role in roles["labels"]]
        matrix_rows.append(["**total**", *(sum(roles["confusion"][r][c] for r in roles["labels"]) for c in columns),
                            roles["gold"]])
        lines += _table(["gold \\ run", *columns, "total"], matrix_rows)
        lines += ["", f"Agreement ({level} CI):", ""]
        agreement_rows = [
            [label, s["n"], _f(s["accuracy"]), _ci(s["cohen_kappa"]), _ci(s["krippendorff_alpha"])]
            for label, s in (("matched pairs", roles["matched_pairs"]),
                             ("all gold units (`missing` a category)", roles["all_gold"]))
        ]
        lines += _table(["units", "n", "accuracy", "Cohen's κ", "Krippendorff's α (nominal)"], agreement_rows)
        unmatched = roles["unmatched_predictions"]
        listed = ", ".join(f"{role} {n}" for role, n in unmatched.items()) or "none"
        lines += ["", f"Run occurrences that no gold unit matched: {sum(unmatched.values())} ({listed})."]
        if roles["predictions_taken_by_several_gold_units"]:
            lines.append(f"Run occurrences matched by more than one gold unit: "
                         f"{roles['predictions_taken_by_several_gold_units']}.")

    lines += ["", "## How to read this", "", _how_to_read(report), ""]
    return "\n".join(lines)


def _how_to_read(report: Mapping[str, Any]) -> str:
    tolerance = report["settings"]["tolerance_seconds"]
    boot = report["settings"]["bootstrap"]
    return (
        "The run is treated as a second coder and compared with the gold coding, video by video; only videos named "
        "in the gold count, each as fully coded. Units of analysis: a gold mention (a span in which the dialogue "
        "names a symbol), a gold plot event (a span and its type) and a gold symbol occurrence with its role. "
        f"A run item matches a gold unit of the same symbol (event type) when its span overlaps the gold span "
        f"widened by ±{tolerance:g} s; pairs are one to one, closest midpoints first. Precision is the share of "
        "the run's items that match a gold unit, recall the share of gold units the run found, F1 their harmonic "
        "mean; micro pools the counts of all symbols (types), macro averages the per-symbol (per-type) values. "
        "Each gold role is compared with the role of the run occurrence of the same symbol that overlaps it most; "
        f"`{MISSING}` means the run has no such occurrence. Cohen's κ and Krippendorff's α treat the roles as "
        "nominal categories: over matched pairs they say whether the run assigns the coder's role when both see "
        f"the symbol; over all gold units, with `{MISSING}` as a category, how far the whole pipeline reproduces "
        f"the coding. By convention α ≥ {ALPHA_RELIABLE:.3f} supports reliable coding and α ≥ {ALPHA_TENTATIVE:.3f} "
        "only tentative conclusions (Krippendorff 2004, *Content Analysis*, 2nd ed.); report α with its interval "
        f"and n. Intervals are {boot['level'] * 100:g}% percentile bootstrap intervals from {boot['resamples']} "
        "resamples of units; units of one episode are not independent, so with few episodes the intervals are "
        "too narrow. A dash marks a value that is undefined (no units, or a single category)."
    )
