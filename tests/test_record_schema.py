"""One definition per record: the JSON Schema, the checkpoints and the outputs agree with the dataclasses.

The schema (pipeline/motiflens/schemas/timeline.schema.json) stays hand-written for its readers (descriptions,
patterns, ranges); `schema_problems` compares each record's node in it (`Record.json_schema`) with the record's
fields, both ways: names, required keys, JSON types and Literal values. The golden tests rebuild one demo video's
timeline.json from its checkpoints, and its tables from that timeline, and compare them byte for byte with the
files the demo wrote (tests/golden/README.md says how to refresh them after an intended change).
"""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import types
import typing
from pathlib import Path
from typing import Any

import pyarrow.csv as pa_csv
import pytest
from motiflens.core.atomic import dumps_json
from motiflens.core.record_json import RECORDS, JsonEntry, Record, annotation, json_layout, json_names, json_types
from motiflens.core.records import Evidence, Mention, ThemeScore, VideoSource
from motiflens.reports.tables import build_tables
from motiflens.run.checkpoint import apply, decode, encode
from motiflens.run.timeline import build_timeline, timeline_schema, validate_timeline
from motiflens.stages import STAGES
from motiflens.stages.base import VideoWork

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_VIDEO = "jade-teapot-30796c0d"

Schema = dict[str, Any]


def _resolve(schema: Schema, node: Schema) -> Schema:
    """Follow `$ref`s within the document."""
    while "$ref" in node:
        node = _pointer(schema, node["$ref"].removeprefix("#"))
    return node


def _pointer(schema: Schema, pointer: str) -> Schema:
    node: Any = schema
    for part in pointer.strip("/").split("/"):
        node = node[part]
    return _resolve(schema, node)


def _scalar_type(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}[type(value)]


def _allowed_types(node: Schema) -> set[str] | None:
    """The JSON types the schema node admits; None when it does not constrain the type."""
    if "type" in node:
        kinds = node["type"]
        return set(kinds) if isinstance(kinds, list) else {kinds}
    if "enum" in node:
        return {_scalar_type(value) for value in node["enum"]}
    if "const" in node:
        return {_scalar_type(node["const"])}
    return None


def _without_none(hint: Any) -> Any:
    args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return hint


def _type_problems(schema: Schema, hint: Any, node: Schema, where: str, nullable: bool = True) -> list[str]:
    node = _resolve(schema, node)
    kinds, values = json_types(hint)
    if not nullable:
        kinds = kinds - {"null"}
    problems = []
    allowed = _allowed_types(node)
    if allowed is not None:
        wrong = {kind for kind in kinds if kind not in allowed and not (kind == "integer" and "number" in allowed)}
        if wrong:
            problems.append(f"{where}: the record writes {sorted(wrong)}, the schema allows {sorted(allowed)}")
    if values is not None and "enum" in node and set(values) != set(node["enum"]):
        problems.append(f"{where}: the record's values {sorted(values)} differ from the schema's {node['enum']}")
    inner = _without_none(hint)
    args = typing.get_args(inner)
    if typing.get_origin(inner) in (tuple, list) and args and isinstance(node.get("items"), dict):
        problems += _type_problems(schema, args[0], node["items"], f"{where}[]", nullable=False)
    if typing.get_origin(inner) is dict and isinstance(node.get("additionalProperties"), dict):
        problems += _type_problems(schema, args[1], node["additionalProperties"], f"{where}{{}}", nullable=False)
    return problems


def _may_be_missing(entry: JsonEntry) -> bool:
    return entry.spec.optional or entry.spec.merge is not None


def schema_problems(record: type[Record], schema: Schema) -> list[str]:
    """How `record`'s JSON and its node in the timeline schema disagree; empty when they agree."""
    if record.json_schema is None:
        return [f"{record.__name__}: no json_schema pointer"]
    try:
        node = _pointer(schema, record.json_schema)
    except (KeyError, TypeError):
        return [f"{record.__name__}: {record.json_schema} is not in the schema"]
    name = record.__name__
    if record.json_array:
        layout = json_layout(record)
        problems = [] if node.get("type") == "array" else [f"{name}: written as an array, the schema says otherwise"]
        if node.get("minItems") != len(layout) or node.get("maxItems") != len(layout):
            problems.append(f"{name}: {len(layout)} values, the schema says {node.get('minItems')}..")
        for entry in layout:
            problems += _type_problems(schema, annotation(record, entry), node["items"], f"{name}.{entry.name}")
        return problems
    names = json_names(record)
    properties = node.get("properties", {})
    problems = [f"{name}.{key}: a field the schema does not list" for key in names if key not in properties]
    problems += [f"{name}.{key}: in the schema, not a field of the record" for key in properties if key not in names]
    for key in node.get("required", []):
        if key not in names or _may_be_missing(names[key]):
            problems.append(f"{name}.{key}: required by the schema, but the record may leave it out")
    for key, entry in names.items():
        if key in properties and entry.spec.merge is None:
            nullable = entry.spec.omit_if is not None
            hint = annotation(record, entry)
            problems += _type_problems(schema, hint, properties[key], f"{name}.{key}", nullable)
    return problems


@pytest.fixture(scope="module")
def schema() -> Schema:
    return timeline_schema()


def test_every_record_matches_its_schema_node(schema: Schema) -> None:
    assert len(RECORDS) >= 19
    problems = [problem for record in RECORDS.values() for problem in schema_problems(record, schema)]
    assert problems == []


def test_a_field_missing_from_the_schema_is_drift(schema: Schema) -> None:
    @dataclasses.dataclass(frozen=True)
    class ThemeScoreWithSpeaker(ThemeScore, register=False):
        speaker: str | None = None

    assert schema_problems(ThemeScore, schema) == []
    assert schema_problems(ThemeScoreWithSpeaker, schema) == [
        "ThemeScoreWithSpeaker.speaker: a field the schema does not list"
    ]
    record = ThemeScoreWithSpeaker("home_belonging", "asr-0001", 0.9, 1.0, 2.0, speaker="mother")
    assert record.to_json()["speaker"] == "mother"


def test_a_schema_property_without_a_field_or_of_another_type_is_drift(schema: Schema) -> None:
    extended = copy.deepcopy(schema)
    mention = extended["properties"]["mentions"]["items"]
    mention["properties"]["speaker"] = {"type": "string"}
    mention["properties"]["score"] = {"type": "string"}
    mention["properties"]["match"] = {"enum": ["keyword"]}
    mention["properties"]["term"] = {"type": "string"}
    mention["required"].append("term")
    assert schema_problems(Mention, extended) == [
        "Mention.speaker: in the schema, not a field of the record",
        "Mention.match: the record's values ['keyword', 'semantic'] differ from the schema's ['keyword']",
        "Mention.score: the record writes ['number'], the schema allows ['string']",
        "Mention.term: the record writes ['null'], the schema allows ['string']",
    ]
    evidence = extended["properties"]["symbols"]["items"]["properties"]["evidence"]["items"]
    evidence["required"] += ["text", "start_seconds"]
    assert schema_problems(Evidence, extended) == [
        "Evidence.text: required by the schema, but the record may leave it out"
    ]


def test_a_field_left_out_of_json_order_fails_loudly() -> None:
    @dataclasses.dataclass(frozen=True)
    class MentionWithSpeaker(Mention, register=False):
        speaker: str | None = None

    with pytest.raises(TypeError, match="json_order"):
        MentionWithSpeaker("lantern", "asr-0001", "asr", 0.0, 1.0, "a lantern", "keyword", 1.0).to_json()


def test_checkpoint_registry_is_every_record_and_refuses_others() -> None:
    from motiflens.core import records

    defined = {name for name, value in vars(records).items() if isinstance(value, type) and issubclass(value, Record)}
    assert set(RECORDS) == defined - {"Record"}
    assert "SampledFrame" not in RECORDS and "VideoSource" not in RECORDS
    with pytest.raises(TypeError, match="not a checkpointable record"):
        encode(VideoSource(Path("a.mp4"), "a.mp4", "a"))
    with pytest.raises(TypeError, match="two records are named"):

        class Mention(Record):  # a second class of the same name would make checkpoints ambiguous
            pass


def _golden_work() -> VideoWork:
    """The demo video's VideoWork, restored from its checkpoints in stage order."""
    folder = GOLDEN / "videos" / GOLDEN_VIDEO
    work = VideoWork(source=VideoSource(Path("jade_teapot.mp4"), "jade_teapot.mp4", GOLDEN_VIDEO), workdir=folder)
    for stage in STAGES:
        document = json.loads((folder / "stages" / f"{stage}.json").read_text(encoding="utf-8"))
        apply(work, document["delta"])
    return work


def test_timeline_bytes_match_the_demo_output() -> None:
    run = json.loads((GOLDEN / "run.json").read_text(encoding="utf-8"))
    work = _golden_work()
    document = build_timeline(work, run["config_hash"], run["package_version"], run["models"])
    validate_timeline(document)
    expected = (GOLDEN / "videos" / GOLDEN_VIDEO / "timeline.json").read_bytes()
    assert dumps_json(document).encode("utf-8") == expected
    # ingest wrote these two from the records too; the checkpoint keeps both sides
    assert work.layout is not None and work.audio is not None
    assert work.layout.to_json() == work.ingest_report["layout"]
    assert work.audio.to_json() == work.ingest_report["audio"]
    # and a checkpoint round trip keeps every record as it was
    for name in ("info", "layout", "audio", "transcript", "shots", "symbols", "mentions", "events", "themes"):
        value = getattr(work, name)
        assert decode(json.loads(json.dumps(encode(value)))) == value


def test_table_bytes_match_the_demo_output() -> None:
    """Each demo table's columns, rebuilt from the golden timeline, as CSV bytes (new columns may follow)."""
    tables = build_tables(GOLDEN)
    for path in sorted((GOLDEN / "tables").glob("*.csv")):
        expected = path.read_bytes()
        columns = expected.split(b"\n", 1)[0].decode("utf-8").replace('"', "").split(",")
        sink = io.BytesIO()
        pa_csv.write_csv(tables[path.stem].select(columns), sink)
        assert sink.getvalue() == expected, path.stem
