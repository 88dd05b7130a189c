"""Benchmark the visual stream on this machine and print one JSON object.

- images_per_second: 540x540 tiles through open_clip's preprocess and the image tower, in batches (and the
  tower alone);
- frames_per_second: sampled frames end to end (decode, mask, tile, preprocess, encode, score) on each sample;
- encodings saved by near-duplicate detection on the samples.

Speed does not depend on the weights, so this uses the random-weight `test` model (ViT-B-32 architecture)
and reports only timings and counts, never detections. Run: .venv/bin/python scripts/bench_visual.py [PATHS]
(default data/samples; a synthetic clip with a static shot is generated when no video is found).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def synthetic_clip(folder: Path) -> Path:
    """6 s vertical clip: 3 s of a static card, then 3 s of moving test pattern (imageio-ffmpeg's binary)."""
    import imageio_ffmpeg

    path = folder / "bench-static-then-moving.mp4"
    graph = "[0:v][1:v]concat=n=2:v=1[v]"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "smptebars=s=540x960:d=3:r=25", "-f", "lavfi", "-i", "testsrc2=s=540x960:d=3:r=25",
         "-filter_complex", graph, "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         str(path)],
        check=True,
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[ROOT / "data" / "samples"])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--images", type=int, default=64, help="tiles for the model throughput measurement")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    # Benchmark only: random weights are fine for speed, and nothing here is reported as a detection.
    os.environ["MOTIFLENS_ALLOW_TEST_MODELS"] = "1"
    os.environ.setdefault("MOTIFLENS_CACHE", tempfile.mkdtemp(prefix="motiflens-bench-"))
    import torch
    from motiflens.core.config import Config
    from motiflens.core.taxonomy import builtin_taxonomy_path, load_taxonomy
    from motiflens.media.frames import FrameReader
    from motiflens.run.discovery import discover
    from motiflens.stages.base import VideoWork
    from motiflens.stages.ingest import IngestStage
    from motiflens.visual.backend import create_backend
    from motiflens.visual.engine import FrameScorer
    from motiflens.visual.prompts import build_prompt_bank
    from motiflens.visual.tiles import TileCropper
    from motiflens.visual.weights import WeightsResolver
    from PIL import Image

    config = Config.model_validate({"device": args.device, "audio": {"enabled": False}})
    weights = WeightsResolver(None, False, config.seed).resolve("test")
    backend = create_backend(weights, args.device, config.visual.autocast)
    started = time.perf_counter()
    backend.load()
    load_seconds = time.perf_counter() - started
    taxonomy = load_taxonomy([builtin_taxonomy_path()])
    started = time.perf_counter()
    bank = build_prompt_bank(backend, taxonomy, "bench", weights.key, backend.logit_scale, use_cache=False)
    text_seconds = time.perf_counter() - started

    rng = np.random.default_rng(0)
    tiles = [Image.fromarray(rng.integers(0, 256, (540, 540, 3), dtype=np.uint8)) for _ in range(args.images)]
    backend.encode_images(torch.stack([backend.preprocess(tile) for tile in tiles[:2]]))  # warm-up
    started = time.perf_counter()
    pixels = torch.stack([backend.preprocess(tile) for tile in tiles])
    preprocess_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for start in range(0, len(tiles), args.batch_size):
        backend.encode_images(pixels[start : start + args.batch_size])
    encode_seconds = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as scratch:
        sources = discover(args.paths, config.input) if any(p.exists() for p in args.paths) else []
        generated = not sources
        if generated:
            sources = discover([synthetic_clip(Path(scratch))], config.input)
        videos = []
        ingest = IngestStage(config)
        for source in sources:
            work = VideoWork(source=source, workdir=Path(scratch) / source.video_id)
            work.workdir.mkdir(parents=True, exist_ok=True)
            ingest.process(work)
            row = {"video": source.relative_path, "size": f"{work.info.width}x{work.info.height}",
                   "tiles_per_frame": len(work.layout.tiles)}
            for dedup in (None, config.visual.dedup_threshold):
                scorer = FrameScorer(backend, bank, args.batch_size, dedup)
                frames = FrameReader(config.frames).read(source.path, work.info, work.frame_times)
                started = time.perf_counter()
                count = sum(1 for _ in scorer.score(frames, TileCropper(work.layout)))
                seconds = time.perf_counter() - started
                key = "dedup" if dedup else "no_dedup"
                row[f"frames_per_second_{key}"] = round(count / seconds, 2)
                if dedup:
                    row.update(scorer.stats.to_json())
            videos.append(row)

    total_saved = sum(v["encodings_saved"] for v in videos)
    total_tiles = sum(v["encodings_saved"] + v["tiles_encoded"] for v in videos)
    print(json.dumps({
        "model": "ViT-B-32 (random weights; speed only)",
        "device": args.device,
        "torch_threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "batch_size": args.batch_size,
        "model_load_seconds": round(load_seconds, 2),
        "text_prompts": sum(len(s.visual_prompts) for s in taxonomy.symbols) + len(taxonomy.background_prompts),
        "text_encode_seconds": round(text_seconds, 2),
        "images_per_second": round(len(tiles) / (preprocess_seconds + encode_seconds), 2),
        "images_per_second_model_only": round(len(tiles) / encode_seconds, 2),
        "samples": "synthetic clip (no videos found)" if generated else [str(p) for p in args.paths],
        "videos": videos,
        "encodings_saved": total_saved,
        "encodings_saved_share": round(total_saved / total_tiles, 3) if total_tiles else 0.0,
    }, indent=2))


if __name__ == "__main__":
    sys.exit(main())
