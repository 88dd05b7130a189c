"""Corpus tables from a hand-made run folder: declared columns, values, nulls, stable bytes."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from motiflens.core.errors import InputError
from motiflens.reports.tables import SERIES, TABLES, build_tables, describe_tables_markdown, write_tables

OK_ID = "jade-teapot-0001"
FAILED_ID = "broken-0002"


def _timeline() -> dict:
    return {
        "schema_version": "1",
        "video": {
            "id": OK_ID,
            "path": "ep1/jade_teapot.mp4",
            "sha256": "a" * 64,
            "duration_seconds": 11.2,
            "width": 540,
            "height": 960,
            "rotation": 0,
            "fps": 25.0,
            "orientation": "vertical",
            "has_audio": True,
        },
        "run": {"config_hash": "timelinehash", "package_version": "9.9.9", "models": {}},
        "streams": {name: {"status": "ok"} for name in ("visual", "asr", "ocr", "shots", "story")},
        "shots": [
            {"index": 1, "start_seconds": 3.12, "end_seconds": 5.2},
            {"index": 0, "start_seconds": 0.0, "end_seconds": 3.12},
        ],
        "transcript": {
            "language": "zh",
            "segments": [
                {
                    "id": "ocr-0001",
                    "source": "ocr",
                    "start_seconds": 0.75,
                    "end_seconds": 4.73,
                    "text": "这把玉壶是我们家的传家宝。",
                    "text_en": "This jade teapot is our family heirloom.",
                    "language": "zh",
                    "confidence": 0.99,
                    "linked_ids": ["asr-0001"],
                    "agreement": 0.6,
                },
                {
                    "id": "asr-0001",
                    "source": "asr",
                    "start_seconds": 0.4,
                    "end_seconds": 4.8,
                    "text": "<script>alert('x')</script>, \"quoted\"",
                    "language": "en",
                },
            ],
        },
        "mentions": [
            {
                "symbol_id": "jade_teapot",
                "segment_id": "ocr-0001",
                "start_seconds": 0.75,
                "end_seconds": 4.73,
                "text": "这把玉壶是我们家的传家宝。",
                "match": "keyword",
                "score": 1.0,
                "term": "玉壶",
                "source": "ocr",
                "language": "zh",
            }
        ],
        "events": [
            {
                "id": "event-0001",
                "type": "betrayal",
                "start_seconds": 5.4,
                "end_seconds": 9.7,
                "confidence": 0.91,
                "cues": ["dialogue", "cut_rate"],
                "segment_ids": ["asr-0002", "ocr-0002"],
                "text": "You sold it <b>to a stranger</b>!",
                "cue_scores": {"dialogue": 0.88, "cut_rate": 0.5},
                "matched_terms": ["sold"],
            }
        ],
        "themes": [
            {
                "theme": "home_belonging",
                "segment_id": "ocr-0001",
                "score": 0.73,
                "start_seconds": 0.75,
                "end_seconds": 4.73,
            }
        ],
        # Out of time order on purpose: the table must sort them.
        "symbols": [
            {
                "symbol_id": "red_lantern",
                "label": "Red lantern",
                "start_seconds": 6.0,
                "end_seconds": 8.0,
                "peak_seconds": 7.0,
                "origin": "dialogue",
                "role": "referenced",
                "narrative_weight": 0.3,
                "evidence": [],
            },
            {
                "symbol_id": "jade_teapot",
                "label": "Jade teapot",
                "start_seconds": 0.0,
                "end_seconds": 3.1,
                "peak_seconds": 1.0,
                "peak_score": 0.8,
                "mean_score": 0.7,
                "screen_region": {"tile": 1, "box": [0.0, 0.2, 1.0, 0.76]},
                "origin": "visual",
                "role": "catalyst",
                "narrative_weight": 0.72,
                "weight_components": {"prominence": 0.5, "reference": 1.0, "event_coupling": 0.9, "recurrence": 0.0},
                "thumbnail": "thumbnails/jade_teapot-0001.jpg",
                "evidence": [
                    {"kind": "visual", "start_seconds": 0.0, "end_seconds": 3.1, "text": "peak 0.80 at 1.0 s"},
                    {"kind": "mention", "start_seconds": 0.75, "end_seconds": 4.73, "ref": "ocr-0001"},
                    {"kind": "episode_mention", "start_seconds": 9.0, "end_seconds": 10.0, "ref": "asr-0003"},
                    {"kind": "event", "start_seconds": 5.4, "end_seconds": 9.7, "ref": "event-0001"},
                    {"kind": "event", "start_seconds": 9.8, "end_seconds": 10.7, "ref": "event-0002"},
                ],
            },
        ],
        "summary": {"symbol_screen_seconds": {"jade_teapot": 3.1}, "internalization_index": 0.61, "event_counts": {}},
    }


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    run = {
        "schema_version": "1",
        "package_version": "0.1.0",
        "config_hash": "runhash",
        "videos": [
            {
                "video_id": OK_ID,
                "path": "ep1/jade_teapot.mp4",
                "status": "ok",
                "timeline": f"videos/{OK_ID}/timeline.json",
                "metadata": {"series": "玉壶传", "date": "2024-02-10"},
            },
            {
                "video_id": FAILED_ID,
                "path": "broken.mp4",
                "status": "failed",
                "error": "cannot open: moov atom not found",
                "metadata": {"series": "Other"},
            },
        ],
    }
    (tmp_path / "run.json").write_text(json.dumps(run, ensure_ascii=False), encoding="utf-8")
    video = tmp_path / "videos" / OK_ID
    video.mkdir(parents=True)
    (video / "timeline.json").write_text(json.dumps(_timeline(), ensure_ascii=False), encoding="utf-8")
    return tmp_path


def _names(name: str) -> list[str]:
    return [column.name for column in TABLES[name]]


def test_every_table_has_the_declared_columns_in_order(run_dir: Path) -> None:
    tables = build_tables(run_dir)
    assert list(tables) == list(TABLES)
    for name, table in tables.items():
        extra = ["meta_date", "meta_series"] if name == "videos" else []
        assert table.column_names == _names(name) + extra, name
        assert table.column_names[0] == ("series" if name in SERIES else "video_id")
        declared = [column.type for column in TABLES[name]] + [pa.string()] * len(extra)
        assert table.schema.types == declared, name


def test_failed_video_is_listed_with_its_error_and_null_measures(run_dir: Path) -> None:
    videos = build_tables(run_dir)["videos"].to_pylist()
    assert [row["video_id"] for row in videos] == [FAILED_ID, OK_ID]
    failed, ok = videos
    assert failed["status"] == "failed"
    assert failed["error"] == "cannot open: moov atom not found"
    assert failed["duration_seconds"] is None and failed["n_shots"] is None and failed["has_audio"] is None
    assert failed["config_hash"] == "runhash"
    assert failed["meta_series"] == "Other" and failed["meta_date"] is None
    assert ok["error"] is None
    assert ok["config_hash"] == "timelinehash" and ok["package_version"] == "9.9.9"
    assert (ok["width"], ok["height"], ok["has_audio"], ok["language"]) == (540, 960, True, "zh")
    assert (ok["n_shots"], ok["n_segments"], ok["n_mentions"], ok["n_events"], ok["n_themes"]) == (2, 2, 1, 1, 1)
    assert ok["n_symbol_occurrences"] == 2
    assert ok["internalization_index"] == pytest.approx(0.61)
    assert ok["meta_series"] == "玉壶传" and ok["meta_date"] == "2024-02-10"


def test_symbol_rows_are_sorted_by_time_with_nulls_for_missing_fields(run_dir: Path) -> None:
    teapot, lantern = build_tables(run_dir)["symbols"].to_pylist()
    assert (teapot["symbol_id"], teapot["occurrence_index"]) == ("jade_teapot", 1)
    assert (lantern["symbol_id"], lantern["occurrence_index"]) == ("red_lantern", 0)
    assert teapot["w_event_coupling"] == pytest.approx(0.9)
    assert teapot["n_mentions_evidence"] == 2
    assert teapot["event_ids"] == "event-0001,event-0002"
    assert teapot["screen_tile"] == 1
    assert teapot["duration_seconds"] == pytest.approx(3.1)
    assert teapot["thumbnail"] == "thumbnails/jade_teapot-0001.jpg"
    for column in ("peak_score", "mean_score", "w_prominence", "screen_tile", "thumbnail"):
        assert lantern[column] is None, column
    assert lantern["n_mentions_evidence"] == 0 and lantern["event_ids"] == ""


def test_other_tables_flatten_lists_and_keep_text_as_is(run_dir: Path) -> None:
    tables = build_tables(run_dir)
    (event,) = tables["events"].to_pylist()
    assert event["event_id"] == "event-0001" and event["type"] == "betrayal"
    assert event["cues"] == "dialogue,cut_rate" and event["segment_ids"] == "asr-0002,ocr-0002"
    assert event["cue_dialogue"] == pytest.approx(0.88) and event["cue_audio"] is None
    assert event["text"] == "You sold it <b>to a stranger</b>!"
    segments = tables["segments"].to_pylist()
    assert [row["segment_id"] for row in segments] == ["asr-0001", "ocr-0001"]
    assert segments[0]["text"] == "<script>alert('x')</script>, \"quoted\""
    assert segments[0]["text_en"] is None and segments[0]["confidence"] is None
    assert segments[1]["linked_ids"] == "asr-0001"
    assert [row["shot_index"] for row in tables["shots"].to_pylist()] == [0, 1]
    (mention,) = tables["mentions"].to_pylist()
    assert mention["term"] == "玉壶" and mention["source"] == "ocr"
    (theme,) = tables["themes"].to_pylist()
    assert theme["theme"] == "home_belonging" and theme["video_id"] == OK_ID


def test_values_of_the_wrong_type_become_nulls(run_dir: Path) -> None:
    timeline_path = run_dir / "videos" / OK_ID / "timeline.json"
    document = json.loads(timeline_path.read_text(encoding="utf-8"))
    document["video"]["width"] = "wide"
    document["video"]["has_audio"] = 1
    del document["summary"]
    document["shots"][0]["start_seconds"] = None
    timeline_path.write_text(json.dumps(document), encoding="utf-8")
    tables = build_tables(run_dir)
    ok = tables["videos"].to_pylist()[1]
    assert ok["width"] is None and ok["has_audio"] is None and ok["internalization_index"] is None
    shots = tables["shots"].to_pylist()
    # A shot without a start sorts last instead of failing the comparison.
    assert [row["start_seconds"] for row in shots] == [0.0, None]
    assert shots[1]["duration_seconds"] is None


def test_csv_is_byte_identical_across_runs_and_parquet_round_trips(run_dir: Path) -> None:
    written = write_tables(run_dir)
    assert [path.name for path in written[:2]] == ["videos.parquet", "videos.csv"]
    assert {path.name for path in written} == {f"{name}.{ext}" for name in TABLES for ext in ("parquet", "csv")}
    first = {path.name: path.read_bytes() for path in written if path.suffix == ".csv"}
    write_tables(run_dir)
    assert first == {path.name: path.read_bytes() for path in written if path.suffix == ".csv"}
    assert sorted(path.name for path in (run_dir / "tables").iterdir()) == sorted(path.name for path in written)

    csv_text = first["segments.csv"].decode("utf-8")
    assert "这把玉壶是我们家的传家宝。" in csv_text
    assert csv_text.splitlines()[0] == ",".join(f'"{name}"' for name in _names("segments"))

    tables = build_tables(run_dir)
    for name, table in tables.items():
        read = pq.read_table(run_dir / "tables" / f"{name}.parquet")
        assert read.equals(table), name
        assert read.to_pylist() == table.to_pylist(), name
    description = pq.read_schema(run_dir / "tables" / "videos.parquet").field("error").metadata[b"description"]
    assert description.decode() == next(column for column in TABLES["videos"] if column.name == "error").description


def test_ok_video_with_no_symbols_writes_header_only_tables(run_dir: Path) -> None:
    timeline_path = run_dir / "videos" / OK_ID / "timeline.json"
    document = json.loads(timeline_path.read_text(encoding="utf-8"))
    document["symbols"] = []
    timeline_path.write_text(json.dumps(document), encoding="utf-8")
    write_tables(run_dir)
    lines = (run_dir / "tables" / "symbols.csv").read_text(encoding="utf-8").splitlines()
    assert lines == [",".join(f'"{name}"' for name in _names("symbols"))]
    assert pq.read_table(run_dir / "tables" / "symbols.parquet").num_rows == 0


def test_missing_run_json_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"run\.json"):
        build_tables(tmp_path)


def test_missing_timeline_of_an_ok_video_is_an_input_error(run_dir: Path) -> None:
    (run_dir / "videos" / OK_ID / "timeline.json").unlink()
    with pytest.raises(InputError, match=OK_ID):
        build_tables(run_dir)


def test_timeline_path_outside_the_run_is_refused(run_dir: Path) -> None:
    run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    run["videos"][0]["timeline"] = "../../etc/passwd"
    (run_dir / "run.json").write_text(json.dumps(run), encoding="utf-8")
    with pytest.raises(InputError, match="outside"):
        build_tables(run_dir)


def test_markdown_lists_every_column_of_every_table() -> None:
    markdown = describe_tables_markdown()
    for name, columns in TABLES.items():
        assert f"**`{name}`**" in markdown
        for column in columns:
            assert f"| `{column.name}` | {column.type} | {column.description} |" in markdown


def test_the_readme_documents_every_column() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert describe_tables_markdown().strip() in readme, (
        "README's corpus tables are stale: paste describe_tables_markdown()"
    )
