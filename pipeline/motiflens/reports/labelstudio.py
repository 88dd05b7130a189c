"""Label Studio round trip: one verification task per symbol occurrence out, the annotators' verdicts back in.

Tasks use Label Studio's basic JSON format ({"data": ..., "predictions": [...]}) with the labeling config from
`labelstudio_config()`; the pipeline's guess is a prediction, so annotators confirm or flip it. The verdicts come
back from a Label Studio "JSON" export (not JSON-MIN) and feed `motiflens calibrate`. An optional role choice
(decorative / referenced / catalyst, shown once the annotator answers `present`) makes the same export a gold
standard of symbol roles for `motiflens evaluate` (`read_labelstudio_roles`). The pipeline's role is deliberately
not given as a prediction, so annotators choose it themselves.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from motiflens.core.atomic import write_json
from motiflens.core.errors import InputError

# Names that tie the tasks, the labeling config and the export together.
VERDICT = "verdict"
NOTE = "note"
VIDEO = "video"
PRESENT = "present"
ABSENT = "absent"
ROLE = "role"
ROLES = ("decorative", "referenced", "catalyst")


def labelstudio_config() -> str:
    """The labeling config (XML) that matches the tasks: the video, the question, present/absent, the symbol's
    role when present (optional: `motiflens calibrate` needs only the verdict) and a note."""
    role_choices = "\n".join(f'    <Choice value="{role}"/>' for role in ROLES)
    return f"""<View>
  <Header value="Is the symbol on screen or named in the dialogue in this time range?"/>
  <Text name="question" value="$question" selectionEnabled="false"/>
  <Video name="{VIDEO}" value="$video"/>
  <Text name="evidence" value="$evidence_text" selectionEnabled="false"/>
  <Choices name="{VERDICT}" toName="{VIDEO}" choice="single-radio" showInline="true" required="true">
    <Choice value="{PRESENT}"/>
    <Choice value="{ABSENT}"/>
  </Choices>
  <Header value="If present: what does the symbol do in the story?"/>
  <Choices name="{ROLE}" toName="{VIDEO}" choice="single-radio" showInline="true" visibleWhen="choice-selected"
           whenTagName="{VERDICT}" whenChoiceValue="{PRESENT}">
{role_choices}
  </Choices>
  <TextArea name="{NOTE}" toName="{VIDEO}" placeholder="optional note" rows="2" maxSubmissions="1" editable="true"/>
</View>
"""


def _evidence_text(occurrence: Mapping[str, Any]) -> str:
    lines = []
    for evidence in occurrence.get("evidence") or []:
        if evidence.get("kind") == ROLE:
            continue  # the pipeline's role and its reasons: annotators who code the role must not see it
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


def _choices(result: Any, name: str, allowed: Sequence[str], where: str) -> list[str]:
    """The answers of choice group `name` in one annotation's result list, each checked to be one of `allowed`."""
    if not isinstance(result, list):
        raise InputError(f"{where}: 'result' must be a list")
    answers = []
    for region in result:
        if not isinstance(region, Mapping):
            raise InputError(f"{where}: each result entry must be an object")
        if region.get("from_name") != name:
            continue
        choices = (region.get("value") or {}).get("choices") if isinstance(region.get("value"), Mapping) else None
        if not isinstance(choices, list) or len(choices) != 1 or choices[0] not in allowed:
            raise InputError(f"{where}: the {name!r} result must hold exactly one of {'/'.join(map(repr, allowed))}")
        answers.append(choices[0])
    return answers


def _verdict(result: Any, where: str) -> bool:
    """The present/absent answer in one annotation's result list, which must hold exactly one."""
    verdicts = _choices(result, VERDICT, (PRESENT, ABSENT), where)
    if len(verdicts) != 1:
        raise InputError(f"{where}: expected one {VERDICT!r} choice ({PRESENT!r} or {ABSENT!r}), found {len(verdicts)}")
    return verdicts[0] == PRESENT


def _role(result: Any, where: str) -> str | None:
    """The role answer in one annotation's result list: None when the annotator chose none."""
    roles = _choices(result, ROLE, ROLES, where)
    if len(roles) > 1:
        raise InputError(f"{where}: expected at most one {ROLE!r} choice, found {len(roles)}")
    return roles[0] if roles else None


def _read_tasks(path: Path) -> list[Any]:
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{path}: not a readable Label Studio JSON export: {error}") from error
    if not isinstance(tasks, list):
        raise InputError(f"{path}: a Label Studio JSON export is a list of tasks (JSON-MIN and CSV are not read)")
    return tasks


def _task_fields(task: Any, where: str) -> tuple[Mapping[str, Any], float, float, list[Any]]:
    """A task's data (with video_id and symbol_id checked), its start and end, and its annotations."""
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
    return data, start, end, annotations


def _submitted(annotations: Sequence[Any], where: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(where, annotation) of each submitted annotation of a task; cancelled (skipped) ones are left out."""
    for number, annotation in enumerate(annotations):
        annotation_where = f"{where}, annotation {number}"
        if not isinstance(annotation, Mapping):
            raise InputError(f"{annotation_where}: must be an object")
        if not annotation.get("was_cancelled"):
            yield annotation_where, annotation


def read_labelstudio_export(path: Path) -> list[dict[str, Any]]:
    """Rows {video_id, symbol_id, start_seconds, end_seconds, present} from a Label Studio JSON export.

    One row per submitted annotation, so several annotators give several rows. Tasks nobody annotated and
    cancelled (skipped) annotations give none; anything malformed raises InputError naming the task index.
    """
    rows = []
    for index, task in enumerate(_read_tasks(path)):
        where = f"{path}: task {index}"
        data, start, end, annotations = _task_fields(task, where)
        for annotation_where, annotation in _submitted(annotations, where):
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


def read_labelstudio_roles(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Gold symbol roles from a Label Studio JSON export of MotifLens tasks, and what the export held.

    Rows {video_id, symbol_id, start_seconds, end_seconds, role, task}: one per task whose (adjudicated) answer
    is `present` with a role. Several submitted annotations of a task must agree on verdict and role, unless
    one is marked ground truth in Label Studio, which then decides; otherwise InputError names the task.
    The summary counts tasks, annotated tasks, tasks judged absent, tasks present without a role, and lists
    the videos with at least one annotated task (the videos that were coded).
    """
    rows: list[dict[str, Any]] = []
    summary: dict[str, Any] = {"tasks": 0, "annotated": 0, "absent": 0, "present_without_role": 0, "videos": []}
    videos: dict[str, None] = {}
    tasks = _read_tasks(path)
    summary["tasks"] = len(tasks)
    for index, task in enumerate(tasks):
        where = f"{path}: task {index}"
        data, start, end, annotations = _task_fields(task, where)
        answers: list[tuple[bool, str | None, bool]] = []
        for annotation_where, annotation in _submitted(annotations, where):
            result = annotation.get("result")
            present, role = _verdict(result, annotation_where), _role(result, annotation_where)
            # A role picked before the verdict was flipped to absent stays in the result, hidden: drop it.
            answers.append((present, role if present else None, bool(annotation.get("ground_truth"))))
        if not answers:
            continue
        summary["annotated"] += 1
        videos[data["video_id"]] = None
        decisive = [answer for answer in answers if answer[2]] or answers
        distinct = sorted({(present, role) for present, role, _ in decisive}, key=str)
        if len(distinct) > 1:
            said = "; ".join(f"{PRESENT if present else ABSENT}{f' {role}' if role else ''}"
                             for present, role in distinct)
            raise InputError(f"{where}: its annotations disagree ({said}); adjudicate them by marking one as "
                             "ground truth in Label Studio, or export one annotator's annotations")
        present, role = distinct[0]
        if not present:
            summary["absent"] += 1
        elif role is None:
            summary["present_without_role"] += 1
        else:
            rows.append({"video_id": data["video_id"], "symbol_id": data["symbol_id"], "start_seconds": start,
                         "end_seconds": end, "role": role, "task": index})
    summary["videos"] = list(videos)
    return rows, summary
