"""The one declarative config schema. YAML files, `--set key=value` and `config show` all go through it.

Every default lives here. Unknown keys and out-of-range values fail with the dotted path of the key
and what it allows.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class InputConfig(Section):
    extensions: tuple[str, ...] = Field(
        (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".flv", ".ts", ".mpg", ".mpeg", ".3gp"),
        description="File name endings treated as videos when scanning folders (case-insensitive).",
    )
    recursive: bool = Field(True, description="Scan sub-folders.")
    include_hidden: bool = Field(False, description="Include files and folders whose name starts with '.'.")
    follow_symlinks: bool = Field(True, description="Follow symlinked folders (loops are detected).")
    min_duration_seconds: float = Field(
        1.0, ge=0, le=3600, description="Shorter videos are skipped with a reason."
    )


class FramesConfig(Section):
    sample_fps: float = Field(1.0, gt=0, le=30, description="Regularly sampled frames per second.")
    max_side: int = Field(
        1280, ge=64, le=8192, description="Decoded frames are downscaled so their long side is at most this."
    )
    shot_first_frames: bool = Field(True, description="Also sample the first frame of every shot.")
    decode_threads: int = Field(0, ge=0, le=64, description="FFmpeg decoder threads; 0 lets FFmpeg choose.")
    seek_gap_seconds: float = Field(
        4.0, ge=0, le=600, description="Seek instead of decoding through gaps longer than this."
    )


class TilesConfig(Section):
    overlap: float = Field(0.25, ge=0, le=0.75, description="Minimum overlap between neighbouring square tiles.")
    full_frame: bool = Field(False, description="Also score the whole picture, padded to a square.")


class BandsConfig(Section):
    detect_letterbox: bool = Field(True, description="Find black bars and blurred padding at the edges.")
    detect_subtitles: bool = Field(True, description="Find the burned-in subtitle band.")
    analysis_frames: int = Field(24, ge=1, le=600, description="Frames spread over the video used to find bands.")
    flat_ratio: float = Field(
        0.15, gt=0, lt=1, description="An edge row whose detail is below this share of the picture's is padding."
    )
    min_band_fraction: float = Field(0.03, ge=0, lt=0.5, description="Ignore edge bands thinner than this.")
    subtitle_search_top: float = Field(
        0.5, ge=0, lt=1, description="Subtitles are looked for below this fraction of the picture height."
    )
    subtitle_min_presence: float = Field(
        0.15, gt=0, le=1, description="Share of frames that must show text in the band."
    )


class AudioConfig(Section):
    enabled: bool = Field(True, description="Extract the audio track for the dialogue stream.")
    sample_rate: Literal[16000] = Field(16000, description="Whisper's rate; fixed.")


class RunConfig(Section):
    chunk_videos: int = Field(
        32, ge=1, le=100_000, description="Videos per chunk; each model runs over a whole chunk before the next."
    )
    fail_fast: bool = Field(False, description="Stop at the first failed video.")


class Config(Section):
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed for every random choice.")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto picks CUDA when present.")
    input: InputConfig = InputConfig()
    frames: FramesConfig = FramesConfig()
    tiles: TilesConfig = TilesConfig()
    bands: BandsConfig = BandsConfig()
    audio: AudioConfig = AudioConfig()
    run: RunConfig = RunConfig()

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def hash(self) -> str:
        """Stable across runs and machines: canonical JSON of the resolved config."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _field_limits(path: tuple[str | int, ...]) -> str | None:
    """The allowed range or choices of the field at `path`, read from the schema itself."""
    model: type[BaseModel] = Config
    info = None
    for part in path:
        if not isinstance(part, str) or part not in model.model_fields:
            return None
        info = model.model_fields[part]
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
    if info is None:
        return None
    bounds = []
    for constraint in info.metadata:
        for name, symbol in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            value = getattr(constraint, name, None)
            if value is not None:
                bounds.append(f"{symbol} {value}")
    return f"allowed: {' and '.join(bounds)}" if bounds else None


def _allowed_keys(path: tuple[str | int, ...]) -> list[str]:
    model: type[BaseModel] = Config
    for part in path:
        annotation = model.model_fields[str(part)].annotation if str(part) in model.model_fields else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return sorted(model.model_fields)


def format_validation_error(error: ValidationError, origin: str) -> str:
    lines = [f"invalid config ({origin}):"]
    for item in error.errors():
        loc = tuple(item["loc"])
        dotted = ".".join(str(part) for part in loc)
        if item["type"] == "extra_forbidden":
            allowed = ", ".join(_allowed_keys(loc[:-1]))
            lines.append(f"  {dotted}: unknown key (known keys here: {allowed})")
            continue
        detail = f"  {dotted}: {item['msg']} (got {item['input']!r})"
        limits = _field_limits(loc)
        lines.append(f"{detail}; {limits}" if limits else detail)
    return "\n".join(lines)


def parse_override(assignment: str) -> tuple[list[str], Any]:
    """`frames.sample_fps=2` → (["frames", "sample_fps"], 2.0); the value is read as a YAML scalar."""
    key, sep, raw = assignment.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set expects key=value, got {assignment!r}")
    parts = [part for part in key.strip().split(".") if part]
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set {key}: value {raw!r} is not valid YAML: {exc}") from exc
    return parts, value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    for assignment in overrides:
        parts, value = parse_override(assignment)
        node = data
        for depth, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                dotted = ".".join(parts[: depth + 1])
                raise ConfigError(f"--set {assignment}: {dotted} is a value, not a section")
            node = child
        node[parts[-1]] = value
    return data


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config {path} is not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must be a mapping of sections, got {type(data).__name__}")
    return data


def load_config(path: Path | None = None, overrides: list[str] | None = None) -> Config:
    data = read_yaml_mapping(path) if path is not None else {}
    data = apply_overrides(data, list(overrides or []))
    origin = str(path) if path is not None else "defaults"
    if overrides:
        origin += " with --set " + ", ".join(overrides)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, origin)) from exc


def dump_yaml(config: Config) -> str:
    return yaml.safe_dump(config.to_dict(), sort_keys=False, allow_unicode=True)
