"""The Ray engine: the same stages as Ray Data actors, videos streaming from one to the next.

Each stage becomes one `map_batches` step with a pool of actors that load the stage's model once and keep it.
Decoding stages (ingest, shots) ask for CPUs only; model stages ask for a share of a GPU when the run's device
is CUDA, so decoding of the next videos overlaps inference on earlier ones. A video travels between actors as
JSON (checkpoint.encode_work): no pickled model objects, and every actor writes its checkpoints to the run
folder exactly as the local engine does, so the results and a later resume are the same. On a cluster the run
folder and the videos must be on a filesystem every node sees.
"""

from __future__ import annotations

import json
import logging
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from motiflens.core.config import Config
from motiflens.core.log import get_logger
from motiflens.dialogue.transcribe import available_cores
from motiflens.run.checkpoint import decode_work, encode_work

if TYPE_CHECKING:
    from motiflens.run.runner import Runner
    from motiflens.stages.base import VideoWork

log = get_logger("ray")

#: Stages that decode video and run no model: CPU actors only.
DECODE_STAGES = ("ingest", "shots")


class StageActor:
    """One stage in one Ray actor process: prepared once, its model opened on first need and kept."""

    def __init__(self, config: dict[str, Any], stage: str, device: str, forced: bool, threads: int) -> None:
        from motiflens.core.environment import seed_everything
        from motiflens.core.log import configure_logging
        from motiflens.run.executor import StageExecutor
        from motiflens.stages import build_stages

        configure_logging(0, json_lines=False, quiet=True)
        resolved = Config.model_validate(config)
        seed_everything(resolved.seed)
        if device == "cpu":
            import torch

            torch.set_num_threads(max(1, threads))
        (instance,) = [candidate for candidate in build_stages(resolved) if candidate.name == stage]
        instance.prepare()
        self.executor = StageExecutor(instance, resolved, device, forced=forced, keep_open=True)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        works = [decode_work(json.loads(text)) for text in batch["work"]]
        self.executor.run(works)
        # Run-level facts (calibrations) ride along with the videos, one entry per stage that has any.
        info = [json.loads(text) for text in batch["info"]]
        own = self.executor.stage.info()
        if own:
            for entry in info:
                entry[self.executor.stage.name] = own
        return {
            "index": batch["index"],
            "work": np.array([json.dumps(encode_work(work), ensure_ascii=False) for work in works], dtype=object),
            "info": np.array([json.dumps(entry) for entry in info], dtype=object),
        }


class RayEngine:
    def __init__(self, address: str | None = None, num_cpus: int | None = None, gpus_per_model: float = 0.25) -> None:
        import ray

        self.ray = ray
        self.started_here = not ray.is_initialized()
        if self.started_here:
            # Ray's C++ core logs routine actor notes at ERROR level on the driver's stderr.
            os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
            options: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "ignore_reinit_error": True,
                "logging_level": logging.WARNING,
            }
            if address:
                options["address"] = address
            else:  # a local instance: small object store, all cores unless told
                options.update(num_cpus=num_cpus or os.cpu_count() or 1, object_store_memory=256 * 1024 * 1024)
            ray.init(**options)
        self.gpus_per_model = gpus_per_model
        self.info: dict[str, Any] = {}

    def run_chunk(self, runner: Runner, works: list[VideoWork]) -> dict[str, float]:
        import time

        import ray.data

        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = runner.progress is not None
        # Ray Data reports its own progress through logging at INFO; ours is enough.
        for name in ("ray", "ray.data"):
            logging.getLogger(name).setLevel(logging.WARNING)
        cpus = float(self.ray.cluster_resources().get("CPU", 1.0))
        # Every stage keeps one actor alive; together they must fit the CPUs, or the pipeline stalls.
        share = max(0.05, min(1.0, cpus / len(runner.stages)))
        rows = [{"index": i, "work": json.dumps(encode_work(work)), "info": "{}"} for i, work in enumerate(works)]
        local_threads = runner.config.asr.cpu_threads or available_cores()
        dataset = ray.data.from_items(rows)
        for stage in runner.stages:
            on_gpu = runner.device == "cuda" and stage.name not in DECODE_STAGES and stage.uses_device
            dataset = dataset.map_batches(
                StageActor,
                fn_constructor_kwargs={
                    "config": runner.config.to_dict(),
                    "stage": stage.name,
                    "device": runner.device,
                    "forced": stage.name in runner.forced,
                    "threads": max(1, round(share)),
                },
                batch_size=1,
                batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=1),
                num_cpus=share,
                num_gpus=self.gpus_per_model if on_gpu else 0,
                # Ray sets OMP_NUM_THREADS=1 in its workers; Whisper's CPU kernels sum in another order with
                # fewer OpenMP threads, so the actors get the thread count this process would use.
                runtime_env={"env_vars": {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", str(local_threads))}},
            )
        began = time.perf_counter()
        results = sorted(dataset.take_all(), key=lambda row: int(row["index"]))
        elapsed = time.perf_counter() - began
        finished = [decode_work(json.loads(row["work"])) for row in results]
        for position, work in enumerate(finished):
            works[position] = work
        for row in results:
            self.info.update(json.loads(row["info"]))
        # Stages overlap on Ray: per-stage seconds are the videos' own timings, the chunk's wall time is extra.
        seconds = {stage.name: sum(w.timings_seconds.get(stage.name, 0.0) for w in finished) for stage in runner.stages}
        seconds["wall"] = round(elapsed, 3)
        if runner.progress is not None:
            for stage in runner.stages:
                for work in finished:
                    runner.progress(stage.name, work)
        return seconds

    def stage_info(self, runner: Runner) -> dict[str, Any]:
        return {"stage_info": dict(self.info)} if self.info else {}

    def shutdown(self) -> None:
        if self.started_here:
            self.ray.shutdown()
