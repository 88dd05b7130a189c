"""Dialogue-stream throughput on this machine: ASR realtime factor and OCR frames per second.

    .venv/bin/python scripts/bench_asr.py [VIDEOS...] [--set asr.model=whisper-small ...]

Runs the real stages (ingest, then ASR, then OCR) over the videos (default: data/samples) with the
models loaded once, and prints one JSON document. Model loading is timed apart from the work.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import click
from motiflens.core.config import load_config
from motiflens.core.environment import describe_platform, resolve_device
from motiflens.run.discovery import discover
from motiflens.stages.asr import AsrStage
from motiflens.stages.base import VideoWork
from motiflens.stages.ingest import IngestStage
from motiflens.stages.ocr import OcrStage

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


def timed(action) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, exists=True))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Config override, as for `run`.")
def main(paths: tuple[Path, ...], overrides: tuple[str, ...]) -> None:
    config = load_config(None, list(overrides))
    sources = discover(paths or (SAMPLES,), config.input)
    if not sources:
        sys.exit(f"no videos in {', '.join(map(str, paths or (SAMPLES,)))}")
    ingest, asr, ocr = IngestStage(config), AsrStage(config), OcrStage(config)
    prepare_seconds = timed(asr.prepare) + timed(ocr.prepare)
    load_seconds = {"asr": timed(asr.open), "ocr": timed(ocr.open)}

    videos = []
    with tempfile.TemporaryDirectory() as scratch:
        for source in sources:
            work = VideoWork(source=source, workdir=Path(scratch) / source.video_id)
            work.workdir.mkdir(parents=True)
            ingest.process(work)
            asr_seconds = timed(lambda work=work: asr.process(work))
            ocr_seconds = timed(lambda work=work: ocr.process(work))
            audio_seconds = work.audio.duration_seconds if work.audio is not None else 0.0
            videos.append(
                {
                    "video": source.relative_path,
                    "audio_seconds": round(audio_seconds, 3),
                    "asr_seconds": round(asr_seconds, 3),
                    "asr_stream": work.streams["asr"].to_json(),
                    "ocr_frames": work.stats.get("ocr", {}).get("frames_read", 0),
                    "ocr_seconds": round(ocr_seconds, 3),
                    "ocr_stream": work.streams["ocr"].to_json(),
                }
            )
    asr.close()
    ocr.close()

    transcribed = [video for video in videos if video["asr_stream"]["status"] == "ok"]
    audio = sum(video["audio_seconds"] for video in transcribed)
    asr_wall = sum(video["asr_seconds"] for video in transcribed)
    read = [video for video in videos if video["ocr_stream"]["status"] == "ok"]
    frames = sum(video["ocr_frames"] for video in read)
    ocr_wall = sum(video["ocr_seconds"] for video in read)
    report = {
        "platform": {**describe_platform(), "cpus": os.cpu_count()},
        "device": resolve_device(config.device),
        "models": {**asr.models(), **ocr.models()},
        "prepare_seconds": round(prepare_seconds, 3),
        "load_seconds": {name: round(value, 3) for name, value in load_seconds.items()},
        "asr": {
            "audio_seconds": round(audio, 3),
            "wall_seconds": round(asr_wall, 3),
            # audio seconds per wall second: above 1 is faster than real time
            "realtime_factor": round(audio / asr_wall, 3) if asr_wall else None,
            "wall_seconds_per_audio_second": round(asr_wall / audio, 3) if audio else None,
        },
        "ocr": {
            "sample_fps": config.ocr.sample_fps,
            "frames": frames,
            "wall_seconds": round(ocr_wall, 3),
            # decoding included: what a run sees
            "frames_per_second": round(frames / ocr_wall, 3) if ocr_wall else None,
        },
        "videos": videos,
    }
    click.echo(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
