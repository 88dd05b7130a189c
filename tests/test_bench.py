"""scripts/bench.py on a tiny workload (one 6 s 270x480 episode): one JSON document with every documented key,
positive timings and throughputs, a finite overhead ratio, and the components doing the pipeline's work."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "scripts" / "bench.py"

TOP_KEYS = {
    "benchmark", "date", "machine", "device", "versions", "config", "workload", "pipeline", "components",
    "ratio", "ratio_matched_stages", "pipeline_outside_matched_stages_seconds", "same_work",
    "stage_vs_components", "long", "targets",
}  # fmt: skip
STAGES = {"ingest", "shots", "asr", "ocr", "visual", "story", "align"}
THROUGHPUT = {"decode_frames_per_second", "asr_realtime_factor", "clip_images_per_second", "ocr_frames_per_second"}


def positive(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench")
    command = [sys.executable, str(BENCH), "--videos", "1", "--seconds", "6", "--width", "270", "--height", "480",
               "--out", str(out), "--device", "cpu"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-4000:]
    assert not (out / "run").exists(), "without --keep the run folder is removed"
    assert list((out / "workload").glob("*.mp4")), "the workload cache is kept"
    return json.loads(done.stdout)


@pytest.mark.slow
def test_documented_keys(report: dict[str, Any]) -> None:
    assert set(report) == TOP_KEYS
    assert report["device"] == "cpu"
    assert report["config"]["visual_model"] == "test" and "speed only" in report["config"]["visual_model_note"]
    assert "visual.model=test" in report["config"]["overrides"]
    for key in ("cpu", "cpu_count", "memory_gb", "gpu", "python", "platform"):
        assert key in report["machine"], key
    for package in ("motiflens", "torch", "faster-whisper", "open_clip_torch", "av", "rapidocr-onnxruntime"):
        assert report["versions"][package], package
    assert report["long"] is None


@pytest.mark.slow
def test_workload_records_its_ffmpeg_command(report: dict[str, Any]) -> None:
    workload = report["workload"]
    assert workload["videos"] == 1 and (workload["width"], workload["height"]) == (270, 480)
    assert 5.5 <= workload["total_video_seconds"] <= 6.5
    command = workload["ffmpeg_command"]
    assert command[0].endswith(Path(workload["ffmpeg"]).name)
    assert "scale=270:480" in " ".join(command) and "libx264" in command and "aac" in command
    assert workload["generated"] + workload["reused"] == 1


@pytest.mark.slow
def test_pipeline_numbers_are_sane(report: dict[str, Any]) -> None:
    pipeline = report["pipeline"]
    assert pipeline["videos_ok"] == 1 and pipeline["videos_failed"] == 0
    assert set(pipeline["stage_seconds"]) == STAGES
    for stage in ("ingest", "shots", "asr", "ocr", "visual", "story"):
        assert positive(pipeline["stage_seconds"][stage]), stage
    assert set(pipeline["throughput"]) == THROUGHPUT
    for name, value in pipeline["throughput"].items():
        assert positive(value), name
    for key in ("wall_seconds", "seconds_per_video_minute", "x_realtime", "peak_rss_mb", "peak_rss_sampled_mb"):
        assert positive(pipeline[key]), key
    assert pipeline["wall_seconds"] >= sum(pipeline["stage_seconds"].values()) * 0.99
    assert pipeline["peak_rss_sampled_mb"] <= pipeline["peak_rss_mb"] * 1.01
    assert pipeline["seconds_per_video_minute"] == pytest.approx(pipeline["x_realtime"] * 60, rel=0.01)
    assert pipeline["gpu_peak_memory_mb"] is None


@pytest.mark.slow
def test_components_did_the_same_work(report: dict[str, Any]) -> None:
    components = report["components"]
    assert all(report["same_work"].values()), report["same_work"]
    for name in ("decode", "audio_extract", "shot_detection", "whisper", "ocr"):
        assert positive(components[name]["seconds"]), name
    for key in ("load_seconds", "encode_seconds", "images_per_second"):
        assert positive(components["clip"][key]), key
    assert positive(components["whisper"]["realtime_factor"])
    assert positive(components["decode"]["frames_per_second"])
    assert positive(components["ocr"]["frames_per_second"])
    assert components["sum_seconds"] == pytest.approx(
        sum(value for value in components["by_stage"].values()), rel=0.01
    )
    assert positive(report["ratio"]) and positive(report["ratio_matched_stages"])
    assert set(report["stage_vs_components"]) == STAGES


@pytest.mark.slow
def test_targets_are_reported(report: dict[str, Any]) -> None:
    targets = report["targets"]
    assert set(targets) == {"x_realtime", "ratio", "peak_rss_gb"}
    assert targets["x_realtime"]["max"] == 0.25 and targets["ratio"]["max"] == 1.10
    assert targets["peak_rss_gb"]["max"] == 3.0
    for entry in targets.values():
        assert positive(entry["value"]) and entry["met"] == (entry["value"] <= entry["max"])
