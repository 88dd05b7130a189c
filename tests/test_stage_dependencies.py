"""What a config change redoes: a speech setting reruns ASR and what reads it (reconcile, story, align), never
OCR, the shots, the visual stream or ingest; the speech/subtitle links are made after both."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from motiflens.cli.main import cli
from motiflens.cli.support import EXIT_OK
from motiflens.core.config import load_config
from motiflens.media.container import decode_counts
from motiflens.run.checkpoint import stage_key
from motiflens.stages import build_stages

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "default.yaml"


def keys(overrides: list[str]) -> dict[str, str]:
    """Every stage's checkpoint key for one video, chained through the stages it depends on, as the executor
    computes them."""
    config = load_config(CONFIG, overrides)
    found: dict[str, str] = {}
    for stage in build_stages(config):
        found[stage.name] = stage_key(stage, config, "cpu", "0" * 64, found)
    return found


def test_a_speech_setting_changes_the_keys_of_asr_and_its_readers_only() -> None:
    base, changed = keys([]), keys(["asr.beam_size=2"])
    assert {name for name in base if base[name] != changed[name]} == {"asr", "reconcile", "story", "align"}
    subtitles = keys(["ocr.min_confidence=0.7"])
    assert {name for name in base if base[name] != subtitles[name]} == {"ocr", "reconcile", "story", "align"}


def cached(out: Path) -> list[str]:
    (video,) = json.loads((out / "run.json").read_text(encoding="utf-8"))["videos"]
    assert video["status"] == "ok"
    return video.get("cached_stages", [])


@pytest.mark.slow
def test_a_changed_beam_size_reruns_asr_and_what_follows_but_not_ocr(samples_dir: Path, tmp_path: Path) -> None:
    """A bundled sample with speech and burned-in subtitles, real Whisper and OCR."""
    video = tmp_path / "in" / "dumplings_mixed.mp4"
    video.parent.mkdir()
    shutil.copy(samples_dir / video.name, video)
    out = tmp_path / "out"
    quick = ("--set", "story.enabled=false")  # the story stage still runs (and reports skipped) after reconcile

    def run(*settings: str) -> None:
        result = CliRunner().invoke(
            cli, ["run", "--quiet", str(video), "--config", str(CONFIG), "--out", str(out), *quick, *settings]
        )
        assert result.exit_code == EXIT_OK, result.output

    run()
    assert cached(out) == []
    (timeline_path,) = out.rglob("timeline.json")
    first = json.loads(timeline_path.read_text(encoding="utf-8"))
    sources = {segment["source"] for segment in first["transcript"]["segments"]}
    assert sources == {"asr", "ocr"}
    assert any("linked_ids" in segment for segment in first["transcript"]["segments"])

    opened = decode_counts(video).opens
    run("--set", "asr.beam_size=2")
    assert cached(out) == ["ingest", "shots", "ocr", "visual"]  # asr, reconcile, story and align ran again
    assert decode_counts(video).opens == opened, "nothing was decoded: OCR kept its checkpoint"
    again = json.loads(timeline_path.read_text(encoding="utf-8"))
    subtitles = [segment for segment in again["transcript"]["segments"] if segment["source"] == "ocr"]
    assert subtitles == [segment for segment in first["transcript"]["segments"] if segment["source"] == "ocr"] or all(
        "linked_ids" in segment for segment in subtitles
    )  # the same subtitles, linked anew with the speech of the new beam
    assert any("linked_ids" in segment for segment in subtitles)
    for name in ("transcript.vtt", "transcript.srt"):
        assert (timeline_path.parent / name).is_file()
