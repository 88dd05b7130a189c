"""Label Studio round trip: one verification task per symbol occurrence out, the annotators' verdicts back in.

Tasks use Label Studio's basic JSON format ({"data": ..., "predictions": [...]}) with the labeling config from
`labelstudio_config()`; the pipeline's guess is a prediction, so annotators confirm or flip it. The verdicts come
back from a Label Studio "JSON" export (not JSON-MIN) and feed `motiflens calibrate`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..atomic import write_json
from ..errors import InputError

# Names that tie the tasks, the labeling config and the export together.
VERDICT = "verdict"
NOTE = "note"
VIDEO = "video"
PRESENT = "present"
ABSENT = "absent"


def labelstudio_config() -> str:
    """The labeling config (XML) that matches the tasks: the video, the question, present/absent and a note."""
    return f"""<View>
  <Header value="Is the symbol on screen or named in the dialogue in this time range?"/>
  <Text name="question" value="$question" selectionEnabled="false"/>
  <Video name="{VIDEO}" value="$video"/>
  <Text name="evidence" value="$evidence_text" selectionEnabled="false"/>
  <Choices name="{VERDICT}" toName="{VIDEO}" choice="single-radio" showInline="true" required="true">
    <Choice value="{PRESENT}"/>
    <Choice value="{ABSENT}"/>
  </Choices>
  <TextArea name="{NOTE}" toName="{VIDEO}" placeholder="optional note" rows="2" maxSubmissions="1" editable="true"/>
</View>
"""


def _evidence_text(occurrence: Mapping[str, Any]) -> str:
    lines = []
    for evidence in occurrence.get("evidence") or []:
        text = evidence.get("text")
        lines.append(f"{evidence.get('kind', 'evidence')}: {text}" if text else str(evidence.get("kind", "")))
    return "\n".join(lines)


def to_labelstudio_tasks(
    documents: Sequence[Mapping[str, Any]], video_urls: Mapping[str, str]
) -> list[dict[str, Any]]:
    """One task per symbol occurrence; `video_urls` maps a video id to the URL Label Studio loads it from."""
    tasks = []
    for document in documents:
        video = document.get("video") or {}
        video_id = str(video.get("id", ""))
        if video_id not in video_urls:
            raise InputError(f"no Label Studio video URL for video {video_id!r}: pass one in video_urls")
        model_version = f"motiflens {(document.get('run') or {}).get('package_version', '')}".strip()
        for occurrence in document.get("symbols") or []:
            start, end = occurrence.get("start_seconds"), occurrence.get("end_seconds")
            label = str(occurrence.get("label") or occurrence.get("symbol_id", ""))
            data: dict[str, Any] = {
                "video": video_urls[video_id],
                "video_id": video_id,
                "symbol_id": occurrence.get("symbol_id"),
                "label": label,
                "role": occurrence.get("role"),
                "origin": occurrence.get("origin", "visual"),
                "start_seconds": start,
                "end_seconds": end,
                "question": f"{label} ({occurrence.get('symbol_id')}) from {start} s to {end} s",
                "evidence_text": _evidence_text(occurrence),
            }
            if occurrence.get("thumbnail"):
                data["thumbnail"] = occurrence["thumbnail"]
            result = {"from_name": VERDICT, "to_name": VIDEO, "type": "choices", "value": {"choices": [PRESENT]}}
            prediction: dict[str, Any] = {"model_version": model_version, "result": [result]}
            score = occurrence.get("peak_score")
            if isinstance(score, int | float) and not isinstance(score, bool):
                prediction["score"] = score
            tasks.append({"data": data, "predictions": [prediction]})
    return tasks


def write_labelstudio(
    documents: Sequence[Mapping[str, Any]], out_path: Path, video_urls: Mapping[str, str]
) -> Path:
    """Write the task file (a JSON list to import into a project that uses `labelstudio_config()`)."""
    write_json(out_path, to_labelstudio_tasks(documents, video_urls))
    return out_path


def _seconds(value: Any, where: str, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{where}: data.{field} must be a number of seconds, got {value!r}")
    return float(value)


def _verdict(result: Any, where: str) -> bool:
    """The present/absent answer in one annotation's result list, which must hold exactly one."""
    if not isinstance(result, list):
        raise InputError(f"{where}: 'result' must be a list")
    verdicts = []
    for region in result:
        if not isinstance(region, Mapping):
            raise InputError(f"{where}: each result entry must be an object")
        if region.get("from_name") != VERDICT:
            continue
        choices = (region.get("value") or {}).get("choices") if isinstance(region.get("value"), Mapping) else None
        if not isinstance(choices, list) or len(choices) != 1 or choices[0] not in (PRESENT, ABSENT):
            raise InputError(f"{where}: the {VERDICT!r} result must hold exactly one of {PRESENT!r}/{ABSENT!r}")
        verdicts.append(choices[0] == PRESENT)
    if len(verdicts) != 1:
        raise InputError(f"{where}: expected one {VERDICT!r} choice ({PRESENT!r} or {ABSENT!r}), found {len(verdicts)}")
    return verdicts[0]


def read_labelstudio_export(path: Path) -> list[dict[str, Any]]:
    """Rows {video_id, symbol_id, start_seconds, end_seconds, present} from a Label Studio JSON export.

    One row per submitted annotation, so several annotators give several rows. Tasks nobody annotated and
    cancelled (skipped) annotations give none; anything malformed raises InputError naming the task index.
    """
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{path}: not a readable Label Studio JSON export: {error}") from error
    if not isinstance(tasks, list):
        raise InputError(f"{path}: a Label Studio JSON export is a list of tasks (JSON-MIN and CSV are not read)")
    rows = []
    for index, task in enumerate(tasks):
        where = f"{path}: task {index}"
        if not isinstance(task, Mapping) or not isinstance(task.get("data"), Mapping):
            raise InputError(f"{where}: a task must be an object with a 'data' object")
        data = task["data"]
        for field in ("video_id", "symbol_id"):
            if not isinstance(data.get(field), str) or not data[field]:
                raise InputError(f"{where}: data.{field} is missing; was this task made by MotifLens?")
        start = _seconds(data.get("start_seconds"), where, "start_seconds")
        end = _seconds(data.get("end_seconds"), where, "end_seconds")
        annotations = task.get("annotations", [])
        if not isinstance(annotations, list):
            raise InputError(f"{where}: 'annotations' must be a list")
        for number, annotation in enumerate(annotations):
            annotation_where = f"{where}, annotation {number}"
            if not isinstance(annotation, Mapping):
                raise InputError(f"{annotation_where}: must be an object")
            if annotation.get("was_cancelled"):
                continue
            present = _verdict(annotation.get("result"), annotation_where)
            rows.append(
                {
                    "video_id": data["video_id"],
                    "symbol_id": data["symbol_id"],
                    "start_seconds": start,
                    "end_seconds": end,
                    "present": present,
                }
            )
    return rows
