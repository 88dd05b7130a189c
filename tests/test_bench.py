"""scripts/bench.py on a tiny workload (one 6 s 270x480 episode per workload, no Ray run, no warm-up): one JSON
document with a section per workload, positive timings and throughputs, one decoder open per video, a finite
ratio, and components that are the registered stages run alone on the pipeline's own work."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from motiflens.stages import stage_names

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "scripts" / "bench.py"

TOP_KEYS = {
    "benchmark", "date", "machine", "device", "versions", "config", "import_seconds", "warmup_seconds",
    "throughput_units", "workloads", "long", "targets", "targets_met",
}  # fmt: skip
WORKLOAD_KEYS = {
    "workload", "x_realtime", "ratio", "pipeline", "components", "stage_vs_component_seconds", "ray", "targets",
}  # fmt: skip


def positive(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def bench_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_script", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_script"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench")
    command = [sys.executable, str(BENCH), "--workload", "all", "--videos", "1", "--seconds", "6", "--width", "270",
               "--height", "480", "--out", str(out), "--device", "cpu", "--no-ray", "--no-warmup"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-4000:]
    assert not (out / "drama").exists() and not (out / "mixed").exists(), "without --keep the run folders go"
    assert len(list((out / "workload").glob("*.mp4"))) == 2, "the workload cache is kept"
    return json.loads(done.stdout)


@pytest.mark.slow
def test_documented_keys(report: dict[str, Any]) -> None:
    assert set(report) == TOP_KEYS
    assert set(report["workloads"]) == {"drama", "mixed"}
    for section in report["workloads"].values():
        assert set(section) == WORKLOAD_KEYS
        assert section["ray"] is None  # --no-ray
    assert report["device"] == "cpu"
    assert report["config"]["visual_model"] == "test" and "speed only" in report["config"]["visual_model_note"]
    assert "visual.model=test" in report["config"]["overrides"]
    for key in ("cpu", "cpu_count", "memory_gb", "gpu", "python", "platform"):
        assert key in report["machine"], key
    for package in ("motiflens", "torch", "faster-whisper", "open_clip_torch", "av", "rapidocr-onnxruntime"):
        assert report["versions"][package], package
    assert report["long"] is None and report["warmup_seconds"] is None
    assert set(report["throughput_units"]) == set(stage_names())


@pytest.mark.slow
def test_workloads_record_their_ffmpeg_commands(report: dict[str, Any]) -> None:
    catalogue = json.loads((ROOT / "data" / "samples" / "samples.json").read_text(encoding="utf-8"))["samples"]
    mandarin = sorted(entry["file"] for entry in catalogue if {line["language"] for line in entry["lines"]} == {"zh"})
    assert mandarin, "the samples include Mandarin-only clips"
    drama = report["workloads"]["drama"]["workload"]
    mixed = report["workloads"]["mixed"]["workload"]
    assert drama["samples"] == mandarin and drama["music"] is True
    assert sorted(mixed["samples"]) == sorted(entry["file"] for entry in catalogue) and mixed["music"] is False
    drama_command, mixed_command = " ".join(drama["ffmpeg_command"]), " ".join(mixed["ffmpeg_command"])
    assert "aevalsrc" in drama_command and "amix" in drama_command
    assert "aevalsrc" not in mixed_command and "amix" not in mixed_command
    for workload in (drama, mixed):
        assert workload["videos"] == 1 and (workload["width"], workload["height"]) == (270, 480)
        assert 5.5 <= workload["total_video_seconds"] <= 6.5
        assert workload["ffmpeg_command"][0].endswith(Path(workload["ffmpeg"]).name)
        assert "scale=270:480" in " ".join(workload["ffmpeg_command"]) and "libx264" in workload["ffmpeg_command"]
        assert workload["generated"] + workload["reused"] == 1


@pytest.mark.slow
@pytest.mark.parametrize("name", ["drama", "mixed"])
def test_pipeline_numbers_are_sane(report: dict[str, Any], name: str) -> None:
    section = report["workloads"][name]
    pipeline = section["pipeline"]
    assert pipeline["videos_ok"] == 1 and pipeline["videos_failed"] == 0
    assert list(pipeline["stage_seconds"]) == stage_names()
    for stage, seconds in pipeline["stage_seconds"].items():
        assert positive(seconds), stage
        assert positive(pipeline["throughput"][stage]), stage
    for key in ("wall_seconds", "seconds_per_video_minute", "x_realtime", "peak_rss_mb", "peak_rss_sampled_mb"):
        assert positive(pipeline[key]), key
    assert pipeline["wall_seconds"] >= pipeline["stage_sum_seconds"] * 0.99
    assert pipeline["x_realtime"] == pytest.approx(
        pipeline["wall_seconds"] / section["workload"]["total_video_seconds"], rel=0.01
    )
    assert section["x_realtime"] == pipeline["x_realtime"]
    assert pipeline["gpu_peak_memory_mb"] is None
    # One decode per video: one decoder open feeds the layout and every frame stage.
    decode = pipeline["decode"]
    assert decode["decoder_opens_per_video"] == 1
    (video,) = decode["by_video"].values()
    assert video["decoder_opens"] == 1 and positive(video["frames_decoded"])
    assert set(video["consumers"]) == {"layout", "shots", "ocr", "visual"}
    assert pipeline["counts"]["ingest"] == video["frames_decoded"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["drama", "mixed"])
def test_components_are_the_registered_stages_on_the_same_work(report: dict[str, Any], name: str) -> None:
    section = report["workloads"][name]
    components = section["components"]
    assert list(components["stage_seconds"]) == stage_names() and "reconcile" in components["stage_seconds"]
    for stage, seconds in components["stage_seconds"].items():
        assert positive(seconds), stage
        assert positive(components["throughput"][stage]), stage
        details = components["stages"][stage]
        assert details["earlier_stages_from_checkpoints"], stage
        assert details["same_stats_as_pipeline"], stage
        assert details["videos_ok"] == 1, stage
        # Only ingest's forced pass decodes; the frame stages read the products it wrote, as in the pipeline.
        assert details["decoder_opens"] == (1 if stage == "ingest" else 0), stage
    assert components["stages"]["ingest"]["frames_decoded"] == section["pipeline"]["counts"]["ingest"]
    assert components["sum_seconds"] == pytest.approx(sum(components["stage_seconds"].values()), abs=0.01)
    assert positive(section["ratio"])
    assert section["ratio"] == pytest.approx(section["pipeline"]["wall_seconds"] / components["sum_seconds"], rel=0.01)
    assert set(section["stage_vs_component_seconds"]) == set(stage_names())


@pytest.mark.slow
def test_targets_are_reported(report: dict[str, Any]) -> None:
    drama, mixed = report["workloads"]["drama"]["targets"], report["workloads"]["mixed"]["targets"]
    assert set(drama) == {"x_realtime", "ratio", "peak_rss_gb"}
    assert set(mixed) == {"ratio", "peak_rss_gb"}  # the x realtime goal is the common case's
    assert drama["x_realtime"]["max"] == 0.30 and drama["ratio"]["max"] == mixed["ratio"]["max"] == 1.10
    assert drama["x_realtime"]["value"] == report["workloads"]["drama"]["x_realtime"]
    for entry in [*drama.values(), *mixed.values()]:
        assert positive(entry["value"]) and entry["met"] == (entry["value"] <= entry["max"])
    assert set(report["targets"]) == {f"drama.{key}" for key in drama} | {f"mixed.{key}" for key in mixed}
    assert report["targets_met"] == all(entry["met"] for entry in report["targets"].values())


def test_ray_run_gives_each_frame_stage_two_actors() -> None:
    """The Ray section's config: its overrides load, and the engine's own pool resolution gives ingest, shots,
    OCR and visual two actors each on a 2-CPU cluster, the other stages their default single actor."""
    from motiflens.core.config import load_config
    from motiflens.run.engines.ray_data import resolve_pools
    from motiflens.stages import Stage, build_stages

    bench = bench_module()
    stages = build_stages(load_config())
    frame_stages = {stage.name for stage in stages if type(stage).frame_sink is not Stage.frame_sink}
    assert set(bench.FRAME_STAGES) == {"ingest", *frame_stages}, "ingest and the stages its decode pass feeds"
    config = load_config(ROOT / "configs" / "cpu-fast.yaml", ["visual.model=test", *bench.ray_overrides()])
    assert config.engine.name == "ray"
    pools = resolve_pools(build_stages(config), config.engine.ray, "cpu", {"CPU": 2.0, "memory": 64 * 1024**3}, 2)
    assert set(pools) == set(stage_names())
    for stage, pool in pools.items():
        expected = 2 if stage in bench.FRAME_STAGES else 1
        assert (pool.min_actors, pool.max_actors or expected) == (expected, expected), stage
        assert pool.num_gpus == 0
