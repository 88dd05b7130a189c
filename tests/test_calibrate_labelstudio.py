"""`motiflens calibrate --labelstudio EXPORT --run RUN`: thresholds from human verdicts on a run's occurrences.

The run is synthetic: one video whose timeline holds visual red_lantern occurrences with peak scores from 0.50 to
0.72 and a few dumplings ones; the export is made from the run's own Label Studio tasks, with annotations that
say `present` exactly when the peak is at least 0.60, so the best-F1 threshold is known.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from motiflens.cli.main import cli
from motiflens.cli.support import EXIT_CONFIG, EXIT_INPUT, EXIT_OK
from motiflens.core.taxonomy import load_taxonomy, taxonomy_paths
from motiflens.reports.labelstudio import to_labelstudio_tasks
from motiflens.run.calibrate import fit_verdict_thresholds, match_verdicts
from report_helpers import make_timeline

RED_PEAKS = [0.50, 0.52, 0.55, 0.57, 0.58, 0.60, 0.62, 0.65, 0.68, 0.72]
TRUE_THRESHOLD = 0.60


def _timeline() -> dict[str, Any]:
    document = make_timeline()
    visual, _, dialogue = document["symbols"]
    occurrences = []
    for i, peak in enumerate(RED_PEAKS):
        occurrence = copy.deepcopy(visual)
        occurrence.update(start_seconds=float(i), end_seconds=i + 0.5, peak_seconds=i + 0.25, peak_score=peak)
        occurrences.append(occurrence)
    for i, peak in enumerate((0.55, 0.7, 0.8)):
        occurrence = copy.deepcopy(visual)
        occurrence.update(symbol_id="dumplings", label="Dumplings", start_seconds=20.0 + i,
                          end_seconds=20.5 + i, peak_score=peak)
        occurrences.append(occurrence)
    occurrences.append(dialogue)  # spring_couplets, named only: no visual score
    document["symbols"] = occurrences
    document["video"]["duration_seconds"] = 30.0
    return document


def _verdict(present: bool) -> dict[str, Any]:
    choice = "present" if present else "absent"
    return {"result": [{"from_name": "verdict", "to_name": "video", "type": "choices",
                        "value": {"choices": [choice]}}], "was_cancelled": False}


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    document = _timeline()
    timeline = folder / "videos" / "lantern-vow-test" / "timeline.json"
    timeline.parent.mkdir(parents=True)
    timeline.write_text(json.dumps(document), encoding="utf-8")
    run = {
        "config_hash": "abc123",
        "models": {"visual": {"id": "ViT-B-32 laion2b_s34b_b79k", "sha256": "f" * 64, "card": "clip-vit-b-32",
                              "taxonomy_hash": "0123456789abcdef"}},
        "videos": [{"video_id": "lantern-vow-test", "status": "ok", "path": "lantern_vow.mp4",
                    "timeline": "videos/lantern-vow-test/timeline.json"}],
    }
    (folder / "run.json").write_text(json.dumps(run), encoding="utf-8")
    return folder


@pytest.fixture
def export(run_dir: Path, tmp_path: Path) -> Path:
    """The run's tasks as Label Studio exports them after annotation (JSON format)."""
    document = json.loads((run_dir / "videos/lantern-vow-test/timeline.json").read_text(encoding="utf-8"))
    tasks = to_labelstudio_tasks([document], {"lantern-vow-test": "../lantern_vow.mp4"})
    for number, task in enumerate(tasks):
        data = task["data"]
        peak = next(o["peak_score"] for o in document["symbols"]
                    if (o["symbol_id"], o["start_seconds"]) == (data["symbol_id"], data["start_seconds"]))
        task["id"] = number
        task["annotations"] = [_verdict(peak >= TRUE_THRESHOLD)]
    tasks[0]["annotations"].append({**_verdict(True), "was_cancelled": True})  # a skipped annotation: ignored
    stray = copy.deepcopy(tasks[1])
    stray["data"]["start_seconds"] = 99.0  # an occurrence this run does not have
    tasks.append(stray)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks), encoding="utf-8")
    return path


def calibrate(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["calibrate", *args])
    return result.exit_code, result.output


def test_fits_the_threshold_that_separates_the_verdicts(run_dir: Path, export: Path, tmp_path: Path) -> None:
    overlay = tmp_path / "overlay.yaml"
    code, output = calibrate("--labelstudio", str(export), "--run", str(run_dir), "--out", str(overlay),
                             "--min-per-class", "3")
    assert code == EXIT_OK, output
    assert "red_lantern" in output and "F1 1.000" in output
    assert "dumplings" in output and "not fitted: needs at least 3 present and 3 absent verdicts, " \
        "has 2 present / 1 absent" in output
    assert "ignored 1 verdict(s) that match no occurrence" in output and "1 on dialogue-only" in output
    document = yaml.safe_load(overlay.read_text(encoding="utf-8"))
    assert document["kind"] == "overlay" and list(document["symbols"]) == ["red_lantern"]
    fitted = document["symbols"]["red_lantern"]
    assert fitted["threshold"] == TRUE_THRESHOLD
    assert fitted["calibration"] == {"positives": 5, "negatives": 5, "precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert document["fitted_with"]["model"] == "clip-vit-b-32"
    assert document["fitted_with"]["run_config_hash"] == "abc123"
    # A run can use it: the builtin taxonomy takes the new threshold.
    merged = load_taxonomy(taxonomy_paths(True, [overlay]))
    assert merged.get("red_lantern").threshold == TRUE_THRESHOLD


def test_too_few_verdicts_leave_every_symbol_out(run_dir: Path, export: Path, tmp_path: Path) -> None:
    code, output = calibrate("--labelstudio", str(export), "--run", str(run_dir), "--out",
                             str(tmp_path / "o.yaml"))  # default: 5 per class; red_lantern has 5/5, dumplings not
    assert code == EXIT_OK, output
    code, output = calibrate("--labelstudio", str(export), "--run", str(run_dir), "--out",
                             str(tmp_path / "o.yaml"), "--min-per-class", "6")
    assert code == EXIT_INPUT
    assert "no symbol could be fitted" in output and "has 5 present / 5 absent" in output


def test_matching_uses_peak_scores_and_skips_dialogue_only(run_dir: Path, export: Path) -> None:
    from motiflens.reports.labelstudio import read_labelstudio_export

    match = match_verdicts(read_labelstudio_export(export), run_dir)
    assert (match.unmatched, match.dialogue_only) == (1, 1)
    red = sorted((v.peak_score, v.present) for v in match.verdicts if v.symbol_id == "red_lantern")
    assert red == [(peak, peak >= TRUE_THRESHOLD) for peak in RED_PEAKS]
    fits, left_out = fit_verdict_thresholds(match.verdicts, min_per_class=1)
    assert {fit.symbol_id for fit in fits} == {"red_lantern", "dumplings"} and not left_out


def test_an_export_from_another_run_is_refused(run_dir: Path, export: Path, tmp_path: Path) -> None:
    tasks = json.loads(export.read_text(encoding="utf-8"))
    for task in tasks:
        task["data"]["video_id"] = "another-video"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(tasks), encoding="utf-8")
    code, output = calibrate("--labelstudio", str(other), "--run", str(run_dir), "--out", str(tmp_path / "o.yaml"))
    assert code == EXIT_INPUT
    assert "match no occurrence" in output and not (tmp_path / "o.yaml").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--labelstudio", "EXPORT"],
        ["--run", "RUN"],
        ["LABELS", "--labelstudio", "EXPORT", "--run", "RUN"],
        [],
    ],
)
def test_usage_errors(args: list[str], run_dir: Path, export: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("image,symbol_id,label\n", encoding="utf-8")
    names = {"EXPORT": str(export), "RUN": str(run_dir), "LABELS": str(labels)}
    code, output = calibrate(*(names.get(arg, arg) for arg in args), "--out", str(tmp_path / "o.yaml"))
    assert code == EXIT_CONFIG
    assert "LABELS.csv" in output and "--labelstudio" in output
