"""The labelled dev sets under `data/eval/`: dialogue lines coded with their plot-event type, and short scenes
coded with the narrative role of each symbol. Thresholds and calibrations are fitted on them, with k-fold
cross-validation for the figures that are reported; their lines are never used as prototypes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from motiflens.core.errors import ConfigError
from motiflens.core.resources import project_resource
from motiflens.core.yamlfile import read_yaml_mapping
from motiflens.story.definitions import EVENT_TYPE_IDS

NO_EVENT = "none"
ROLES = ("decorative", "referenced", "catalyst")
LINKS = ("same_line", "anaphora", "semantic", "visual_focus")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class _Line(_Strict):
    id: str = Field(min_length=1)
    lang: str = Field(pattern=r"^[a-z]{2,3}$")
    text: str = Field(min_length=1)
    type: str
    reply: str | None = None
    tags: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _known_type(self) -> _Line:
        if self.type not in (*EVENT_TYPE_IDS, NO_EVENT):
            raise ValueError(f"type {self.type!r} is not one of {', '.join((*EVENT_TYPE_IDS, NO_EVENT))}")
        return self


class _LinesFile(_Strict):
    version: str
    lines: tuple[_Line, ...] = Field(min_length=10)


class _SceneLine(_Strict):
    start: float = Field(ge=0)
    end: float = Field(ge=0)
    text: str = Field(min_length=1)


class _OnScreen(_Strict):
    symbol_id: str
    start: float = Field(ge=0)
    end: float = Field(ge=0)
    prominence: float = Field(ge=0, le=1)


class _Gold(_Strict):
    symbol_id: str
    role: Literal["decorative", "referenced", "catalyst"]
    link: Literal["same_line", "anaphora", "semantic", "visual_focus"] | None = None
    event: str | None = None
    note: str = ""


class _Scene(_Strict):
    id: str = Field(min_length=1)
    lang: str = Field(pattern=r"^[a-z]{2,3}$")
    lines: tuple[_SceneLine, ...] = Field(min_length=1)
    scene_changes: tuple[float, ...] = ()
    on_screen: tuple[_OnScreen, ...] = ()
    gold: tuple[_Gold, ...] = Field(min_length=1)


class _ScenesFile(_Strict):
    version: str
    scenes: tuple[_Scene, ...] = Field(min_length=5)


@dataclass(frozen=True)
class DevLine:
    id: str
    language: str
    text: str
    type: str
    reply: str | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class SceneLine:
    start_seconds: float
    end_seconds: float
    text: str


@dataclass(frozen=True)
class OnScreen:
    symbol_id: str
    start_seconds: float
    end_seconds: float
    prominence: float


@dataclass(frozen=True)
class GoldRole:
    symbol_id: str
    role: str
    link: str | None
    event: str | None


@dataclass(frozen=True)
class Scene:
    id: str
    language: str
    lines: tuple[SceneLine, ...]
    scene_changes: tuple[float, ...]
    on_screen: tuple[OnScreen, ...]
    gold: tuple[GoldRole, ...]


def _digest(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _validated(path: Path, model: type[BaseModel]) -> tuple[Any, str]:
    data = read_yaml_mapping(path, f"dev set {path}", empty_ok=True)
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or '(file)'}: {item['msg']}" for item in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from None
    return parsed, _digest(data)


@dataclass(frozen=True)
class EventLines:
    lines: tuple[DevLine, ...]
    hash: str
    source: str


@dataclass(frozen=True)
class RoleScenes:
    scenes: tuple[Scene, ...]
    hash: str
    source: str


def default_path(name: str) -> Path:
    return project_resource("data") / "eval" / name


def load_event_lines(path: Path | None = None) -> EventLines:
    """`data/eval/event_lines.yaml` (or `path`): lines coded with an event type or `none`."""
    path = Path(path) if path is not None else default_path("event_lines.yaml")
    parsed, digest = _validated(path, _LinesFile)
    ids = [line.id for line in parsed.lines]
    repeated = sorted({item for item in ids if ids.count(item) > 1})
    if repeated:
        raise ConfigError(f"{path}: lines: repeated ids {', '.join(repeated)}")
    lines = tuple(DevLine(x.id, x.lang, x.text, x.type, x.reply, x.tags) for x in parsed.lines)
    return EventLines(lines, digest, str(path))


def load_role_scenes(path: Path | None = None) -> RoleScenes:
    """`data/eval/role_scenes.yaml` (or `path`): short scenes coded with each symbol's role."""
    path = Path(path) if path is not None else default_path("role_scenes.yaml")
    parsed, digest = _validated(path, _ScenesFile)
    scenes = tuple(
        Scene(
            id=scene.id,
            language=scene.lang,
            lines=tuple(SceneLine(line.start, line.end, line.text) for line in scene.lines),
            scene_changes=scene.scene_changes,
            on_screen=tuple(OnScreen(s.symbol_id, s.start, s.end, s.prominence) for s in scene.on_screen),
            gold=tuple(GoldRole(g.symbol_id, g.role, g.link, g.event) for g in scene.gold),
        )
        for scene in parsed.scenes
    )
    return RoleScenes(scenes, digest, str(path))
