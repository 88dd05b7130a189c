"""End-to-end benchmark: a fixed generated workload through the whole pipeline, then its parts alone.

    .venv/bin/python scripts/bench.py [--videos 8 --seconds 60 --width 1080 --height 1920]
                                      [--config configs/cpu-fast.yaml] [--set KEY=VALUE]... [--device auto]
                                      [--out runs/bench] [--cache DIR] [--keep] [--long]

1. Workload: N episodes of S seconds, W x H, 25 fps, H.264 + AAC, made by looping the bundled samples
   (data/samples/*.mp4: speech, burned-in subtitles, hard cuts) with the ffmpeg binary of imageio-ffmpeg.
   Every command is in the JSON; a file is reused when its sidecar holds the same command key.
2. Pipeline: `motiflens.run.runner.Runner` in this process on a fresh output folder (no checkpoint reuse).
   Stage seconds come from run.json, counts (frames, tiles, audio seconds) from its per-video `stats`.
3. Components alone, in the same process, on the same work: PyAV decode of the very frames each stage
   decodes (FrameReader, same times and sizes), audio extraction, PySceneDetect on the decoded shot frames,
   faster-whisper (SpeechTranscriber, same settings) on the same audio, open_clip preprocess + encode of the
   same tiles (same masking and near-duplicate skipping), RapidOCR on the same subtitle-band crops. The
   ratio pipeline wall / sum(components) is the pipeline's overhead (below 1: overlap wins).
4. `--long` adds one 15-minute episode, run in a fresh child process, and the first workload episode the
   same way: their peak RSS side by side shows whether memory stays flat with video length.

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
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
FPS = 25
LONG_SECONDS = 900.0
TEST_VISUAL_NOTE = (
    "visual.model=test: random-weight open_clip ViT-B-32 (the default model's architecture); "
    "valid for speed only, never for detections (no CLIP weights are available offline)"
)
TARGETS = {"x_realtime": 0.25, "ratio": 1.10, "peak_rss_gb": 3.0}
T = TypeVar("T")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


def per(count: float, seconds: float) -> float | None:
    return r(count / seconds) if seconds > 0 else None


# ---------------------------------------------------------------------------------------------- memory


def rss_bytes() -> int | None:
    """Resident set size now (Linux /proc; None elsewhere)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


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
        self.samples = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> RssSampler:
        self.peak, self.samples = 0, 0
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="bench-rss", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            value = rss_bytes()
            if value is not None:
                self.peak = max(self.peak, value)
                self.samples += 1
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
    for name in ("onnxruntime", "rapidocr-onnxruntime", "scenedetect-headless", "sentence-transformers"):
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


def sample_files() -> list[Path]:
    files = sorted(SAMPLES.glob("*.mp4"))
    if not files:
        sys.exit(f"no sample videos in {SAMPLES} (run `make samples`)")
    return files


def episode_plan(index: int, seconds: float, width: int, height: int, ffmpeg: str, cache: Path) -> dict[str, Any]:
    """One episode: the samples in a rotated order, looped with the concat demuxer, cut to `seconds`,
    scaled to width x height at 25 fps, H.264 + AAC. The key hashes the command, the concat list and
    the samples' contents, so a changed recipe or sample makes a new file."""
    samples = sample_files()
    shift = index % len(samples)
    order = samples[shift:] + samples[:shift]
    concat = "".join(f"file '{path.as_posix()}'\n" for path in order)
    stem = f"ep{index:02d}-{seconds:g}s-{width}x{height}"
    command = [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
        "-stream_loop", "-1", "-f", "concat", "-safe", "0", "-i", "{concat_list}",
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


def build_workload(args: argparse.Namespace, ffmpeg: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    plans = [episode_plan(i, args.seconds, args.width, args.height, ffmpeg, args.cache) for i in range(args.videos)]
    long_plan = episode_plan(90, LONG_SECONDS, args.width, args.height, ffmpeg, args.cache) if args.long else None
    for plan in [*plans, *([long_plan] if long_plan else [])]:
        began = time.perf_counter()
        made = ensure_episode(plan)
        plan["generated"] = made
        if made:
            log(f"generated {plan['file'].name} in {time.perf_counter() - began:.1f} s")
    return plans, long_plan


def shown(command: list[str]) -> list[str]:
    """The command as recorded in the JSON: placeholders for the concat list and the output file."""
    names = {"{concat_list}": "<concat list>", "{output}": "<output>"}
    return [names.get(arg, arg) for arg in command]


def describe_workload(args: argparse.Namespace, plans: list[dict[str, Any]], ffmpeg: str) -> dict[str, Any]:
    return {
        "videos": len(plans),
        "seconds_per_video": args.seconds,
        "width": args.width,
        "height": args.height,
        "fps": FPS,
        "codec": "h264 (libx264 veryfast crf 23) + aac 128k",
        "total_video_seconds": None,  # filled from the probe results
        "cache": str(args.cache),
        "generated": sum(1 for plan in plans if plan["generated"]),
        "reused": sum(1 for plan in plans if not plan["generated"]),
        "ffmpeg": ffmpeg,
        "ffmpeg_command": shown(plans[0]["command"]),
        "concat_list": "the samples data/samples/*.mp4 in order, rotated by the episode index: "
        + ", ".join(path.name for path in sample_files()),
        "files": [plan["file"].name for plan in plans],
    }


# ------------------------------------------------------------------------------------------- config


def effective_overrides(args: argparse.Namespace) -> list[str]:
    """Benchmark defaults first (the user's --set comes later and wins): device, test visual model."""
    chosen = [f"device={args.device}"]
    if not any(item.split("=", 1)[0].strip() == "visual.model" for item in args.overrides):
        chosen.append("visual.model=test")
    return [*chosen, *args.overrides]


def load(args: argparse.Namespace):
    from motiflens.core.config import load_config

    config = load_config(args.config, effective_overrides(args))
    if config.visual.model == "test":
        os.environ["MOTIFLENS_ALLOW_TEST_MODELS"] = "1"  # speed only; the JSON says so
    return config


# ------------------------------------------------------------------------------------------ pipeline

#: Imported before anything is timed: a one-off cost per process that neither side should carry.
HEAVY_MODULES = ("torch", "open_clip", "faster_whisper", "ctranslate2", "rapidocr_onnxruntime",
                 "sentence_transformers", "scenedetect", "av", "cv2")


def warm_imports() -> float:
    import importlib

    began = time.perf_counter()
    for name in HEAVY_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    return time.perf_counter() - began



def run_pipeline(config: Any, videos: list[Path], out_dir: Path, sampler: RssSampler) -> dict[str, Any]:
    """Runner over `videos` in a fresh folder; wall seconds, run.json, peak RSS."""
    from motiflens.run.discovery import discover
    from motiflens.run.runner import Runner

    if out_dir.exists():
        shutil.rmtree(out_dir)
    sources = discover(videos, config.input)
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    sampler.start()
    began = time.perf_counter()
    report = Runner(config, out_dir).run(sources, videos)
    wall = time.perf_counter() - began
    sampled = sampler.stop()
    run = json.loads((out_dir / "run.json").read_text())
    gpu_peak = None
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        gpu_peak = torch.cuda.max_memory_allocated()
    return {"wall": wall, "run": run, "failed": report.failed, "peak": peak_rss_bytes(), "sampled": sampled,
            "gpu_peak": gpu_peak}


def pipeline_section(result: dict[str, Any], video_seconds: float) -> dict[str, Any]:
    run = result["run"]
    videos = run["videos"]
    stages = {name: r(seconds) for name, seconds in run["timings_seconds"].items()}

    def total(stage: str, key: str) -> float:
        return sum(float(v.get("stats", {}).get(stage, {}).get(key, 0) or 0) for v in videos)

    counts = {
        "shots_frames_decoded": int(total("shots", "analysed_frames")),
        "visual_frames": int(total("visual", "frames")),
        "visual_tiles_encoded": int(total("visual", "tiles_encoded")),
        "visual_encodings_saved": int(total("visual", "encodings_saved")),
        "ocr_frames": int(total("ocr", "frames_read")),
        "ocr_frames_recognised": int(total("ocr", "frames_recognised")),
        "asr_audio_seconds": r(total("asr", "audio_seconds")),
    }
    wall = result["wall"]
    minutes = video_seconds / 60
    per_video = {
        v["video_id"]: {"status": v["status"], "timings_seconds": v.get("timings_seconds", {})} for v in videos
    }
    return {
        "wall_seconds": r(wall),
        "stage_seconds": stages,
        "seconds_per_video_minute": r(wall / minutes) if minutes else None,
        "x_realtime": r(wall / video_seconds, 4) if video_seconds else None,
        "throughput": {
            # frames the shots stage decodes (and analyses) per stage second
            "decode_frames_per_second": per(counts["shots_frames_decoded"], stages.get("shots") or 0),
            # audio seconds per ASR stage second: above 1 is faster than real time
            "asr_realtime_factor": per(counts["asr_audio_seconds"] or 0, stages.get("asr") or 0),
            # tiles through the image tower per visual stage second (decode, preprocess, model, scoring)
            "clip_images_per_second": per(counts["visual_tiles_encoded"], stages.get("visual") or 0),
            # subtitle-band frames per OCR stage second (decode, detection, recognition when the text changed)
            "ocr_frames_per_second": per(counts["ocr_frames"], stages.get("ocr") or 0),
        },
        "counts": counts,
        "peak_rss_mb": mb(result["peak"]),
        "peak_rss_sampled_mb": mb(result["sampled"]),
        "gpu_peak_memory_mb": mb(result["gpu_peak"]),
        "videos_ok": sum(1 for v in videos if v["status"] == "ok"),
        "videos_failed": result["failed"],
        "videos": per_video,
    }


# ---------------------------------------------------------------------------------------- components


class Clock:
    """Adds up seconds per name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def time(self, name: str, action, *args, **kwargs):
        began = time.perf_counter()
        try:
            return action(*args, **kwargs)
        finally:
            self.add(name, time.perf_counter() - began)

    def iterate(self, name: str, items: Iterable[T]) -> Iterator[T]:
        """Yield items, charging only the time spent producing them to `name`."""
        iterator = iter(items)
        while True:
            began = time.perf_counter()
            try:
                item = next(iterator)
            except StopIteration:
                self.add(name, time.perf_counter() - began)
                return
            self.add(name, time.perf_counter() - began)
            yield item

    def get(self, name: str) -> float:
        return self.seconds.get(name, 0.0)


def run_components(config: Any, videos: list[Path], scratch: Path) -> dict[str, Any]:
    """Each model and decoder alone on the same work the pipeline did; counts show it is the same."""
    import numpy as np
    import torch
    from motiflens.core.environment import resolve_device
    from motiflens.core.taxonomy import load_taxonomy, taxonomy_paths
    from motiflens.dialogue.ocr import SubtitleReader, ocr_regions, region_image
    from motiflens.dialogue.transcribe import SpeechTranscriber
    from motiflens.dialogue.whisper_model import WhisperResolver
    from motiflens.media.audio import AudioExtractor, read_wav_float32
    from motiflens.media.frames import FrameReader, sample_times
    from motiflens.media.layout import analyse_layout
    from motiflens.media.probe import probe
    from motiflens.run.discovery import discover
    from motiflens.stages.ingest import analysis_times
    from motiflens.stages.shots import DETECTORS, shots_from_starts
    from motiflens.visual.backend import create_backend
    from motiflens.visual.dedup import Deduplicator
    from motiflens.visual.prompts import build_prompt_bank
    from motiflens.visual.tiles import TileCropper
    from motiflens.visual.weights import WeightsResolver
    from scenedetect import FrameTimecode

    device = resolve_device(config.device)
    clock = Clock()
    frames_by_stage = {"ingest": 0, "shots": 0, "visual": 0, "ocr": 0}
    counts = {"audio_seconds": 0.0, "tiles": 0, "ocr_frames": 0, "ocr_recognised": 0, "shots": 0}

    # Models load once, as the pipeline loads each once per chunk.
    transcriber = None
    if config.asr.enabled:
        weights = WhisperResolver(config.asr).resolve()
        transcriber = SpeechTranscriber(weights, config.asr, device, seed=config.seed)
        clock.time("whisper_load", transcriber.load)
    backend = bank = None
    if config.visual.enabled:
        settings = config.visual
        taxonomy = load_taxonomy(taxonomy_paths(settings.builtin_taxonomy, settings.taxonomy))
        visual_weights = WeightsResolver(settings.weights, settings.allow_download, config.seed).resolve(settings.model)
        backend = create_backend(visual_weights, device, settings.autocast)
        clock.time("clip_load", backend.load)
        bank = clock.time(
            "clip_load", build_prompt_bank, backend, taxonomy, visual_weights.card.id, visual_weights.key,
            backend.logit_scale, settings.embedding_cache,
        )  # fmt: skip
    reader = None
    if config.ocr.enabled:
        reader = SubtitleReader(config.ocr)
        clock.time("ocr_load", reader.load)

    extractor = AudioExtractor(config.audio.sample_rate)
    frames_reader = FrameReader(config.frames)
    shots_reader = FrameReader(config.frames.model_copy(update={"max_side": config.shots.max_side}))
    ocr_reader = FrameReader(config.frames.model_copy(update={"max_side": config.ocr.max_side}))
    for source in discover(videos, config.input):
        info = clock.time("probe", probe, source)
        path = source.path
        # ingest: the layout frames, and the audio track
        count = min(config.bands.analysis_frames, max(1, int(info.duration_seconds * 2)))
        times = analysis_times(info.duration_seconds, count)
        analysed = list(clock.iterate("decode_ingest", frames_reader.read(path, info, times)))
        frames_by_stage["ingest"] += len(analysed)
        layout = analyse_layout(analysed, info.width, info.height, config.bands, config.tiles)
        del analysed
        audio = None
        if config.audio.enabled and info.has_audio:
            track = clock.time("audio_extract", extractor.extract, path, scratch / f"{source.video_id}.wav")
            if track is not None:
                audio = np.array(read_wav_float32(track.path), dtype=np.float32)
                counts["audio_seconds"] += track.duration_seconds

        # shots: decode at the analysis rate, then PySceneDetect on the decoded frames
        shot_starts: list[float] = []
        if config.shots.enabled:
            rate = min(info.fps, config.shots.analysis_fps) if info.fps > 0 else config.shots.analysis_fps
            times = sample_times(info.duration_seconds, rate)
            decoded = list(clock.iterate("decode_shots", shots_reader.read(path, info, times)))
            frames_by_stage["shots"] += len(decoded)
            began = time.perf_counter()
            detector = DETECTORS[config.shots.detector](config.shots, rate)
            cuts = []
            for number, frame in enumerate(decoded):
                image = np.ascontiguousarray(frame.image[:, :, ::-1])
                cuts.extend(detector.process_frame(FrameTimecode(number, fps=rate), image))
            if decoded:
                cuts.extend(detector.post_process(FrameTimecode(len(decoded) - 1, fps=rate)))
            starts = [decoded[c.frame_num].time_seconds for c in cuts if 0 < c.frame_num < len(decoded)]
            shots = shots_from_starts(starts, info.duration_seconds)
            clock.add("shot_detection", time.perf_counter() - began)
            counts["shots"] += len(shots)
            shot_starts = [shot.start_seconds for shot in shots]
            del decoded

        # whisper on the same audio, same settings
        if transcriber is not None and audio is not None:
            clock.time("whisper", transcriber.transcribe, audio)

        # visual: the sampled frames (plus shot starts), masked, deduplicated, tiled, preprocessed, encoded
        if backend is not None and bank is not None:
            extra = shot_starts if config.frames.shot_first_frames else []
            times = sample_times(info.duration_seconds, config.frames.sample_fps, extra=extra)
            decoded = list(clock.iterate("decode_visual", frames_reader.read(path, info, times)))
            frames_by_stage["visual"] += len(decoded)
            began = time.perf_counter()
            cropper = TileCropper(layout, config.visual.mask_subtitles)
            dedup = Deduplicator(config.visual.dedup_threshold) if config.visual.dedup else None
            batches = []
            for frame in decoded:
                masked = cropper.masked(frame)
                if dedup is not None and dedup.is_duplicate(masked.image) and batches:
                    continue
                batches.append(torch.stack([backend.preprocess(crop) for crop in cropper.crops(masked)]))
            del decoded
            clock.add("clip_preprocess", time.perf_counter() - began)
            if batches:
                pixels = torch.cat(batches)
                counts["tiles"] += len(pixels)
                size = config.visual.batch_size
                for start in range(0, len(pixels), size):
                    clock.time("clip_encode", backend.encode_images, pixels[start : start + size])

        # OCR: the subtitle band of frames at ocr.sample_fps
        if reader is not None:
            boxes, _ = ocr_regions(layout, config.ocr)
            if boxes:
                times = sample_times(info.duration_seconds, config.ocr.sample_fps)
                crops = [
                    (frame.time_seconds, region_image(frame, boxes).copy())
                    for frame in clock.iterate("decode_ocr", ocr_reader.read(path, info, times))
                ]
                frames_by_stage["ocr"] += len(crops)
                before = reader.recognised
                clock.time("ocr", reader.read_all, crops)
                counts["ocr_frames"] += len(crops)
                counts["ocr_recognised"] += reader.recognised - before
                del crops

    if transcriber is not None:
        transcriber.close()
    if backend is not None:
        backend.close()
    if reader is not None:
        reader.close()

    decode_seconds = {stage: r(clock.get(f"decode_{stage}")) for stage in frames_by_stage}
    decode_total = sum(clock.get(f"decode_{stage}") for stage in frames_by_stage)
    frames_total = sum(frames_by_stage.values())
    whisper_work = clock.get("whisper")
    clip_work = clock.get("clip_preprocess") + clock.get("clip_encode")
    section = {
        "probe": {"seconds": r(clock.get("probe"))},
        "decode": {
            "seconds": r(decode_total),
            "frames": frames_total,
            "frames_per_second": per(frames_total, decode_total),
            "frames_by_stage": frames_by_stage,
            "seconds_by_stage": decode_seconds,
        },
        "audio_extract": {"seconds": r(clock.get("audio_extract")), "audio_seconds": r(counts["audio_seconds"])},
        "shot_detection": {"seconds": r(clock.get("shot_detection")), "frames": frames_by_stage["shots"],
                           "shots": counts["shots"]},
        "whisper": {
            "load_seconds": r(clock.get("whisper_load")),
            "seconds": r(whisper_work),
            "audio_seconds": r(counts["audio_seconds"]),
            "realtime_factor": per(counts["audio_seconds"], whisper_work),
        },
        "clip": {
            "load_seconds": r(clock.get("clip_load")),  # model + prompt-ensemble text embeddings
            "tiles": counts["tiles"],
            "preprocess_seconds": r(clock.get("clip_preprocess")),
            "encode_seconds": r(clock.get("clip_encode")),
            "images_per_second": per(counts["tiles"], clip_work),
            "images_per_second_model_only": per(counts["tiles"], clock.get("clip_encode")),
        },
        "ocr": {
            "load_seconds": r(clock.get("ocr_load")),
            "frames": counts["ocr_frames"],
            "frames_recognised": counts["ocr_recognised"],
            "seconds": r(clock.get("ocr")),
            "frames_per_second": per(counts["ocr_frames"], clock.get("ocr")),
        },
    }
    section["sum_seconds"] = r(sum(clock.seconds.values()))
    # The same split by pipeline stage, to see where the overhead is.
    section["by_stage"] = {
        "ingest": r(clock.get("probe") + clock.get("decode_ingest") + clock.get("audio_extract")),
        "shots": r(clock.get("decode_shots") + clock.get("shot_detection")),
        "asr": r(clock.get("whisper_load") + whisper_work),
        "ocr": r(clock.get("ocr_load") + clock.get("decode_ocr") + clock.get("ocr")),
        "visual": r(clock.get("clip_load") + clock.get("decode_visual") + clip_work),
    }
    return section


# ------------------------------------------------------------------------------------ child process


def child_run(args: argparse.Namespace) -> None:
    """One pipeline run of one video in this (fresh) process: prints wall seconds and peak RSS as JSON."""
    config = load(args)
    sampler = RssSampler()
    video = Path(args.child_video)
    result = run_pipeline(config, [video], Path(args.child_out), sampler)
    from motiflens.media.probe import probe
    from motiflens.run.discovery import discover

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
    }))


def run_child(args: argparse.Namespace, video: Path, out_dir: Path) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child-video", str(video), "--child-out", str(out_dir),
               "--device", args.device]
    if args.config is not None:
        command += ["--config", str(args.config)]
    for item in args.overrides:
        command += ["--set", item]
    log(f"child process: {video.name}")
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=8, help="episodes in the workload (default 8)")
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
    parser.add_argument("--long", action="store_true",
                        help="also run a 15-minute episode and the first episode in fresh processes; compare peak RSS")
    parser.add_argument("--child-video", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.videos < 1 or args.seconds <= 0 or args.width < 16 or args.height < 16:
        parser.error("--videos >= 1, --seconds > 0, --width and --height >= 16")
    if args.width % 2 or args.height % 2:
        parser.error("--width and --height must be even (H.264 4:2:0)")
    args.out = args.out.resolve()
    args.config = args.config.resolve() if args.config is not None else None
    args.cache = (args.cache or args.out / "workload").resolve()
    return args


def target(value: float | None, limit: float) -> dict[str, Any]:
    return {"value": value, "max": limit, "met": value is not None and value <= limit}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child_video:
        child_run(args)
        return

    import imageio_ffmpeg
    from motiflens.core.log import configure_logging

    configure_logging(quiet=True)
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    config = load(args)
    log(f"workload: {args.videos} x {args.seconds:g} s at {args.width}x{args.height} in {args.cache}")
    plans, long_plan = build_workload(args, ffmpeg)
    files = [plan["file"] for plan in plans]

    from motiflens.core.environment import describe_platform, resolve_device
    from motiflens.media.probe import probe
    from motiflens.run.discovery import discover

    video_seconds = sum(probe(source).duration_seconds for source in discover(files, config.input))
    workload = describe_workload(args, plans, ffmpeg)
    workload["total_video_seconds"] = r(video_seconds)

    import_seconds = warm_imports()
    log("pipeline (Runner, fresh output folder)")
    sampler = RssSampler()
    run_dir = args.out / "run"
    result = run_pipeline(config, files, run_dir, sampler)
    pipeline = pipeline_section(result, video_seconds)
    pipeline["import_seconds"] = r(import_seconds)  # before the timed run, not part of wall_seconds
    log(f"pipeline: {pipeline['wall_seconds']} s for {video_seconds:.0f} s of video")

    log("components alone")
    scratch = args.out / "components"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    sampler.start()
    components = run_components(config, files, scratch)
    components["peak_rss_sampled_mb"] = mb(sampler.stop())
    log(f"components: {components['sum_seconds']} s")

    ratio = result["wall"] / components["sum_seconds"] if components["sum_seconds"] else math.inf
    stages = pipeline["stage_seconds"]
    # The stages that have standalone counterparts (story and align have none), over those counterparts.
    matched = sum(stages.get(name) or 0.0 for name in components["by_stage"])
    ratio_matched = matched / components["sum_seconds"] if components["sum_seconds"] else math.inf
    stage_vs = {
        name: {"pipeline": stages.get(name), "components": components["by_stage"].get(name)}
        for name in stages
    }
    counts = pipeline["counts"]
    same_work = {
        "shots_frames": counts["shots_frames_decoded"] == components["decode"]["frames_by_stage"]["shots"],
        "visual_frames": counts["visual_frames"] == components["decode"]["frames_by_stage"]["visual"],
        "clip_tiles": counts["visual_tiles_encoded"] == components["clip"]["tiles"],
        "ocr_frames": counts["ocr_frames"] == components["ocr"]["frames"],
    }

    long_section = None
    if long_plan is not None:
        reference = run_child(args, files[0], args.out / "long-reference")
        long_run = run_child(args, long_plan["file"], args.out / "long")
        long_section = {
            "ffmpeg_command": shown(long_plan["command"]),
            "reference": reference,
            "long": long_run,
            "peak_rss_growth": r(long_run["peak_rss_mb"] / reference["peak_rss_mb"], 3)
            if reference.get("peak_rss_mb") else None,
        }

    if not args.keep:
        for folder in (run_dir, scratch, args.out / "long", args.out / "long-reference"):
            shutil.rmtree(folder, ignore_errors=True)

    peak_gb = (result["peak"] / 2**30) if result["peak"] else None
    if long_section is not None:
        peak_gb = max(peak_gb or 0.0, long_section["long"]["peak_rss_mb"] / 1024)
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
        "workload": workload,
        "pipeline": pipeline,
        "components": components,
        "ratio": r(ratio),
        "ratio_matched_stages": r(ratio_matched),
        "pipeline_outside_matched_stages_seconds": r(result["wall"] - matched),
        "same_work": same_work,
        "stage_vs_components": stage_vs,
        "long": long_section,
        "targets": {
            "x_realtime": target(pipeline["x_realtime"], TARGETS["x_realtime"]),
            "ratio": target(r(ratio), TARGETS["ratio"]),
            "peak_rss_gb": target(r(peak_gb, 2), TARGETS["peak_rss_gb"]),
        },
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
