"""The Ray engine on real Ray: a local instance (ray.init, 2 CPUs) shared by the first tests, then a cluster
started with `ray start --head` that the README's command joins with `--ray-address auto`. Every run uses the
demo config on generated clips and is compared byte for byte with one local-engine run."""

from __future__ import annotations

import math
import os
import re
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import media
import pytest
from click.testing import CliRunner
from motiflens.cli.main import cli
from motiflens.cli.support import EXIT_ENGINE, EXIT_OK, EXIT_VIDEO_FAILED, fail
from motiflens.core.config import load_config
from motiflens.core.errors import ConfigError, EngineError, ModelError
from motiflens.run.engines.ray_data import _engine_error, resolve_pools
from motiflens.stages import build_stages, stage_names
from run_helpers import outputs, run_json

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
CONFIG = ("--config", str(ROOT / "configs" / "default.yaml"))
#: One actor per stage and a second one for ingest share the 2-CPU instance.
SHARE = math.floor(2 / (len(stage_names()) + 1) * 1000) / 1000
POOLS = (
    "--set", f"engine.ray.cpu.num_cpus={SHARE}",
    "--set", f"engine.ray.device.num_cpus={SHARE}",
    "--set", "engine.ray.cpu.memory_gb=0.5",
    "--set", "engine.ray.device.memory_gb=1",
    "--set", "engine.ray.stages.ingest.min_actors=2",
    "--set", "engine.ray.stages.ingest.max_actors=2",
)  # fmt: skip


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["run", "--quiet", *CONFIG, *args])
    return result.exit_code, result.output


GIB = 1024**3


def test_pools_come_from_the_stage_its_kind_or_the_cluster_and_must_fit_it() -> None:
    config = load_config(None, ["engine.ray.stages.asr.max_actors=4", "engine.ray.stages.asr.num_gpus=0.5"])
    stages = build_stages(config)
    cluster = {"CPU": 16.0, "GPU": 1.0, "memory": 64 * GIB}
    pools = resolve_pools(stages, config.engine.ray, "cuda", cluster, local_threads=2)
    assert pools["asr"].max_actors == 4 and pools["asr"].num_gpus == 0.5 and pools["asr"].memory_gb == 1.5
    assert pools["visual"].num_gpus == 0.25 and pools["ingest"].num_gpus == 0.0 and pools["ingest"].memory_gb == 0.5
    assert {pool.num_cpus for pool in pools.values()} == {1.0}  # 16 CPUs for one actor per stage: one each
    on_cpu = resolve_pools(stages, config.engine.ray, "cpu", {**cluster, "CPU": 2.0}, local_threads=2)
    assert {pool.num_gpus for name, pool in on_cpu.items() if name != "asr"} == {0.0}  # asr's own 0.5 stays
    # A quarter CPU each: one thread, but a model on CPU keeps the local run's count (its results depend on it).
    threads = {name: pool.threads for name, pool in on_cpu.items() if pool.threads != 1}
    assert threads == {"asr": 2, "visual": 2, "story": 2}
    assert sum(pool.num_cpus for pool in on_cpu.values()) <= 2.0
    with pytest.raises(ConfigError, match="need memory"):
        resolve_pools(stages, config.engine.ray, "cpu", {**cluster, "memory": 2 * GIB}, 2)
    crowded = load_config(None, ["engine.ray.cpu.num_cpus=1", "engine.ray.cpu.min_actors=4"])
    with pytest.raises(ConfigError, match="need CPU"):
        resolve_pools(stages, crowded.engine.ray, "cpu", cluster, 2)
    typo = load_config(None, ["engine.ray.stages.asrr.max_actors=2"])
    with pytest.raises(ConfigError, match="unknown stage asrr"):
        resolve_pools(stages, typo.engine.ray, "cpu", cluster, 2)


def test_an_engine_crash_is_one_line_with_its_own_exit_code_and_a_stage_error_keeps_its_own() -> None:
    crash = _engine_error(ray.exceptions.ActorDiedError())
    assert isinstance(crash, EngineError) and "\n" not in str(crash)
    with pytest.raises(SystemExit) as stop:
        fail(crash)
    assert stop.value.code == EXIT_ENGINE != EXIT_VIDEO_FAILED
    raised = ray.exceptions.RayTaskError("MapWorker.submit", "Traceback ...", ModelError("no weights for x"))
    assert type(_engine_error(raised.as_instanceof_cause())) is ModelError


@pytest.fixture(scope="module", autouse=True)
def hub_offline_for_the_module() -> Iterator[None]:
    """The module's shared runs start before conftest's per-test hub_offline: keep them offline too (the skip
    reason of the visual stream, part of every timeline, says whether the hub was tried)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        yield


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("videos")
    media.make_clip(folder / "pattern.mp4", seconds=6.0)
    media.make_cut_clip(folder / "cuts.mp4", seconds=6.0, cuts=(1.5, 3.0, 4.5))
    return folder


@pytest.fixture(scope="module")
def local_run(videos: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("local")
    code, output = run_cli(str(videos), "--out", str(out))
    assert code == EXIT_OK, output
    assert run_json(out)["counts"]["ok"] == 2
    return out


@pytest.fixture(scope="class")
def local_ray() -> Iterator[None]:
    """One local Ray instance for the tests of a class: 2 CPUs, a small object store (rows are small JSON)."""
    ray.init(
        address="local", num_cpus=2, object_store_memory=128 * 1024**2, include_dashboard=False, log_to_driver=False
    )
    yield
    ray.shutdown()


@pytest.mark.usefixtures("local_ray")
class TestLocalInstance:
    def test_two_actors_of_one_stage_take_two_videos_at_once_with_the_local_results(
        self, videos: Path, local_run: Path, tmp_path: Path
    ) -> None:
        out = tmp_path / "ray"
        code, output = run_cli(str(videos), "--out", str(out), "--engine", "ray", *POOLS)
        assert code == EXIT_OK, output
        document = run_json(out)
        assert document["engine"] == "ray" and document["completed"] is True
        assert document["config_hash"] == run_json(local_run)["config_hash"]
        assert [video["video_id"] for video in document["videos"]] == [
            video["video_id"] for video in run_json(local_run)["videos"]
        ]
        # The ingest actors recorded when each video entered and left them: two actors, overlapping spans.
        spans = [video["ray"]["ingest"] for video in document["videos"]]
        assert len({span["actor"] for span in spans}) == 2, spans
        assert max(span["started"] for span in spans) < min(span["finished"] for span in spans), spans
        assert set(document["videos"][0]["ray"]) == {stage for stage in document["stages"]}
        assert outputs(out) == outputs(local_run)

    def test_fail_fast_stops_the_ray_run_at_the_corrupt_video(self, tmp_path: Path) -> None:
        folder = tmp_path / "batch"
        folder.mkdir()
        media.make_corrupt(folder / "0-corrupt.mp4")
        for seconds in (2.0, 2.5, 3.0):
            media.make_clip(folder / f"clip-{seconds}.mp4", seconds=seconds)
        local_code, local_output = run_cli(str(folder), "--out", str(tmp_path / "local"), "--fail-fast")
        code, output = run_cli(str(folder), "--out", str(tmp_path / "ray"), "--fail-fast", "--engine", "ray", *POOLS)
        assert code == local_code == EXIT_VIDEO_FAILED, output
        assert "--fail-fast: 0-corrupt.mp4 failed" in output and "--fail-fast: 0-corrupt.mp4 failed" in local_output
        document = run_json(tmp_path / "ray")
        assert document["completed"] is False
        statuses = {video["path"]: video["status"] for video in document["videos"]}
        assert statuses["0-corrupt.mp4"] == "failed"
        # The clips needed Whisper, which the corrupt video never waited for: the run stopped before them.
        assert sum(status == "ok" for status in statuses.values()) < 3, statuses
        # ... and its actors are gone: the instance has every CPU free again.
        deadline = time.monotonic() + 30
        while ray.available_resources().get("CPU", 0.0) < 2.0 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert ray.available_resources().get("CPU", 0.0) == 2.0


def readme_cluster_commands() -> tuple[str, str]:
    """The README's `ray start --head` and `motiflens run ... --ray-address auto` lines, verbatim."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    head = re.search(r"^ray start --head.*$", text, re.MULTILINE)
    run = re.search(r"^motiflens run .*--ray-address auto.*$", text, re.MULTILINE)
    assert head and run, "the README shows no Ray cluster commands"
    return head.group(0).split("#")[0].strip(), run.group(0).split("#")[0].strip()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_readme_command_on_a_ray_start_head_cluster_gives_the_local_results(
    videos: Path, local_run: Path, tmp_path: Path
) -> None:
    head_line, run_line = readme_cluster_commands()
    port = free_port()
    # The head starts without the driver's model cache: the actors find the models only through the driver's
    # environment (engine.ray.env_prefixes), and the head's empty cache must stay empty.
    head_cache = tmp_path / "head-cache"
    head_cache.mkdir()
    path = f"{BIN}{os.pathsep}{os.environ['PATH']}"
    # As in a fresh shell: ray.init() of the tests above left RAY_AUTH_MODE in this process's environment.
    fresh = {name: value for name, value in os.environ.items() if not name.startswith("RAY_")}
    head_env = {**fresh, "PATH": path, "MOTIFLENS_CACHE": str(head_cache)}
    # --block keeps the head in this process group, so the test stops exactly this instance (`ray stop`, the
    # README's last step, would stop every Ray instance on the machine); the port avoids any other instance.
    head = subprocess.Popen(
        [*shlex.split(head_line), "--block", f"--port={port}"],
        env=head_env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        started = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = head.stdout.readline() if head.stdout else ""
            started.append(line)
            if "Ray runtime started" in line or not line:
                break
        assert "Ray runtime started" in "".join(started), "".join(started)
        out = tmp_path / "runs" / "study1"
        driver_env = {
            **fresh,
            "PATH": path,
            "VIDEOS": str(videos),  # the README sets them on the line before
            "RUNS": str(out),
            "RAY_ADDRESS": f"127.0.0.1:{port}",  # 'auto' resolves to this head even if others run here
            "MOTIFLENS_CACHE": str(ROOT / "models" / ".cache"),
        }
        result = subprocess.run(
            ["bash", "-c", run_line], env=driver_env, cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == EXIT_OK, result.stdout + result.stderr
        document = run_json(out)
        assert document["engine"] == "ray" and document["config"]["engine"]["ray"]["address"] == "auto"
        assert outputs(out) == outputs(local_run)
        assert not any(head_cache.iterdir())
    finally:
        # Ray drains a node for up to 30 s after SIGTERM; a few seconds are enough for an idle test cluster.
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
