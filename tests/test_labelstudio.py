"""Label Studio tasks out, a Label Studio JSON export back in."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from motiflens.core.errors import InputError
from motiflens.reports.labelstudio import (
    labelstudio_config,
    read_labelstudio_export,
    to_labelstudio_tasks,
    write_labelstudio,
)
from report_helpers import ALL_PAYLOADS, make_timeline

URLS = {"lantern-vow-test": "/data/local-files/?d=videos/lantern_vow.mp4"}


def _tasks() -> list[dict[str, Any]]:
    return to_labelstudio_tasks([make_timeline(ALL_PAYLOADS)], URLS)


def test_one_task_per_occurrence() -> None:
    document = make_timeline(ALL_PAYLOADS)
    tasks = to_labelstudio_tasks([document], URLS)
    assert len(tasks) == len(document["symbols"]) == 3
    first = tasks[0]["data"]
    assert first["video"] == URLS["lantern-vow-test"]
    assert (first["video_id"], first["symbol_id"], first["role"]) == ("lantern-vow-test", "red_lantern", "catalyst")
    assert (first["start_seconds"], first["end_seconds"]) == (0.0, 4.32)
    assert first["thumbnail"] == "thumbnails/red_lantern-0001.jpg"
    assert "This red lantern belonged to my grandmother." in first["evidence_text"]
    assert "thumbnail" not in tasks[1]["data"]
    prediction = tasks[0]["predictions"][0]
    assert prediction["score"] == 0.8
    assert prediction["result"] == [
        {"from_name": "verdict", "to_name": "video", "type": "choices", "value": {"choices": ["present"]}}
    ]


def test_config_matches_the_tasks() -> None:
    config = labelstudio_config()
    root = ET.fromstring(config)
    assert root.tag == "View"
    video = root.find("Video")
    choices = root.find("Choices")
    assert video is not None and choices is not None
    assert [c.get("value") for c in choices.findall("Choice")] == ["present", "absent"]
    note = root.find("TextArea")
    assert note is not None and note.get("toName") == video.get("name")
    for task in _tasks():
        result = task["predictions"][0]["result"][0]
        assert (result["from_name"], result["to_name"]) == (choices.get("name"), choices.get("toName"))
        assert result["to_name"] == video.get("name")
        # Every $variable in the config must be a key of every task's data, or Label Studio rejects the import.
        assert set(re.findall(r"\$(\w+)", config)) <= set(task["data"])


def test_missing_video_url_is_an_input_error() -> None:
    with pytest.raises(InputError, match="lantern-vow-test"):
        to_labelstudio_tasks([make_timeline()], {})


def _export(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What Label Studio's JSON export makes of our tasks once annotators have worked on them."""

    def annotation(choice: str | None, cancelled: bool = False, note: str | None = None) -> dict[str, Any]:
        result: list[dict[str, Any]] = []
        if choice is not None:
            result.append({"id": "r1", "from_name": "verdict", "to_name": "video", "type": "choices",
                           "origin": "manual", "value": {"choices": [choice]}})
        if note is not None:
            result.append({"id": "r2", "from_name": "note", "to_name": "video", "type": "textarea",
                           "value": {"text": [note]}})
        return {"id": 100, "completed_by": 1, "result": result, "was_cancelled": cancelled, "ground_truth": False,
                "created_at": "2026-11-28T16:00:00.000000Z", "lead_time": 4.2}

    exported = []
    for number, task in enumerate(tasks, 1):
        exported.append({"id": number, "data": task["data"], "predictions": task["predictions"], "annotations": []})
    exported[0]["annotations"] = [annotation("present"), annotation("absent", note="only a red cloth")]
    exported[1]["annotations"] = [annotation("absent"), annotation(None, cancelled=True)]
    return exported  # the third task was never annotated


def test_round_trip(tmp_path: Path) -> None:
    tasks_file = write_labelstudio([make_timeline(ALL_PAYLOADS)], tmp_path / "tasks.json", URLS)
    tasks = json.loads(tasks_file.read_text(encoding="utf-8"))
    assert tasks == _tasks()
    export = tmp_path / "export.json"
    export.write_text(json.dumps(_export(tasks)), encoding="utf-8")
    assert read_labelstudio_export(export) == [
        {"video_id": "lantern-vow-test", "symbol_id": "red_lantern", "start_seconds": 0.0, "end_seconds": 4.32,
         "present": True},
        {"video_id": "lantern-vow-test", "symbol_id": "red_lantern", "start_seconds": 0.0, "end_seconds": 4.32,
         "present": False},
        {"video_id": "lantern-vow-test", "symbol_id": "dumplings", "start_seconds": 2.6, "end_seconds": 5.0,
         "present": False},
    ]


def _break(exported: list[dict[str, Any]], how: str) -> None:
    annotation = exported[1]["annotations"][0]
    if how == "data":
        del exported[1]["data"]
    elif how == "symbol":
        del exported[1]["data"]["symbol_id"]
    elif how == "start":
        exported[1]["data"]["start_seconds"] = "2.6"
    elif how == "choice":
        annotation["result"][0]["value"]["choices"] = ["maybe"]
    elif how == "two_choices":
        annotation["result"][0]["value"]["choices"] = ["present", "absent"]
    elif how == "no_verdict":
        annotation["result"] = []
    elif how == "two_verdicts":
        annotation["result"] = annotation["result"] * 2
    elif how == "result":
        annotation["result"] = {"choices": ["present"]}
    elif how == "annotations":
        exported[1]["annotations"] = {}


@pytest.mark.parametrize(
    "how",
    ["data", "symbol", "start", "choice", "two_choices", "no_verdict", "two_verdicts", "result", "annotations"],
)
def test_malformed_export_names_the_task(tmp_path: Path, how: str) -> None:
    exported = _export(_tasks())
    _break(exported, how)
    export = tmp_path / "export.json"
    export.write_text(json.dumps(exported), encoding="utf-8")
    with pytest.raises(InputError, match=r"task 1\b"):
        read_labelstudio_export(export)


@pytest.mark.parametrize("content", ["{not json", '{"tasks": []}', "\udcff"])
def test_unreadable_export(tmp_path: Path, content: str) -> None:
    export = tmp_path / "export.json"
    export.write_bytes(content.encode("utf-8", "surrogateescape"))
    with pytest.raises(InputError, match="export"):
        read_labelstudio_export(export)
