"""End-to-end benchmark: generated workloads through the pipeline, then each stage alone, through the same code.

    .venv/bin/python scripts/bench.py [--workload drama|mixed|all] [--videos 4 --seconds 60 --width 1080
                                      --height 1920] [--config configs/cpu-fast.yaml] [--set KEY=VALUE]...
                                      [--device auto] [--out runs/bench] [--cache DIR] [--keep] [--no-ray]
                                      [--no-warmup] [--long]

1. Workloads: N episodes of S seconds, W x H, 25 fps, H.264 + AAC, looped from the bundled samples
   (data/samples/*.mp4: speech, burned-in subtitles, hard cuts) with the ffmpeg binary of imageio-ffmpeg.
   `drama` is the common case: the Mandarin-only samples (every line `zh` in samples.json) with a generated
   music bed mixed under the speech; `mixed` loops all samples, so Mandarin and English alternate line by line
   (the stress case for language detection). Every command is in the JSON; a file is reused when its sidecar
   holds the same command key.
2. Pipeline: `motiflens.run.runner.Runner` (local engine) in this process on a fresh output folder. Stage
   seconds come from run.json, counts (decoded frames, decoder opens, audio seconds, tiles) from its per-video
   `stats`.
3. Components: a copy of that run folder, then each registered stage alone through `StageExecutor` with
   forced=True, on works built as the runner builds them, the earlier stages loaded from their checkpoints
   (ingest's forced pass writes the frame products that shots, OCR and visual then read, as in the pipeline).
   ratio = pipeline wall / sum(components) is what the orchestration adds (reports, timelines, run.json).
4. Ray: the same workload with engine.name=ray, two actors for each frame stage (ingest, shots, ocr, visual),
   on a fresh folder; speed-up = local wall / Ray wall, and whether the timelines equal the local ones.
5. Before anything is timed, heavy modules are imported and the shortest sample runs through the pipeline once
   (`--no-warmup` skips that), so the first workload pays no first-use costs the second one would not.
6. `--long` adds one 15-minute episode of the first workload, run in a fresh child process, and that
   workload's first episode the same way: their peak RSS side by side shows whether memory stays flat.

CLIP weights cannot ship offline: unless `--set visual.model=...` names another model, the visual stage
runs the random-weight `test` model (ViT-B-32, the default architecture), which is valid for speed only;
the JSON says so. `--device auto` (the default) uses CUDA when torch sees it, so the same command runs
unchanged on a GPU node. One JSON document goes to stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
FPS = 25
LONG_SECONDS = 900.0
TEST_VISUAL_NOTE = (
    "visual.model=test: random-weight open_clip ViT-B-32 (the default model's architecture); "
    "valid for speed only, never for detections (no CLIP weights are available offline)"
)
#: x_realtime applies to the drama workload (the common case) with visual on; the others to every workload.
TARGETS = {"x_realtime": 0.30, "ratio": 1.10, "peak_rss_gb": 3.0}
#: Ingest and the stages its decode pass feeds: the Ray run gives each two actors.
FRAME_STAGES = ("ingest", "shots", "ocr", "visual")
RAY_ACTORS = 2
#: A chord progression (A major, G major, 4 s each) that swells and fades, mixed about 18 dB under the speech
#: peak: the steady tonal background that music beds put under drama dialogue.
MUSIC_SOURCE = (
    "aevalsrc='0.6*(0.7+0.3*sin(2*PI*0.25*t))*if(lt(mod(t,8),4),"
    "sin(2*PI*220*t)+sin(2*PI*277.18*t)+sin(2*PI*329.63*t),"
    "sin(2*PI*196*t)+sin(2*PI*246.94*t)+sin(2*PI*293.66*t))/3':s=44100:c=stereo"
)
MUSIC_MIX = "[1:a]volume=0.12[music];[0:a][music]amix=inputs=2:duration=first:normalize=0[mixed]"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


def per(count: float, seconds: float | None) -> float | None:
    return r(count / seconds) if seconds else None


# ---------------------------------------------------------------------------------------------- memory


def rss_bytes() -> int | None:
    """Resident set size now (Linux /proc; None elsewhere)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def reset_peak_rss() -> bool:
    """Reset this process's VmHWM (Linux: "5" to clear_refs), so that each workload gets its own peak; False
    where that is not possible (then the peak covers everything before, and the sampler's peak is the one)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes() -> int:
    """Peak RSS of this process: VmHWM on Linux, else ru_maxrss (kilobytes on Linux, bytes on macOS).

    VmHWM belongs to the address space that exec created; ru_maxrss of a child started with fork + exec
    starts at the parent's RSS at fork time, so it cannot measure a child smaller than its parent."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


class RssSampler:
    """Samples RSS every `interval` seconds in a daemon thread; `peak` is the highest sample since start()."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> RssSampler:
        self.peak = 0
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="bench-rss", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            value = rss_bytes()
            if value is not None:
                self.peak = max(self.peak, value)
            self._stop.wait(self.interval)

    def stop(self) -> int:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return self.peak


def mb(value: float | None) -> float | None:
    return None if value is None else round(value / 2**20, 1)


# ------------------------------------------------------------------------------------------- machine


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gb() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def gpu_name() -> str | None:
    try:
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception:  # no torch, or a driver problem: report no GPU
        return None


def versions(ffmpeg: str) -> dict[str, str | None]:
    import importlib.metadata

    from motiflens import __version__
    from motiflens.core.environment import package_versions

    found: dict[str, str | None] = {"motiflens": __version__, **package_versions()}
    for name in ("onnxruntime", "rapidocr-onnxruntime", "scenedetect-headless", "sentence-transformers", "ray"):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    try:
        first = subprocess.run([ffmpeg, "-version"], capture_output=True, text=True, check=True).stdout.splitlines()
        found["ffmpeg (workload)"] = first[0] if first else None
    except (OSError, subprocess.CalledProcessError):
        found["ffmpeg (workload)"] = None
    return found


# ------------------------------------------------------------------------------------------ workload


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    samples: tuple[Path, ...]
    music: bool


def sample_catalogue() -> dict[str, set[str]]:
    """Sample file name → the languages its lines speak (data/samples/samples.json)."""
    index = SAMPLES / "samples.json"
    if not index.is_file():
        sys.exit(f"no {index} (run `make samples`)")
    catalogue = json.loads(index.read_text(encoding="utf-8"))
    return {entry["file"]: {line["language"] for line in entry["lines"]} for entry in catalogue["samples"]}


def workloads() -> dict[str, Workload]:
    catalogue = sample_catalogue()
    every = tuple(SAMPLES / name for name in sorted(catalogue))
    mandarin = tuple(SAMPLES / name for name in sorted(catalogue) if catalogue[name] == {"zh"})
    missing = [path.name for path in every if not path.is_file()]
    if missing or not mandarin:
        sys.exit(f"sample videos missing in {SAMPLES}: {', '.join(missing) or 'no Mandarin-only sample'}")
    return {
        "drama": Workload(
            "drama",
            "single-language Mandarin episodes (the samples whose every line is zh) with burned-in subtitles and a "
            "generated music bed (sine chords, about 18 dB under the speech peak) mixed under the speech",
            mandarin,
            music=True,
        ),
        "mixed": Workload(
            "mixed",
            "every sample looped, so Mandarin and English alternate line by line (the stress case for language "
            "detection); speech only",
            every,
            music=False,
        ),
    }


def episode_plan(
    workload: Workload, index: int, seconds: float, width: int, height: int, ffmpeg: str, cache: Path
) -> dict[str, Any]:
    """One episode: the workload's samples in a rotated order (reversed every other round), looped with the concat
    demuxer, cut to `seconds`, scaled to width x height at 25 fps, H.264 + AAC, the music bed mixed in when the
    workload has one. The key hashes the command, the concat list and the samples' contents, so a changed recipe
    or sample makes a new file."""
    samples = list(workload.samples)
    shift = index % len(samples)
    order = samples[shift:] + samples[:shift]
    if (index // len(samples)) % 2:  # the next round plays them backwards: no two of 2 x len(samples) alike
        order.reverse()
    concat = "".join(f"file '{path.as_posix()}'\n" for path in order)
    stem = f"{workload.name}-ep{index:02d}-{seconds:g}s-{width}x{height}"
    inputs = ["-stream_loop", "-1", "-f", "concat", "-safe", "0", "-i", "{concat_list}"]
    audio = ["-map", "0:v", "-map", "0:a"]
    if workload.music:
        inputs += ["-f", "lavfi", "-i", MUSIC_SOURCE, "-filter_complex", MUSIC_MIX]
        audio = ["-map", "0:v", "-map", "[mixed]"]
    command = [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-y", *inputs, *audio,
        "-t", f"{seconds:g}",
        "-vf", f"scale={width}:{height}:flags=bicubic,setsar=1,fps={FPS}",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k", "-ar", "44100", "-ac", "2",
        "-movflags", "+faststart", "{output}",
    ]  # fmt: skip
    digest = hashlib.sha256()
    digest.update(json.dumps([Path(command[0]).name, *command[1:]]).encode())
    digest.update(concat.encode())
    for path in order:
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    key = digest.hexdigest()[:12]
    output = cache / f"{stem}-{key}.mp4"
    return {"file": output, "key": key, "concat": concat, "command": command}


def ensure_episode(plan: dict[str, Any]) -> bool:
    """Make the episode unless a file with the same key exists; True when it was generated."""
    output: Path = plan["file"]
    sidecar = output.with_suffix(".json")
    if output.is_file() and sidecar.is_file():
        try:
            if json.loads(sidecar.read_text())["key"] == plan["key"]:
                return False
        except (OSError, ValueError, KeyError):
            pass
    output.parent.mkdir(parents=True, exist_ok=True)
    concat_list = output.with_suffix(".concat.txt")
    concat_list.write_text(plan["concat"])
    partial = output.with_name(output.stem + ".partial.mp4")
    names = {"{concat_list}": str(concat_list), "{output}": str(partial)}
    subprocess.run([names.get(arg, arg) for arg in plan["command"]], check=True)
    partial.replace(output)
    sidecar.write_text(json.dumps({"key": plan["key"], "command": plan["command"], "concat": plan["concat"]}, indent=1))
    return True


def make_episodes(plans: list[dict[str, Any]]) -> None:
    for plan in plans:
        began = time.perf_counter()
        plan["generated"] = ensure_episode(plan)
        if plan["generated"]:
            log(f"generated {plan['file'].name} in {time.perf_counter() - began:.1f} s")


def shown(command: list[str]) -> list[str]:
    """The command as recorded in the JSON: placeholders for the concat list and the output file."""
    names = {"{concat_list}": "<concat list>", "{output}": "<output>"}
    return [names.get(arg, arg) for arg in command]


def describe_workload(
    workload: Workload, args: argparse.Namespace, plans: list[dict[str, Any]], ffmpeg: str, video_seconds: float
) -> dict[str, Any]:
    return {
        "description": workload.description,
        "videos": len(plans),
        "seconds_per_video": args.seconds,
        "width": args.width,
        "height": args.height,
        "fps": FPS,
        "codec": "h264 (libx264 veryfast crf 23) + aac 128k",
        "total_video_seconds": r(video_seconds),
        "samples": [path.name for path in workload.samples],
        "concat_list": "the samples above, rotated by the episode index (reversed in every other round), looped",
        "music": workload.music,
        "cache": str(args.cache),
        "generated": sum(1 for plan in plans if plan["generated"]),
        "reused": sum(1 for plan in plans if not plan["generated"]),
        "ffmpeg": ffmpeg,
        "ffmpeg_command": shown(plans[0]["command"]),
        "files": [plan["file"].name for plan in plans],
    }


# ------------------------------------------------------------------------------------------- config


def effective_overrides(args: argparse.Namespace) -> list[str]:
    """Benchmark defaults first (the user's --set comes later and wins): device, test visual model."""
    chosen = [f"device={args.device}"]
    if not any(item.split("=", 1)[0].strip() == "visual.model" for item in args.overrides):
        chosen.append("visual.model=test")
    return [*chosen, *args.overrides]


def ray_overrides() -> list[str]:
    """The Ray run: the local config plus the engine and two actors for each frame stage."""
    pools = [
        f"engine.ray.stages.{stage}.{key}={RAY_ACTORS}"
        for stage in FRAME_STAGES
        for key in ("min_actors", "max_actors")
    ]
    return ["engine.name=ray", *pools]


def load(args: argparse.Namespace, extra: list[str] | None = None) -> Any:
    from motiflens.core.config import load_config

    config = load_config(args.config, [*effective_overrides(args), *(extra or [])])
    if config.visual.model == "test":
        os.environ["MOTIFLENS_ALLOW_TEST_MODELS"] = "1"  # speed only; the JSON says so
    return config


# ------------------------------------------------------------------------------------------ pipeline

#: Imported before anything is timed: a one-off cost per process that neither side should carry.
HEAVY_MODULES = ("torch", "open_clip", "faster_whisper", "ctranslate2", "rapidocr_onnxruntime",
                 "sentence_transformers", "scenedetect", "av", "cv2")  # fmt: skip


def warm_imports() -> float:
    import importlib

    began = time.perf_counter()
    for name in HEAVY_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    return time.perf_counter() - began


def warm_up(config: Any, out_dir: Path) -> float:
    """One untimed run of the shortest sample: the first workload then finds model files in the page cache and
    every lazily imported module loaded, as the second one does."""
    sample = min(SAMPLES.glob("*.mp4"), key=lambda path: path.stat().st_size)
    result = run_pipeline(config, [sample], out_dir, None)
    shutil.rmtree(out_dir, ignore_errors=True)
    return result["wall"]


def run_pipeline(config: Any, videos: list[Path], out_dir: Path, sampler: RssSampler | None) -> dict[str, Any]:
    """Runner over `videos` in a fresh folder; wall seconds, run.json, peak RSS of this process."""
    from motiflens.run.discovery import discover
    from motiflens.run.runner import Runner

    if out_dir.exists():
        shutil.rmtree(out_dir)
    sources = discover(videos, config.input)
    torch = sys.modules.get("torch")
    cuda = torch is not None and torch.cuda.is_available()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    peak_reset = reset_peak_rss()
    if sampler is not None:
        sampler.start()
    began = time.perf_counter()
    report = Runner(config, out_dir).run(sources, videos)
    wall = time.perf_counter() - began
    sampled = sampler.stop() if sampler is not None else None
    return {
        "wall": wall,
        "run": json.loads((out_dir / "run.json").read_text()),
        "failed": report.failed,
        "peak": peak_rss_bytes(),
        "peak_reset": peak_reset,
        "sampled": sampled,
        "gpu_peak": torch.cuda.max_memory_allocated() if cuda else None,
    }


def stage_counts(stats: list[dict[str, Any]]) -> dict[str, float]:
    """What each stage worked through, summed over videos' run.json `stats`: the throughputs' numerators."""

    def total(stage: str, key: str) -> float:
        return sum(float(entry.get(stage, {}).get(key, 0) or 0) for entry in stats)

    videos = len(stats)
    return {
        "ingest": total("decode", "frames_decoded"),
        "shots": total("shots", "analysed_frames"),
        "asr": total("asr", "audio_seconds"),
        "ocr": total("ocr", "frames_read"),
        "reconcile": videos,
        "visual": total("visual", "tiles_encoded"),
        "story": videos,
        "align": videos,
    }


#: What each stage's throughput counts (per stage second).
THROUGHPUT_UNITS = {
    "ingest": "frames decoded per second (the one decode pass that feeds every frame stage, layout, audio)",
    "shots": "analysed frames per second (detection runs inside ingest's pass; this reads its product)",
    "asr": "audio seconds per second (above 1 is faster than real time)",
    "ocr": "subtitle-band frames per second",
    "reconcile": "videos per second",
    "visual": "tiles through the image tower per second (preprocess, model, scoring)",
    "story": "videos per second",
    "align": "videos per second",
}


def throughputs(counts: dict[str, float], seconds: dict[str, float | None]) -> dict[str, float | None]:
    return {name: per(counts.get(name, 0.0), seconds.get(name)) for name in seconds}


def decode_section(run: dict[str, Any]) -> dict[str, Any]:
    """Decoder opens and frames decoded per video (run.json stats.decode, written by ingest's pass)."""
    by_video = {
        video["video_id"]: {
            "decoder_opens": video.get("stats", {}).get("decode", {}).get("decoder_opens"),
            "frames_decoded": video.get("stats", {}).get("decode", {}).get("frames_decoded"),
            "consumers": video.get("stats", {}).get("decode", {}).get("consumers"),
        }
        for video in run["videos"]
    }
    opens = [entry["decoder_opens"] for entry in by_video.values() if entry["decoder_opens"] is not None]
    frames = [entry["frames_decoded"] for entry in by_video.values() if entry["frames_decoded"] is not None]
    return {
        "decoder_opens_per_video": r(sum(opens) / len(opens)) if opens else None,
        "frames_decoded_per_video": r(sum(frames) / len(frames), 1) if frames else None,
        "by_video": by_video,
    }


def pipeline_section(result: dict[str, Any], video_seconds: float) -> dict[str, Any]:
    run = result["run"]
    videos = run["videos"]
    stages = {name: r(seconds) for name, seconds in run["timings_seconds"].items()}
    wall = result["wall"]
    counts = stage_counts([video.get("stats", {}) for video in videos])
    return {
        "wall_seconds": r(wall),
        "x_realtime": r(wall / video_seconds, 4) if video_seconds else None,
        "seconds_per_video_minute": r(wall / (video_seconds / 60)) if video_seconds else None,
        "stage_seconds": stages,
        "stage_sum_seconds": r(sum(value or 0.0 for value in stages.values())),
        "throughput": throughputs(counts, stages),
        "counts": {name: r(value) for name, value in counts.items()},
        "decode": decode_section(run),
        "peak_rss_mb": mb(result["peak"]),
        "peak_rss_mb_is_this_run_only": result["peak_reset"],
        "peak_rss_sampled_mb": mb(result["sampled"]),
        "gpu_peak_memory_mb": mb(result["gpu_peak"]),
        "videos_ok": sum(1 for video in videos if video["status"] == "ok"),
        "videos_failed": result["failed"],
    }


# ---------------------------------------------------------------------------------------- components


def comparable(stats: dict[str, Any]) -> str:
    return json.dumps(stats, sort_keys=True, default=str)


def run_components(config: Any, videos: list[Path], run_dir: Path, folder: Path) -> dict[str, Any]:
    """Each registered stage alone, forced, through StageExecutor, on a copy of the pipeline's run folder.

    Works are built as the runner builds them (one per discovered video, its folder under videos/<id>); the
    stages before the timed one load their checkpoints (StageExecutor without force: no model opens, nothing
    is decoded). The stages run in registry order on the same copy, so the frame products that ingest's forced
    pass writes are there for shots, OCR and visual, exactly as in the pipeline. Each stage's per-video `stats`
    are compared with the pipeline's: the same work, the same results."""
    from motiflens.core.atomic import inside
    from motiflens.core.environment import resolve_device, seed_everything
    from motiflens.media.container import decode_counts
    from motiflens.run.discovery import discover
    from motiflens.run.executor import StageExecutor
    from motiflens.stages import VideoWork, build_stages

    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(run_dir, folder)
    sources = discover(videos, config.input)
    pipeline_stats = {
        video["video_id"]: video.get("stats", {}) for video in json.loads((run_dir / "run.json").read_text())["videos"]
    }
    seed_everything(config.seed)
    device = resolve_device(config.device)
    stages = build_stages(config)
    for stage in stages:
        stage.prepare()
    seconds: dict[str, float] = {}
    details: dict[str, dict[str, Any]] = {}
    final_stats: list[dict[str, Any]] = []
    for position, stage in enumerate(stages):
        works = [VideoWork(source=source, workdir=inside(folder, "videos", source.video_id)) for source in sources]
        for earlier in stages[:position]:
            StageExecutor(earlier, config, device).run(works)
        reused = all(earlier.name in work.cached_stages for work in works for earlier in stages[:position])
        before = [decode_counts(source.path) for source in sources]
        seconds[stage.name] = StageExecutor(stage, config, device, forced=True).run(works)
        after = [decode_counts(source.path) for source in sources]
        # Ingest's stats are stats.decode; the other stages' are under their own name.
        key = "decode" if stage.name == "ingest" else stage.name
        same = all(
            comparable(work.stats.get(key, {})) == comparable(pipeline_stats.get(work.video_id, {}).get(key, {}))
            for work in works
        )
        details[stage.name] = {
            "earlier_stages_from_checkpoints": reused,
            "decoder_opens": sum(b.opens - a.opens for a, b in zip(before, after, strict=True)),
            "frames_decoded": sum(b.frames - a.frames for a, b in zip(before, after, strict=True)),
            "videos_ok": sum(1 for work in works if work.status == "ok"),
            "same_stats_as_pipeline": same,
        }
        final_stats = [work.stats for work in works]
    stage_seconds = {name: r(value) for name, value in seconds.items()}
    return {
        "stage_seconds": stage_seconds,
        "sum_seconds": r(sum(seconds.values())),
        "throughput": throughputs(stage_counts(final_stats), stage_seconds),
        "stages": details,
    }


# ----------------------------------------------------------------------------------------------- ray


def run_ray(args: argparse.Namespace, videos: list[Path], out_dir: Path, local_dir: Path) -> dict[str, Any]:
    """The same workload on the Ray engine (a local Ray instance started by the run), fresh folder."""
    config = load(args, ray_overrides())
    result = run_pipeline(config, videos, out_dir, None)
    run = result["run"]
    identical = all(
        (out_dir / video["timeline"]).read_bytes() == (local_dir / video["timeline"]).read_bytes()
        for video in run["videos"]
        if video.get("timeline")
    )
    stages = {name: r(seconds) for name, seconds in run["timings_seconds"].items()}
    return {
        "overrides": ray_overrides(),
        "wall_seconds": r(result["wall"]),
        # Inside the Runner: from the first video's dispatch to the last one's return (no Ray start-up).
        "streaming_wall_seconds": stages.pop("wall", None),
        "stage_seconds_summed_over_actors": stages,
        "decode": decode_section(run),
        "videos_ok": sum(1 for video in run["videos"] if video["status"] == "ok"),
        "videos_failed": result["failed"],
        "timelines_identical_to_local": identical,
        "actors": {stage: RAY_ACTORS for stage in FRAME_STAGES},
    }


# ------------------------------------------------------------------------------------------- workload


def target(value: float | None, limit: float) -> dict[str, Any]:
    return {"value": value, "max": limit, "met": value is not None and value <= limit}


def bench_workload(
    args: argparse.Namespace, config: Any, workload: Workload, plans: list[dict[str, Any]], ffmpeg: str
) -> dict[str, Any]:
    from motiflens.media.probe import probe
    from motiflens.run.discovery import discover

    files = [plan["file"] for plan in plans]
    video_seconds = sum(probe(source).duration_seconds for source in discover(files, config.input))
    base = args.out / workload.name
    run_dir = base / "run"

    log(f"{workload.name}: pipeline (Runner, local engine, fresh output folder)")
    result = run_pipeline(config, files, run_dir, RssSampler())
    pipeline = pipeline_section(result, video_seconds)
    log(f"{workload.name}: pipeline {pipeline['wall_seconds']} s for {video_seconds:.0f} s of video")

    log(f"{workload.name}: each stage alone (StageExecutor, forced)")
    sampler = RssSampler().start()
    components = run_components(config, files, run_dir, base / "components")
    components["peak_rss_sampled_mb"] = mb(sampler.stop())
    log(f"{workload.name}: components {components['sum_seconds']} s")

    total = components["sum_seconds"] or 0.0
    ratio = result["wall"] / total if total else math.inf
    stage_vs = {
        name: {"pipeline": seconds, "component": components["stage_seconds"].get(name)}
        for name, seconds in pipeline["stage_seconds"].items()
    }

    ray = None
    if not args.no_ray:
        from motiflens.core.errors import MotifLensError

        log(f"{workload.name}: Ray engine, {RAY_ACTORS} actors per frame stage")
        try:
            ray = run_ray(args, files, base / "ray", run_dir)
        except MotifLensError as exc:  # e.g. a cluster too small for the pools: keep the local figures
            log(f"{workload.name}: Ray run failed: {exc}")
            ray = {"overrides": ray_overrides(), "error": f"{type(exc).__name__}: {exc}", "wall_seconds": None}
        ray["speed_up"] = r(result["wall"] / ray["wall_seconds"]) if ray["wall_seconds"] else None
        if ray["speed_up"] is not None:
            log(f"{workload.name}: Ray {ray['wall_seconds']} s (speed-up {ray['speed_up']})")

    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)

    peak_gb = result["peak"] / 2**30 if result["peak"] else None
    targets = {
        "ratio": target(r(ratio), TARGETS["ratio"]),
        "peak_rss_gb": target(r(peak_gb, 2), TARGETS["peak_rss_gb"]),
    }
    if workload.name == "drama" and config.visual.enabled:
        targets = {"x_realtime": target(pipeline["x_realtime"], TARGETS["x_realtime"]), **targets}
    return {
        "workload": describe_workload(workload, args, plans, ffmpeg, video_seconds),
        "x_realtime": pipeline["x_realtime"],
        "ratio": r(ratio),
        "pipeline": pipeline,
        "components": components,
        "stage_vs_component_seconds": stage_vs,
        "ray": ray,
        "targets": targets,
    }


# ------------------------------------------------------------------------------------ child process


def child_run(args: argparse.Namespace) -> None:
    """One pipeline run of one video in this (fresh) process: prints wall seconds and peak RSS as JSON."""
    from motiflens.media.probe import probe
    from motiflens.run.discovery import discover

    config = load(args)
    video = Path(args.child_video)
    result = run_pipeline(config, [video], Path(args.child_out), RssSampler())
    duration = probe(discover([video], config.input)[0]).duration_seconds
    print(json.dumps({
        "file": video.name,
        "video_seconds": r(duration),
        "wall_seconds": r(result["wall"]),
        "x_realtime": r(result["wall"] / duration, 4),
        "stage_seconds": result["run"]["timings_seconds"],
        "status": result["run"]["videos"][0]["status"],
        "peak_rss_mb": mb(result["peak"]),
        "peak_rss_sampled_mb": mb(result["sampled"]),
    }))  # fmt: skip


def run_child(args: argparse.Namespace, video: Path, out_dir: Path) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child-video", str(video), "--child-out", str(out_dir),
               "--device", args.device]  # fmt: skip
    if args.config is not None:
        command += ["--config", str(args.config)]
    for item in args.overrides:
        command += ["--set", item]
    log(f"child process: {video.name}")
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def long_section(args: argparse.Namespace, workload: Workload, first: Path, ffmpeg: str) -> dict[str, Any]:
    plan = episode_plan(workload, 90, LONG_SECONDS, args.width, args.height, ffmpeg, args.cache)
    make_episodes([plan])
    reference = run_child(args, first, args.out / "long-reference")
    long_run = run_child(args, plan["file"], args.out / "long")
    if not args.keep:
        for folder in (args.out / "long", args.out / "long-reference"):
            shutil.rmtree(folder, ignore_errors=True)
    return {
        "workload": workload.name,
        "ffmpeg_command": shown(plan["command"]),
        "reference": reference,
        "long": long_run,
        "peak_rss_growth": r(long_run["peak_rss_mb"] / reference["peak_rss_mb"], 3)
        if reference.get("peak_rss_mb")
        else None,
    }


# ----------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workload", choices=("drama", "mixed", "all"), default="all",
                        help="which workload(s) to run (default all: one JSON section each)")
    parser.add_argument("--videos", type=int, default=4, help="episodes per workload (default 4)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each episode (default 60)")
    parser.add_argument("--width", type=int, default=1080, help="episode width (default 1080)")
    parser.add_argument("--height", type=int, default=1920, help="episode height (default 1920)")
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "cpu-fast.yaml",
                        help="experiment config (default configs/cpu-fast.yaml)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="config override, as for `motiflens run` (repeatable; wins over the bench defaults)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                        help="device override (default auto: CUDA when torch sees one)")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "bench", help="scratch and run folders")
    parser.add_argument("--cache", type=Path, default=None, help="workload cache (default OUT/workload)")
    parser.add_argument("--keep", action="store_true", help="keep the run folders (the workload cache is always kept)")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray engine run")
    parser.add_argument("--no-warmup", action="store_true",
                        help="skip the untimed warm-up run of the shortest sample (model files, lazy imports)")
    parser.add_argument("--long", action="store_true",
                        help="also run a 15-minute episode and the first episode in fresh processes; compare peak RSS")
    parser.add_argument("--child-video", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)  # fmt: skip
    if args.videos < 1 or args.seconds <= 0 or args.width < 16 or args.height < 16:
        parser.error("--videos >= 1, --seconds > 0, --width and --height >= 16")
    if args.width % 2 or args.height % 2:
        parser.error("--width and --height must be even (H.264 4:2:0)")
    args.out = args.out.resolve()
    args.config = args.config.resolve() if args.config is not None else None
    args.cache = (args.cache or args.out / "workload").resolve()
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child_video:
        child_run(args)
        return

    import imageio_ffmpeg
    from motiflens.core.environment import describe_platform, resolve_device
    from motiflens.core.log import configure_logging

    configure_logging(quiet=True)
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    config = load(args)
    chosen = [workload for name, workload in workloads().items() if args.workload in (name, "all")]
    plans = {
        workload.name: [
            episode_plan(workload, index, args.seconds, args.width, args.height, ffmpeg, args.cache)
            for index in range(args.videos)
        ]
        for workload in chosen
    }
    log(f"workloads {', '.join(plans)}: {args.videos} x {args.seconds:g} s at {args.width}x{args.height}")
    for workload_plans in plans.values():
        make_episodes(workload_plans)

    import_seconds = warm_imports()  # before anything is timed: a one-off cost per process
    warmup_seconds = None
    if not args.no_warmup:
        log("warm-up: the shortest sample through the pipeline (not timed)")
        warmup_seconds = warm_up(config, args.out / "warmup")
    sections = {workload.name: bench_workload(args, config, workload, plans[workload.name], ffmpeg)
                for workload in chosen}  # fmt: skip
    long = long_section(args, chosen[0], plans[chosen[0].name][0]["file"], ffmpeg) if args.long else None

    targets = {
        f"{name}.{measure}": entry
        for name, section in sections.items()
        for measure, entry in section["targets"].items()
    }
    report = {
        "benchmark": "scripts/bench.py",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpu": cpu_name(),
            "cpu_count": os.cpu_count(),
            "memory_gb": memory_gb(),
            "gpu": gpu_name(),
            **describe_platform(),
        },
        "device": resolve_device(config.device),
        "versions": versions(ffmpeg),
        "config": {
            "file": str(args.config.relative_to(ROOT) if args.config.is_relative_to(ROOT) else args.config),
            "overrides": effective_overrides(args),
            "hash": config.hash(),
            "visual_model": config.visual.model,
            "visual_model_note": TEST_VISUAL_NOTE if config.visual.model == "test" else None,
        },
        "import_seconds": r(import_seconds),
        "warmup_seconds": r(warmup_seconds),
        "throughput_units": THROUGHPUT_UNITS,
        "workloads": sections,
        "long": long,
        "targets": targets,
        "targets_met": all(entry["met"] for entry in targets.values()),
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
