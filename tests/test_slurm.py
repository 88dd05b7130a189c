"""The README's Slurm commands, verbatim, on a real one-node Slurm (tests/slurm_cluster.py): the array and the
merge give the outputs of a local run byte for byte, and a shard set with a cancelled task is refused by the
merge job until that shard is resubmitted. Skipped with the reason where slurm-wlm/munge are missing or not root.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import media
import pytest
from click.testing import CliRunner
from motiflens.cli.main import cli
from motiflens.cli.support import EXIT_INPUT, EXIT_OK
from motiflens.run.discovery import shard_of, video_id_for
from run_helpers import outputs
from slurm_cluster import SlurmCluster, missing_reason

pytestmark = [pytest.mark.slow, pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason()))]

ROOT = Path(__file__).resolve().parents[1]
# The README's placeholders; the test substitutes its own folders on this one line and runs every other line as is.
VARIABLES = re.compile(r"^N=\d+ VIDEOS=\S+ RUNS=\S+ CONFIG=\S+$", re.MULTILINE)


def readme_commands() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Cluster (Slurm)") :]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the README's Slurm section has no bash block"
    assert VARIABLES.search(block.group(1)), block.group(1)
    return block.group(1)


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmCluster]:
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """Three short clips, a quick config (no visual or story stream) and a local run as the reference."""
    folder = tmp_path_factory.mktemp("slurm-corpus")
    videos = folder / "videos"
    videos.mkdir()
    media.make_clip(videos / "ep-01.mp4", seconds=2.0)
    media.make_clip(videos / "ep-02.mp4", seconds=2.5, audio_source="noise")
    media.make_clip(videos / "ep-05.mp4", seconds=3.0, width=240, height=426)
    # Names chosen so that both shards of two hold videos.
    assert [shard_of(video_id_for(path.name), 2) for path in sorted(videos.iterdir())] == [1, 1, 0]
    config = folder / "quick.yaml"
    config.write_text("device: cpu\nvisual:\n  enabled: false\nstory:\n  enabled: false\n", encoding="utf-8")
    local = folder / "local"
    result = CliRunner().invoke(cli, ["run", "--quiet", str(videos), "--config", str(config), "--out", str(local)])
    assert result.exit_code == EXIT_OK, result.output
    return videos, config, local


def run_block(slurm: SlurmCluster, site: Path, script: str) -> tuple[str, str]:
    """Run bash lines from `site` as a user would, with MOTIFLENS_BIN naming the test's install; returns the ids
    of the array job ($JOBID) and of the merge job (the last "Submitted batch job")."""
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script + 'echo "array job $JOBID"\n'],
        cwd=site, env={**slurm.env, "MOTIFLENS_BIN": str(Path(sys.executable).with_name("motiflens"))},
        capture_output=True, text=True, check=False, timeout=60,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    array = re.findall(r"^array job (\d+)$", result.stdout, re.MULTILINE)
    merge = re.findall(r"^Submitted batch job (\d+)$", result.stdout, re.MULTILINE)
    assert len(array) == 1 and merge, result.stdout
    return array[0], merge[-1]


def readme_block(shards: int, videos: Path, runs: Path, config: Path) -> str:
    """The README's block with this test's folders on the variables line."""
    return VARIABLES.sub(f"N={shards} VIDEOS={videos} RUNS={runs} CONFIG={config}", readme_commands(), count=1)


def wait_for_queue(slurm: SlurmCluster, timeout_seconds: float = 240.0) -> None:
    deadline = time.monotonic() + timeout_seconds
    while True:
        queue = subprocess.run(["squeue", "--noheader"], env=slurm.env, capture_output=True, text=True, check=True)
        if not queue.stdout.strip():
            return
        if time.monotonic() > deadline:
            pytest.fail(f"Slurm jobs still queued after {timeout_seconds} s:\n{queue.stdout}\n{slurm.logs()}")
        time.sleep(0.5)


def job_states(slurm: SlurmCluster, *job_ids: str) -> dict[str, tuple[str, str]]:
    """{job name, with _I for array task I: (state, exit code)} of the given jobs."""
    states = {}
    for job_id in job_ids:
        shown = subprocess.run(["scontrol", "--oneliner", "show", "job", job_id], env=slurm.env, capture_output=True,
                               text=True, check=True)
        for line in shown.stdout.splitlines():
            fields = dict(re.findall(r"(\w+)=(\S*)", line))
            name = fields["JobName"] + (f"_{fields['ArrayTaskId']}" if "ArrayTaskId" in fields else "")
            states[name] = (fields["JobState"], fields["ExitCode"])
    return states


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A submit folder away from the checkout: only scripts/ is there, motiflens comes from MOTIFLENS_BIN."""
    (tmp_path / "scripts").symlink_to(ROOT / "scripts", target_is_directory=True)
    return tmp_path


def test_readme_array_and_merge_equal_a_local_run(slurm: SlurmCluster, corpus: tuple, site: Path) -> None:
    videos, config, local = corpus
    runs = site / "study"
    array, merge = run_block(slurm, site, readme_block(2, videos, runs, config))
    wait_for_queue(slurm)

    states = job_states(slurm, array, merge)
    assert states == {
        "motiflens_0": ("COMPLETED", "0:0"), "motiflens_1": ("COMPLETED", "0:0"),
        "motiflens-merge": ("COMPLETED", "0:0"),
    }, (states, slurm.logs())
    logs = {path.name: path.read_text(encoding="utf-8") for path in (site / "runs" / "slurm-logs").iterdir()}
    assert sorted(logs) == [f"motiflens-{array}_0.out", f"motiflens-{array}_1.out", f"motiflens-merge-{merge}.out"]
    assert "3 videos from 2 runs: 3 ok, 0 failed, 0 skipped" in logs[f"motiflens-merge-{merge}.out"], logs
    assert sorted(path.name for path in runs.iterdir()) == ["merged", "shard-0", "shard-1"]
    merged = outputs(runs / "merged")
    assert merged == outputs(local)
    assert sum(name.endswith("timeline.json") for name in merged) == 3


def test_a_cancelled_task_makes_the_merge_refuse_until_the_shard_is_rerun(
    slurm: SlurmCluster, corpus: tuple, site: Path
) -> None:
    videos, config, local = corpus
    runs = site / "study"
    # Task 1 is cancelled as soon as it is queued: on a small node it is still pending behind task 0 (on a larger
    # one it may have started, and is killed).
    array, merge = run_block(slurm, site, readme_block(2, videos, runs, config) + 'scancel "${JOBID}_1"\n')
    wait_for_queue(slurm)
    states = job_states(slurm, array, merge)
    assert states["motiflens_0"] == ("COMPLETED", "0:0"), states
    # A pending array task that is cancelled leaves the controller's records; a started one stays as CANCELLED.
    assert states.get("motiflens_1", ("CANCELLED",))[0] == "CANCELLED", states
    assert states["motiflens-merge"] == ("FAILED", f"{EXIT_INPUT}:0"), states
    merge_log = (site / "runs" / "slurm-logs" / f"motiflens-merge-{merge}.out").read_text(encoding="utf-8")
    if (runs / "shard-1").exists():
        assert "shard-1" in merge_log, merge_log
    else:
        assert "incomplete shard set: shard 1/2 missing (1 of 2 given)" in merge_log, merge_log
    assert not (runs / "merged").exists()

    # The README's recovery: resubmit the missing shard (its task id is the shard index), then the merge line.
    lines = readme_block(2, videos, runs, config).splitlines(keepends=True)
    merge_from = next(index for index, line in enumerate(lines) if line.startswith("sbatch --dependency"))
    recovery = [line for line in lines[:merge_from] if not line.startswith("JOBID=")]
    recovery.append('JOBID=$(MOTIFLENS_SHARD_COUNT=$N sbatch --parsable --array=1 scripts/slurm/motiflens-array.sbatch '
                    '"$VIDEOS" "$RUNS" "$CONFIG")\n')
    array, merge = run_block(slurm, site, "".join(recovery + lines[merge_from:]))
    wait_for_queue(slurm)
    assert job_states(slurm, array, merge) == {
        "motiflens_1": ("COMPLETED", "0:0"), "motiflens-merge": ("COMPLETED", "0:0")
    }
    assert outputs(runs / "merged") == outputs(local)
