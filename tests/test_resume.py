"""Checkpoints, resume after SIGKILL, cache invalidation, --force, shards and merge, on the bundled samples
with the demo config (real Whisper, OCR and MiniLM)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from motiflens.cli.main import cli
from motiflens.cli.support import EXIT_CONFIG, EXIT_INPUT, EXIT_OK
from motiflens.core.config import InputConfig
from motiflens.core.errors import InputError
from motiflens.core.records import (
    Evidence,
    Mention,
    PlotEvent,
    ScreenRegion,
    Segment,
    SymbolOccurrence,
    ThemeScore,
    Transcript,
    Word,
)
from motiflens.run.checkpoint import decode, encode
from motiflens.run.discovery import discover, parse_shard, select_shard, shard_of
from run_helpers import outputs, run_json

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ("--config", str(ROOT / "configs" / "default.yaml"))
STAGES = ["ingest", "shots", "asr", "ocr", "reconcile", "visual", "story", "align"]


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["run", "--quiet", *CONFIG, *args])
    return result.exit_code, result.output


def cached(out: Path) -> dict[str, list[str]]:
    return {video["video_id"]: video.get("cached_stages", []) for video in run_json(out)["videos"]}


@pytest.fixture(scope="module")
def reference(samples_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reference")
    code, output = run_cli(str(samples_dir), "--out", str(out))
    assert code == EXIT_OK, output
    return out


def test_records_survive_a_checkpoint_round_trip() -> None:
    words = (Word(" red", 1.0, 1.25, 0.875), Word(" lantern", 1.25, 2.0, 0.5))
    values = [
        Transcript(
            "en", (Segment("asr-0001", "asr", 0.1, 2.0, "red lantern", "en", None, words, {"linked_ids": ["x"]}),)
        ),
        SymbolOccurrence(
            "red_lantern",
            "Red lantern",
            0.0,
            3.0,
            1.0,
            0.9,
            0.8,
            ScreenRegion(1, (0.0, 0.1, 1.0, 0.6)),
            0.5,
            (Evidence("visual", 0.0, 3.0, "thumbnails/a.jpg"),),
            "catalyst",
            "visual",
            {"reference": 1.0},
        ),
        Mention("red_lantern", "asr-0001", "asr", 1.0, 2.0, "red lantern", "keyword", 1.0, "red lantern", "en"),
        PlotEvent("event-0001", "vow", 3.0, 4.0, 0.8125, ("dialogue",), ("asr-0002",), "I swear", {"dialogue": 0.8}),
        ThemeScore("home_belonging", "asr-0001", 0.6, 0.1, 2.0),
        {"nested": [1.5, (2, 3)], "path": Path("/tmp/x.wav")},
    ]
    for value in values:
        assert decode(json.loads(json.dumps(encode(value)))) == value


def test_a_finished_run_reruns_from_checkpoints_without_loading_a_model(
    reference: Path, samples_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from motiflens.stages.asr import AsrStage
    from motiflens.stages.ocr import OcrStage
    from motiflens.stages.story import StoryStage

    before = outputs(reference)
    for stage in (AsrStage, OcrStage, StoryStage):
        monkeypatch.setattr(stage, "open", lambda self: pytest.fail(f"{self.name} loaded its model"))
    code, output = run_cli(str(samples_dir), "--out", str(reference))
    assert code == EXIT_OK, output
    assert all(stages == STAGES for stages in cached(reference).values())
    assert outputs(reference) == before


def test_a_config_change_redoes_that_stage_and_its_dependents_only(
    reference: Path, samples_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, output = run_cli(str(samples_dir), "--out", str(out))
    assert code == EXIT_OK, output
    code, output = run_cli(str(samples_dir), "--out", str(out), "--set", "story.events.min_confidence=0.99")
    assert code == EXIT_OK, output
    assert set(map(tuple, cached(out).values())) == {("ingest", "shots", "asr", "ocr", "reconcile", "visual")}
    assert all(not json.loads(p.read_text())["events"] for p in out.glob("videos/*/timeline.json"))

    code, output = run_cli(str(samples_dir), "--out", str(out))
    assert code == EXIT_OK, output
    assert set(map(tuple, cached(out).values())) == {("ingest", "shots", "asr", "ocr", "reconcile", "visual")}
    assert outputs(out) == outputs(reference)  # back at the reference settings, the same results

    ocr = ("--set", "ocr.min_confidence=0.7")
    code, output = run_cli(str(samples_dir), "--out", str(out), *ocr)
    assert code == EXIT_OK, output
    assert set(map(tuple, cached(out).values())) == {("ingest", "shots", "asr", "visual")}

    code, output = run_cli(str(samples_dir), "--out", str(out), *ocr, "--force", "shots")
    assert code == EXIT_OK, output
    assert set(map(tuple, cached(out).values())) == {("ingest", "asr", "ocr", "reconcile")}
    assert run_json(out)["forced"] == ["align", "shots", "story", "visual"]
    assert run_cli(str(samples_dir), "--out", str(out), "--force", "nope")[0] == EXIT_CONFIG


def test_a_killed_run_resumes_without_redoing_checkpointed_work(
    reference: Path, samples_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "killed"
    command = [
        str(Path(sys.executable).parent / "motiflens"),
        "run",
        "--quiet",
        *CONFIG,
        str(samples_dir),
        "--out",
        str(out),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        # Kill in the middle of speech recognition: one video's asr checkpoint is there, the others' not yet.
        while not list(out.glob("videos/*/stages/asr.json")):
            assert process.poll() is None and time.monotonic() < deadline, "the run ended before it could be killed"
            time.sleep(0.02)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    done_at_kill = {(path.parts[-3], path.stem) for path in out.glob("videos/*/stages/*.json") if path.stem != "source"}
    assert len([pair for pair in done_at_kill if pair[1] == "asr"]) < len(list(samples_dir.glob("*.mp4")))

    code, output = run_cli(str(samples_dir), "--out", str(out))
    assert code == EXIT_OK, output
    reused = {(video, stage) for video, stages in cached(out).items() for stage in stages}
    assert reused == done_at_kill  # every checkpoint written before the kill was used, nothing else
    assert outputs(out) == outputs(reference)
    assert not list(out.rglob("*.part"))


def test_shards_split_by_video_id_cover_every_video_once(samples_dir: Path) -> None:
    sources = discover([samples_dir], InputConfig())
    for shards in (1, 2, 3, 7):
        parts = [select_shard(sources, shard, shards) for shard in range(shards)]
        ids = sorted(source.video_id for part in parts for source in part)
        assert ids == sorted(source.video_id for source in sources)
    assert shard_of("lantern-vow-9c595c63", 4) == shard_of("lantern-vow-9c595c63", 4)
    assert parse_shard("3/8") == (3, 8)
    for bad in ("8/8", "-1/2", "1", "a/b", "0/0"):
        with pytest.raises(InputError, match="I/N"):
            parse_shard(bad)


def test_two_shards_merged_equal_a_single_run(reference: Path, samples_dir: Path, tmp_path: Path) -> None:
    shard_dirs = []
    for shard in range(2):
        folder = tmp_path / f"shard-{shard}"
        code, output = run_cli(str(samples_dir), "--out", str(folder), "--shard", f"{shard}/2")
        assert code == EXIT_OK, output
        assert run_json(folder)["shard"] == {"index": shard, "count": 2}
        shard_dirs.append(folder)
    count = len(list(samples_dir.glob("*.mp4")))
    assert sum(len(run_json(folder)["videos"]) for folder in shard_dirs) == count

    merged = tmp_path / "merged"
    result = CliRunner().invoke(cli, ["merge", *map(str, shard_dirs), "--out", str(merged)])
    assert result.exit_code == EXIT_OK, result.output
    assert f"{count} videos from 2 runs: {count} ok" in result.output
    assert outputs(merged) == outputs(reference)
    assert run_json(merged)["merged_from"] == [f"../{folder.name}" for folder in shard_dirs]

    again = CliRunner().invoke(cli, ["merge", str(shard_dirs[0]), str(shard_dirs[0]), "--out", str(tmp_path / "x")])
    assert again.exit_code == EXIT_INPUT and "shard 0/2 is given twice" in again.output
