"""The demo's own run on the bundled samples: the scripted mentions and events are found, every
occurrence's role is traced to its evidence, and the exports (symbols.vtt, corpus tables, pages, ELAN, Label
Studio tasks) are written.

The script (what each line names, which beat it carries) is in data/samples/samples.json, written by
scripts/make_samples.py beside the media."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from motiflens.cli import cli
from motiflens.cli_support import EXIT_OK
from motiflens.tables import TABLES
from motiflens.timeline import validate_timeline

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo(samples_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict]]:
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(
        cli, ["run", "--quiet", str(samples_dir), "--config", str(ROOT / "configs" / "default.yaml"), "--out", str(out)]
    )
    assert result.exit_code == EXIT_OK, result.output
    run_json = json.loads((out / "run.json").read_text(encoding="utf-8"))
    timelines = {
        Path(video["path"]).name: json.loads((out / video["timeline"]).read_text(encoding="utf-8"))
        for video in run_json["videos"]
    }
    return out, timelines


@pytest.fixture(scope="module")
def script(samples_dir: Path) -> dict[str, dict]:
    manifest = json.loads((samples_dir / "samples.json").read_text(encoding="utf-8"))
    return {sample["file"]: sample for sample in manifest["samples"]}


def overlaps(item: dict, line: dict, slack: float = 1.0) -> bool:
    return item["start_seconds"] < line["end_seconds"] + slack and item["end_seconds"] > line["start_seconds"] - slack


def test_the_scripted_mentions_are_found_and_nothing_else(demo, script) -> None:
    _, timelines = demo
    for name, sample in script.items():
        mentions = timelines[name]["mentions"]
        scripted = {symbol for line in sample["lines"] for symbol in line["names"]}
        assert {mention["symbol_id"] for mention in mentions} == scripted, name
        for line in sample["lines"]:
            for symbol in line["names"]:
                assert any(m["symbol_id"] == symbol and overlaps(m, line) for m in mentions), (name, symbol)


def test_the_scripted_beats_are_found_as_events_and_nothing_else(demo, script) -> None:
    _, timelines = demo
    for name, sample in script.items():
        events = timelines[name]["events"]
        beats = {line["beat"] for line in sample["lines"] if line["beat"]}
        assert {event["type"] for event in events} == beats, name
        for beat in beats:
            lines = [line for line in sample["lines"] if line["beat"] == beat]
            assert any(e["type"] == beat and any(overlaps(e, line) for line in lines) for e in events), (name, beat)
        assert timelines[name]["summary"]["event_counts"] == {event["type"]: 1 for event in events}


def test_every_role_is_traced_to_its_evidence(demo) -> None:
    _, timelines = demo
    for name, timeline in timelines.items():
        validate_timeline(timeline)
        segments = {segment["id"] for segment in timeline["transcript"]["segments"]}
        events = {event["id"]: event for event in timeline["events"]}
        assert timeline["symbols"], name
        for occurrence in timeline["symbols"]:
            evidence = occurrence["evidence"]
            assert evidence[0]["kind"] == "role" and evidence[0]["text"].startswith(occurrence["role"] + ":")
            named = [item for item in evidence if item["kind"] in ("mention", "episode_mention")]
            coupled = [item for item in evidence if item["kind"] == "event"]
            assert all(item["ref"] in segments for item in named)
            assert all(item["ref"] in events for item in coupled)
            if occurrence["role"] == "decorative":
                assert not named
            elif occurrence["role"] == "referenced":
                assert named and not coupled
            else:
                assert named and coupled


def test_named_symbols_of_the_script_are_catalysts_with_the_visual_stream_skipped(demo, script) -> None:
    _, timelines = demo
    for name, timeline in timelines.items():
        assert timeline["streams"]["visual"]["status"] == "skipped"
        assert timeline["streams"]["story"] == {"status": "ok"}
        roles = {(o["symbol_id"], o["origin"], o["role"]) for o in timeline["symbols"]}
        scripted = {symbol for line in script[name]["lines"] for symbol in line["names"]}
        assert roles == {(symbol, "dialogue", "catalyst") for symbol in scripted}, name
        summary = timeline["summary"]
        assert summary["symbol_screen_seconds"] == {} and summary["internalization_index"] == 1.0


def test_symbol_tracks_and_corpus_tables_are_written(demo) -> None:
    out, timelines = demo
    occurrences = sum(len(timeline["symbols"]) for timeline in timelines.values())
    for timeline in timelines.values():
        vtt = (out / "videos" / timeline["video"]["id"] / "symbols.vtt").read_text(encoding="utf-8")
        assert vtt.startswith("WEBVTT") and vtt.count(" --> ") == len(timeline["symbols"])
    for table, columns in TABLES.items():
        with (out / "tables" / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0][: len(columns)] == [column.name for column in columns], table
        assert (out / "tables" / f"{table}.parquet").stat().st_size > 0
        if table == "symbols":
            assert len(rows) - 1 == occurrences
        if table == "videos":
            assert len(rows) - 1 == 3


def test_the_run_ends_with_its_pages_and_exports(demo) -> None:
    out, timelines = demo
    for timeline in timelines.values():
        folder = out / "videos" / timeline["video"]["id"]
        assert "<video" in (folder / "report.html").read_text(encoding="utf-8")
        assert (folder / f"{timeline['video']['id']}.eaf").stat().st_size > 0
    tasks = json.loads((out / "labelstudio" / "tasks.json").read_text(encoding="utf-8"))
    assert len(tasks) == sum(len(timeline["symbols"]) for timeline in timelines.values())
    corpus = (out / "report.html").read_text(encoding="utf-8")
    assert all(timeline["video"]["id"] in corpus for timeline in timelines.values())
