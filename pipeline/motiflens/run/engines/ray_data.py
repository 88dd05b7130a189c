"""The Ray engine: the same stages as Ray Data actor pools, every video of the run streaming through them.

Each stage is one `map_batches` step over one video at a time, run by an autoscaling pool of actors
(`engine.ray.cpu`, `engine.ray.device`, `engine.ray.stages.<name>`: min/max actors, CPUs, GPUs and memory
per actor) that load the stage's model once and keep it. Several actors of a stage work on different videos at
once (data parallel) while the stages overlap (pipeline parallel); there is no barrier between chunks. A video
travels between actors as JSON (checkpoint.encode_work): no pickled model objects, and every actor writes its
checkpoints to the run folder exactly as the local engine does, so the results and a later resume are the
same. The driver takes videos as they come out of the last stage, records each in run.json and stops the run
at the first failed one with --fail-fast. On a cluster the run folder, the videos and the model cache must be
on a filesystem every node sees.
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import os
import time
import warnings
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from motiflens.core.config import Config, RayConfig
from motiflens.core.errors import ConfigError, EngineError, MotifLensError
from motiflens.core.log import get_logger
from motiflens.dialogue.transcribe import CPU_THREADS_ENV, available_cores
from motiflens.run.checkpoint import decode_work, encode_work
from motiflens.run.executor import FailFast, fail_fast_error

if TYPE_CHECKING:
    from ray.data import Dataset

    from motiflens.run.runner import Runner
    from motiflens.stages.base import Stage, VideoWork

log = get_logger("ray")

#: GPU share per actor of a stage that runs on the device, when the device is CUDA and the config names none:
#: four models fit on one GPU, so decoding of the next videos overlaps inference on earlier ones.
DEFAULT_GPU_SHARE = 0.25
#: Restarts of a crashed actor (Ray Data's default is unbounded): a video that kills its actor every time
#: would otherwise be retried forever instead of ending the run with an engine error.
ACTOR_RESTARTS = 1
GIB = 1024**3
#: How long the minimum actor pools may take to start (a busy cluster, a slow shared filesystem).
MIN_ACTORS_WAIT_SECONDS = 600


@dataclass(frozen=True)
class ActorPool:
    """What one stage's actors reserve and how many of them may run."""

    min_actors: int
    max_actors: int | None
    num_cpus: float
    num_gpus: float
    memory_gb: float
    #: Threads an actor uses (OpenMP, MKL, torch, Whisper): its CPU reservation, rounded, at least one.
    threads: int


def resolve_pools(
    stages: Sequence[Stage], config: RayConfig, device: str, resources: dict[str, float], local_threads: int
) -> dict[str, ActorPool]:
    """Each stage's pool: its own overrides, else its kind's pool, else the automatic values; refused when the
    minimum pools cannot all run at once on the cluster (the pipeline would wait forever).

    An actor's threads follow its CPU reservation, except for a device stage on CPU with the automatic share:
    its model's results depend on the thread count (Whisper's kernels sum in another order with fewer threads),
    so it keeps `local_threads`, the count a local run uses, and a Ray run gives the local run's results."""
    names = [stage.name for stage in stages]
    unknown = sorted(set(config.stages) - set(names))
    if unknown:
        raise ConfigError(f"engine.ray.stages: unknown stage {', '.join(unknown)} (stages: {', '.join(names)})")
    settings: dict[str, dict[str, Any]] = {}
    for stage in stages:
        kind = config.device if stage.uses_device else config.cpu
        own = config.stages.get(stage.name)
        merged = kind.model_dump()
        if own is not None:
            merged.update({key: value for key, value in own.model_dump().items() if value is not None})
        if merged["max_actors"] is not None and merged["max_actors"] < merged["min_actors"]:
            raise ConfigError(
                f"engine.ray pool of {stage.name}: max_actors ({merged['max_actors']}) is below min_actors "
                f"({merged['min_actors']})"
            )
        settings[stage.name] = merged
    cpus = float(resources.get("CPU", 1.0))
    automatic = [name for name in names if settings[name]["num_cpus"] is None]
    fixed_cpus = sum(settings[name]["min_actors"] * settings[name]["num_cpus"] for name in set(names) - set(automatic))
    waiting = sum(settings[name]["min_actors"] for name in automatic)
    # Automatic CPUs: what the fixed pools leave, shared by the remaining minimum actors, at most one each.
    share = min(1.0, max(cpus - fixed_cpus, 0.0) / waiting) if waiting else 1.0
    pools = {}
    for stage in stages:
        merged = settings[stage.name]
        merged["threads"] = max(1, round(merged["num_cpus"] or 0))
        if merged["num_cpus"] is None:
            # Rounded down, so that the minimum pools still fit; no CPU left is reported below.
            merged["num_cpus"] = max(math.floor(share * 10_000) / 10_000, 0.0001)
            merged["threads"] = local_threads if stage.uses_device and device == "cpu" else 1
        if merged["num_gpus"] is None:
            merged["num_gpus"] = DEFAULT_GPU_SHARE if device == "cuda" and stage.uses_device else 0.0
        pools[stage.name] = ActorPool(**merged)
    need = {
        "CPU": sum(pool.min_actors * pool.num_cpus for pool in pools.values()),
        "GPU": sum(pool.min_actors * pool.num_gpus for pool in pools.values()),
        "memory": sum(pool.min_actors * pool.memory_gb * GIB for pool in pools.values()),
    }
    for resource, amount in need.items():
        have = float(resources.get(resource, 0.0))
        if amount > have * (1 + 1e-6):
            unit, scale = (" GiB", GIB) if resource == "memory" else ("", 1)
            raise ConfigError(
                f"engine.ray: the stages' minimum actor pools need {resource} {amount / scale:.2f}{unit} at once, "
                f"the Ray cluster has {have / scale:.2f}{unit}; lower min_actors, num_cpus, num_gpus or memory_gb "
                "(engine.ray.cpu, engine.ray.device, engine.ray.stages)"
            )
    return pools


def actor_environment(prefixes: Sequence[str], threads: int) -> dict[str, str]:
    """The driver's variables that actors need (model cache, hub, thread libraries), and the actor's thread
    count: a worker on another node starts with none of this process's environment."""
    variables = {name: value for name, value in os.environ.items() if name.startswith(tuple(prefixes))}
    count = str(threads)
    variables.update({"OMP_NUM_THREADS": count, "MKL_NUM_THREADS": count, CPU_THREADS_ENV: count})
    return variables


class StageActor:
    """One stage in one Ray actor process: prepared once, its model opened on first need and kept."""

    def __init__(self, config: dict[str, Any], stage: str, device: str, forced: bool) -> None:
        import ray

        from motiflens.core.environment import seed_everything
        from motiflens.core.log import configure_logging
        from motiflens.run.executor import StageExecutor
        from motiflens.stages import STAGES

        configure_logging(0, json_lines=False, quiet=True)
        resolved = Config.model_validate(config)
        seed_everything(resolved.seed)
        # Only this stage's module: an actor of a decoding stage never imports the model libraries. Its thread
        # count (resolve_pools) comes through the environment: OMP_NUM_THREADS, CPU_THREADS_ENV.
        module_name, _, class_name = STAGES[stage].partition(":")
        instance = getattr(importlib.import_module(module_name), class_name)(resolved)
        instance.prepare()
        self.executor = StageExecutor(instance, resolved, device, forced=forced, keep_open=True)
        context = ray.get_runtime_context()
        actor_id = context.get_actor_id()
        assert actor_id is not None, "StageActor runs as a Ray actor"
        self.where = {"actor": actor_id[:12], "node": context.get_node_id()[:12]}

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        works = [decode_work(json.loads(text)) for text in batch["work"]]
        started = time.time()
        self.executor.run(works)
        span = {**self.where, "started": round(started, 3), "finished": round(time.time(), 3)}
        name = self.executor.stage.name
        own = self.executor.stage.info()
        infos, placements = [], []
        for info_text, placement_text in zip(batch["info"], batch["placement"], strict=True):
            # Run-level facts (calibrations) ride along with the videos, one entry per stage that has any.
            info = json.loads(info_text)
            if own:
                info[name] = own
            infos.append(json.dumps(info))
            placements.append(json.dumps({**json.loads(placement_text), name: span}))
        return {
            "index": batch["index"],
            "work": np.array([json.dumps(encode_work(work), ensure_ascii=False) for work in works], dtype=object),
            "info": np.array(infos, dtype=object),
            "placement": np.array(placements, dtype=object),
        }


class RayEngine:
    def __init__(self) -> None:
        self.started_here = False
        self.info: dict[str, Any] = {}
        self.seconds: dict[str, float] = {}
        self.placements: dict[str, dict[str, Any]] = {}

    def connect(self, config: RayConfig) -> None:
        token = os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")
        if config.address and (token or (Path.home() / ".ray" / "auth_token").is_file()):
            # `ray start` turns token authentication on when a token exists (~/.ray/auth_token, written by the
            # first Ray instance on a machine); a driver joining that cluster presents it only in token mode,
            # which Ray reads when it is imported.
            os.environ.setdefault("RAY_AUTH_MODE", "token")
        import ray

        if ray.is_initialized():
            return
        # Ray's C++ core logs routine actor notes at ERROR level on the driver's stderr.
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
        options: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": False,
            "logging_level": logging.ERROR,
        }
        if config.address:
            options["address"] = config.address
        else:
            # A new local instance with all cores ("local": never a cluster that `ray start` left on this machine);
            # videos travel as small JSON rows, so a small object store.
            options.update(address="local", num_cpus=os.cpu_count() or 1, object_store_memory=256 * 1024 * 1024)
        try:
            ray.init(**options)
        except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError... for a bad address
            where = config.address or "a local instance"
            raise EngineError(f"cannot start or join Ray at {where}: {_first_line(exc)}") from None
        self.started_here = True

    def dataset(self, runner: Runner, works: Sequence[VideoWork]) -> Dataset:
        import ray
        import ray.data

        config = runner.config.engine.ray
        local_threads = runner.config.asr.cpu_threads or available_cores()
        pools = resolve_pools(runner.stages, config, runner.device, ray.cluster_resources(), local_threads)
        rows = [
            {"index": i, "work": json.dumps(encode_work(work), ensure_ascii=False), "info": "{}", "placement": "{}"}
            for i, work in enumerate(works)
        ]
        # One block per video, so that each video is its own task and free actors pick videos up in parallel.
        dataset: Dataset = ray.data.from_items(rows, override_num_blocks=max(1, len(rows)))
        for stage in runner.stages:
            pool = pools[stage.name]
            log.debug("%s: %s", stage.name, pool)
            with warnings.catch_warnings():
                # max_restarts has no named parameter in Ray 2.60; the generic remote-args path warns.
                warnings.simplefilter("ignore", DeprecationWarning)
                dataset = dataset.map_batches(
                    StageActor,
                    fn_constructor_kwargs={
                        "config": runner.config.to_dict(),
                        "stage": stage.name,
                        "device": runner.device,
                        "forced": stage.name in runner.forced,
                    },
                    batch_size=1,
                    batch_format="numpy",
                    # One video in flight per actor: a second one queued behind a long video would wait while
                    # another actor of the pool idles.
                    compute=ray.data.ActorPoolStrategy(
                        min_size=pool.min_actors, max_size=pool.max_actors, max_tasks_in_flight_per_actor=1
                    ),
                    num_cpus=pool.num_cpus,
                    num_gpus=pool.num_gpus,
                    memory=pool.memory_gb * GIB,
                    runtime_env={"env_vars": actor_environment(config.env_prefixes, pool.threads)},
                    max_restarts=ACTOR_RESTARTS,
                )
        return dataset

    def run(self, runner: Runner, works: Sequence[VideoWork]) -> Iterator[VideoWork]:
        if not works:
            return
        self.connect(runner.config.engine.ray)  # first: it may set the environment Ray reads on import
        import ray.data

        context = ray.data.DataContext.get_current()
        # Our progress bars and one-line errors are enough: Ray Data's bars and tracebacks are not shown.
        context.enable_progress_bars = False
        # Start every stage's minimum pool before the first video moves, so that a pool of several actors
        # shares the first videos too; the wait ends in an error if the cluster never finds the resources.
        context.wait_for_min_actors_s = MIN_ACTORS_WAIT_SECONDS
        for name in ("ray", "ray.data"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        dataset = self.dataset(runner, works)
        began = time.perf_counter()
        # iter_rows() is typed Iterable, but its iterator is a generator: close() below needs that.
        rows = cast("Generator[dict[str, Any], None, None]", iter(dataset.iter_rows()))
        try:
            while True:
                try:
                    row = next(rows)
                except StopIteration:
                    break
                except Exception as exc:  # an actor died, a worker crashed, or a stage raised a MotifLensError
                    raise _engine_error(exc) from None
                work = decode_work(json.loads(row["work"]))
                self.info.update(json.loads(row["info"]))
                self.placements[work.video_id] = json.loads(row["placement"])
                for stage in runner.stages:
                    spent = work.timings_seconds.get(stage.name, 0.0)
                    self.seconds[stage.name] = self.seconds.get(stage.name, 0.0) + spent
                    if runner.progress is not None:
                        runner.progress(stage.name, work)
                self.seconds["wall"] = round(time.perf_counter() - began, 3)
                yield work
                if work.status == "failed" and runner.fail_fast:
                    raise fail_fast_error(work)
        finally:
            # Ends the streaming execution (its actors go) when the run stops early: --fail-fast, an error.
            rows.close()

    def timings(self) -> dict[str, float]:
        return dict(self.seconds)

    def placement(self, work: VideoWork) -> dict[str, Any]:
        spans = self.placements.get(work.video_id)
        return {"ray": spans} if spans else {}

    def stage_info(self, runner: Runner) -> dict[str, Any]:
        return {"stage_info": dict(self.info)} if self.info else {}

    def shutdown(self) -> None:
        if self.started_here:
            import ray

            ray.shutdown()
            self.started_here = False


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _engine_error(error: BaseException) -> MotifLensError:
    """The MotifLensError a stage raised inside an actor (same exit code as with the local engine), else an
    EngineError in one line: the full Ray traceback is in Ray's session logs."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        inner = getattr(current, "cause", None)  # Ray's task errors carry the exception raised in the actor
        if isinstance(inner, BaseException):
            current = inner
            continue
        if isinstance(current, MotifLensError) and not isinstance(current, FailFast):
            return current
        current = current.__cause__ or current.__context__
    return EngineError(f"the Ray engine stopped: {type(error).__name__}: {_first_line(error)}")
