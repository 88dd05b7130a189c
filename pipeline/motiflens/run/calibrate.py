"""`motiflens calibrate`: per-symbol thresholds fitted to a user's labelled frames, written as a taxonomy overlay.

LABELS.csv is UTF-8 with a header row and one row per judgement of one symbol on one frame:

    image,video,time_seconds,symbol_id,label
    frames/ep1-0012.jpg,,,red_lantern,1
    ,episodes/ep2.mp4,37.5,red_lantern,0

- `image`: an image file (a frame grab), or empty when the frame is given by `video` and `time_seconds`;
- `video`, `time_seconds`: a video file and the instant to take the frame from (the first frame at or after);
- `symbol_id`: an id of the run's taxonomy; `label`: 1 the symbol is visible, 0 it is not.

Paths are relative to the CSV's folder. Frames are scored exactly as in a run (same tiles, masking and
pooling; video frames get their video's layout, images are tiled whole). For every symbol with at least one
positive and one negative row, the threshold is the score that maximises F1 along scikit-learn's
precision-recall curve. Thresholds fit one model's scores: the overlay records which model and prompts.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from PIL import Image, UnidentifiedImageError

from motiflens.core.atomic import write_text
from motiflens.core.config import Config
from motiflens.core.errors import InputError, MediaError
from motiflens.core.records import Box, FrameLayout, SampledFrame, Tile, VideoSource
from motiflens.core.runfiles import read_run_json, read_timeline
from motiflens.core.taxonomy import Taxonomy
from motiflens.media.frames import FrameReader
from motiflens.media.layout import analyse_layout, square_tiles
from motiflens.media.probe import probe
from motiflens.stages.ingest import analysis_times
from motiflens.visual.engine import FrameScorer
from motiflens.visual.tiles import TileCropper
from motiflens.visual.weights import VisualWeights

COLUMNS = ("image", "video", "time_seconds", "symbol_id", "label")


@dataclass(frozen=True)
class LabelRow:
    line: int
    image: Path | None
    video: Path | None
    time_seconds: float | None
    symbol_id: str
    label: int

    @property
    def frame_key(self) -> tuple[str, float | None]:
        return (str(self.image), None) if self.image is not None else (str(self.video), self.time_seconds)


@dataclass(frozen=True)
class ThresholdFit:
    symbol_id: str
    threshold: float
    positives: int
    negatives: int
    precision: float
    recall: float
    f1: float

    def to_overlay(self) -> dict[str, Any]:
        return {
            "threshold": round(self.threshold, 4),
            "calibration": {
                "positives": self.positives,
                "negatives": self.negatives,
                "precision": round(self.precision, 4),
                "recall": round(self.recall, 4),
                "f1": round(self.f1, 4),
            },
        }


def read_labels(path: Path, taxonomy: Taxonomy) -> list[LabelRow]:
    """Parse and check LABELS.csv; every problem names its line."""
    known = set(taxonomy.ids)
    base = path.parent
    rows = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [column for column in ("symbol_id", "label") if column not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}")
            for line, record in enumerate(reader, start=2):
                rows.append(_parse_row(path, base, line, record, known))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not rows:
        raise InputError(f"{path}: no label rows")
    return rows


def _parse_row(path: Path, base: Path, line: int, record: dict[str, Any], known: set[str]) -> LabelRow:
    where = f"{path}:{line}"
    symbol_id = (record.get("symbol_id") or "").strip()
    if symbol_id not in known:
        raise InputError(f"{where}: symbol_id {symbol_id!r} is not in the taxonomy")
    label = (record.get("label") or "").strip()
    if label not in ("0", "1"):
        raise InputError(f"{where}: label must be 0 or 1, got {label!r}")
    image = (record.get("image") or "").strip()
    video = (record.get("video") or "").strip()
    time = (record.get("time_seconds") or "").strip()
    if bool(image) == bool(video):
        raise InputError(f"{where}: give either image, or video with time_seconds")
    if image:
        return LabelRow(line, base / image, None, None, symbol_id, int(label))
    try:
        seconds = float(time)
    except ValueError:
        raise InputError(f"{where}: time_seconds must be a number of seconds, got {time!r}") from None
    if seconds < 0:
        raise InputError(f"{where}: time_seconds must be >= 0, got {seconds}")
    return LabelRow(line, None, base / video, seconds, symbol_id, int(label))


def image_layout(width: int, height: int, config: Config) -> FrameLayout:
    """A still is tiled whole (no band detection on a single picture)."""
    content = Box(0, 0, width, height)
    boxes = square_tiles(content, config.tiles.overlap, config.tiles.full_frame)
    return FrameLayout(width, height, content, (), tuple(Tile(i, box) for i, box in enumerate(boxes)))


class FrameSource:
    """The frames LABELS.csv points at, each with the layout a run would give it."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.reader = FrameReader(config.frames)

    def image(self, path: Path) -> tuple[SampledFrame, FrameLayout]:
        try:
            with Image.open(path) as opened:
                pixels = np.asarray(opened.convert("RGB"))
        except (OSError, UnidentifiedImageError) as exc:
            raise InputError(f"cannot read image {path}: {exc}") from exc
        height, width = pixels.shape[:2]
        return SampledFrame(0, 0.0, pixels, 1.0), image_layout(width, height, self.config)

    def video_frames(self, path: Path, times: Iterable[float]) -> Iterable[tuple[SampledFrame, FrameLayout]]:
        try:
            info = probe(VideoSource(path=path, relative_path=path.name, video_id="calibration"))
            count = min(self.config.bands.analysis_frames, max(1, int(info.duration_seconds * 2)))
            analysis = list(self.reader.read(path, info, analysis_times(info.duration_seconds, count)))
            layout = analyse_layout(analysis, info.width, info.height, self.config.bands, self.config.tiles)
            for time in times:
                frames = self.reader.read(path, info, [time])
                try:
                    yield next(frames), layout
                finally:
                    frames.close()
        except MediaError as exc:
            raise InputError(f"cannot use video {path}: {exc}") from exc


def score_labelled_frames(
    rows: list[LabelRow], scorer: FrameScorer, source: FrameSource, mask_subtitles: bool
) -> dict[tuple[str, float | None], np.ndarray]:
    """Pooled presence scores (one per taxonomy symbol) for every distinct frame the rows refer to."""
    scores: dict[tuple[str, float | None], np.ndarray] = {}

    def run(frame: SampledFrame, layout: FrameLayout) -> np.ndarray:
        (scored,) = list(scorer.score([frame], TileCropper(layout, mask_subtitles)))
        return scored.pooled.scores

    for row in rows:
        if row.image is not None and row.frame_key not in scores:
            scores[row.frame_key] = run(*source.image(row.image))
    by_video: dict[Path, list[float]] = {}
    for row in rows:
        if row.video is not None and row.time_seconds is not None and row.frame_key not in scores:
            by_video.setdefault(row.video, []).append(row.time_seconds)
    for video, times in by_video.items():
        unique = sorted(set(times))
        for time, (frame, layout) in zip(unique, source.video_frames(video, unique), strict=True):
            scores[(str(video), time)] = run(frame, layout)
    return scores


def best_f1_threshold(symbol_id: str, labels: np.ndarray, scores: np.ndarray) -> ThresholdFit | None:
    """The score threshold with the highest F1 (predict present when score >= threshold); None without both
    classes."""
    from sklearn.metrics import precision_recall_curve

    positives = int(labels.sum())
    negatives = int(len(labels) - positives)
    if positives == 0 or negatives == 0:
        return None
    precision, recall, cutoffs = precision_recall_curve(labels, scores)
    precision, recall = precision[:-1], recall[:-1]  # the last point has no threshold
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(precision),
                   where=(precision + recall) > 0)
    best = int(f1.argmax())
    threshold = float(np.clip(cutoffs[best], 1e-4, 1 - 1e-4))  # overlays require (0, 1)
    return ThresholdFit(symbol_id, threshold, positives, negatives, float(precision[best]), float(recall[best]),
                        float(f1[best]))


def fit_thresholds(
    rows: list[LabelRow], scores: dict[tuple[str, float | None], np.ndarray], taxonomy: Taxonomy
) -> tuple[list[ThresholdFit], list[str]]:
    """Fits per symbol, and the ids that could not be fitted (only one class labelled)."""
    column = {symbol_id: index for index, symbol_id in enumerate(taxonomy.ids)}
    fits, unfitted = [], []
    for symbol_id in sorted({row.symbol_id for row in rows}):
        mine = [row for row in rows if row.symbol_id == symbol_id]
        labels = np.array([row.label for row in mine])
        values = np.array([scores[row.frame_key][column[symbol_id]] for row in mine])
        fit = best_f1_threshold(symbol_id, labels, values)
        if fit is None:
            unfitted.append(symbol_id)
        else:
            fits.append(fit)
    return fits, unfitted


def overlay_document(
    fits: list[ThresholdFit], labels_path: Path, weights: VisualWeights, taxonomy: Taxonomy, rows: int
) -> dict[str, Any]:
    digest = hashlib.sha256(labels_path.read_bytes()).hexdigest()
    return {
        "kind": "overlay",
        "version": f"calibration-{digest[:12]}",
        "description": f"Per-symbol thresholds fitted by `motiflens calibrate` on {labels_path.name} ({rows} rows).",
        "fitted_with": {
            "model": weights.card.name,
            "model_id": weights.card.id,
            "weights_sha256": weights.sha256,
            "prompt_hash": taxonomy.prompt_hash,
            "labels_sha256": digest,
        },
        "symbols": {fit.symbol_id: fit.to_overlay() for fit in fits},
    }


def write_overlay(path: Path, document: dict[str, Any]) -> None:
    header = "# Taxonomy overlay from `motiflens calibrate`; add it to visual.taxonomy after the taxonomy it fits.\n"
    write_text(path, header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True))


# ------------------------------------------------------------------------------------------------------------
# Label Studio verdicts: thresholds from humans' present/absent answers on a run's own occurrences.
#
# `motiflens calibrate --labelstudio EXPORT.json --run RUN_DIR --out overlay.yaml` reads a Label Studio JSON
# export of the tasks that `motiflens run` / `motiflens report` wrote to RUN_DIR/labelstudio/tasks.json, finds
# each judged occurrence in RUN_DIR's timelines and takes its `peak_score` (the highest presence score in it).
# Per symbol, the threshold with the best F1 of "peak_score >= threshold" against the verdicts is the fit, as
# for frames. Only visual occurrences count (a dialogue-only occurrence has no visual score), and a symbol needs
# at least `min_per_class` present and as many absent verdicts, or it is left out with the reason. The run only
# made occurrences whose (smoothed) score reached its threshold, so this fit can only tighten a threshold (fewer
# false positives); symbols the run missed need frame labels (LABELS.csv). No model is loaded.

LABELSTUDIO_MIN_PER_CLASS = 5


@dataclass(frozen=True)
class Verdict:
    """One human verdict on one visual occurrence, with the occurrence's peak presence score."""

    video_id: str
    symbol_id: str
    present: bool
    peak_score: float


@dataclass(frozen=True)
class VerdictMatch:
    verdicts: list[Verdict]
    unmatched: int
    dialogue_only: int


def _occurrence_key(video_id: Any, symbol_id: Any, start: Any, end: Any) -> tuple[str, str, float, float] | None:
    if not all(isinstance(value, int | float) and not isinstance(value, bool) for value in (start, end)):
        return None
    return (str(video_id), str(symbol_id), round(float(start), 3), round(float(end), 3))


def run_occurrences(run_dir: Path) -> dict[tuple[str, str, float, float], dict[str, Any]]:
    """Every symbol occurrence of the run's ok videos, keyed by (video id, symbol id, start, end)."""
    occurrences: dict[tuple[str, str, float, float], dict[str, Any]] = {}
    for entry in read_run_json(run_dir)["videos"]:
        if not isinstance(entry, dict) or entry.get("status") != "ok":
            continue
        document = read_timeline(run_dir, entry)
        video_id = (document.get("video") or {}).get("id", entry.get("video_id"))
        for occurrence in document.get("symbols") or []:
            key = _occurrence_key(video_id, occurrence.get("symbol_id"), occurrence.get("start_seconds"),
                                  occurrence.get("end_seconds"))
            if key is not None:
                occurrences[key] = occurrence
    return occurrences


def match_verdicts(rows: list[dict[str, Any]], run_dir: Path) -> VerdictMatch:
    """Pair each verdict row (from `read_labelstudio_export`) with its occurrence's peak score in the run."""
    occurrences = run_occurrences(run_dir)
    verdicts, unmatched, dialogue_only = [], 0, 0
    for row in rows:
        key = _occurrence_key(row["video_id"], row["symbol_id"], row["start_seconds"], row["end_seconds"])
        occurrence = occurrences.get(key) if key is not None else None
        if occurrence is None:
            unmatched += 1
            continue
        score = occurrence.get("peak_score")
        if occurrence.get("origin") == "dialogue" or isinstance(score, bool) or not isinstance(score, int | float):
            dialogue_only += 1
            continue
        verdicts.append(Verdict(str(row["video_id"]), str(row["symbol_id"]), bool(row["present"]), float(score)))
    return VerdictMatch(verdicts, unmatched, dialogue_only)


def fit_verdict_thresholds(
    verdicts: list[Verdict], min_per_class: int = LABELSTUDIO_MIN_PER_CLASS
) -> tuple[list[ThresholdFit], dict[str, str]]:
    """Best-F1 thresholds per symbol, and {symbol id: why it was left out} for the others."""
    if min_per_class < 1:
        raise InputError(f"the minimum number of verdicts per class must be >= 1, got {min_per_class}")
    fits: list[ThresholdFit] = []
    left_out: dict[str, str] = {}
    for symbol_id in sorted({verdict.symbol_id for verdict in verdicts}):
        mine = [verdict for verdict in verdicts if verdict.symbol_id == symbol_id]
        labels = np.array([1 if verdict.present else 0 for verdict in mine])
        positives, negatives = int(labels.sum()), int(len(labels) - labels.sum())
        if positives < min_per_class or negatives < min_per_class:
            left_out[symbol_id] = (
                f"needs at least {min_per_class} present and {min_per_class} absent verdicts, "
                f"has {positives} present / {negatives} absent"
            )
            continue
        fit = best_f1_threshold(symbol_id, labels, np.array([verdict.peak_score for verdict in mine]))
        if fit is not None:
            fits.append(fit)
    return fits, left_out


def labelstudio_overlay_document(
    fits: list[ThresholdFit], export_path: Path, run_dir: Path, verdicts: int
) -> dict[str, Any]:
    """The taxonomy overlay for thresholds fitted to Label Studio verdicts on the run in `run_dir`."""
    run = read_run_json(run_dir)
    digest = hashlib.sha256(export_path.read_bytes()).hexdigest()
    visual = (run.get("models") or {}).get("visual") or {}
    return {
        "kind": "overlay",
        "version": f"calibration-{digest[:12]}",
        "description": f"Per-symbol thresholds fitted by `motiflens calibrate --labelstudio` on {export_path.name} "
        f"({verdicts} verdicts on visual occurrences of the run {run_dir.name}).",
        "fitted_with": {
            "source": "label studio verdicts on occurrence peak scores",
            "model": visual.get("card"),
            "model_id": visual.get("id"),
            "weights_sha256": visual.get("sha256"),
            "taxonomy_hash": visual.get("taxonomy_hash"),
            "run_config_hash": run.get("config_hash"),
            "export_sha256": digest,
        },
        "symbols": {fit.symbol_id: fit.to_overlay() for fit in fits},
    }


def calibrate_from_labelstudio(
    export_path: Path, run_dir: Path, out_path: Path, min_per_class: int = LABELSTUDIO_MIN_PER_CLASS
) -> tuple[list[ThresholdFit], dict[str, str], VerdictMatch]:
    """Read the export, match it to the run, fit, write the overlay; InputError when nothing can be fitted."""
    from motiflens.reports.labelstudio import read_labelstudio_export

    rows = read_labelstudio_export(export_path)
    if not rows:
        raise InputError(f"{export_path}: no submitted present/absent verdicts in this export")
    match = match_verdicts(rows, run_dir)
    if not match.verdicts:
        raise InputError(
            f"{export_path}: none of its {len(rows)} verdicts is on a visual occurrence of {run_dir} "
            f"({match.unmatched} match no occurrence of that run, {match.dialogue_only} are on dialogue-only "
            "occurrences, which have no visual score)"
        )
    fits, left_out = fit_verdict_thresholds(match.verdicts, min_per_class)
    if not fits:
        reasons = "; ".join(f"{symbol_id}: {reason}" for symbol_id, reason in left_out.items())
        raise InputError(f"{export_path}: no symbol could be fitted ({reasons})")
    write_overlay(out_path, labelstudio_overlay_document(fits, export_path, run_dir, len(match.verdicts)))
    return fits, left_out, match
