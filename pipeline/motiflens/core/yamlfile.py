"""YAML input in one place: the safe loader only, and every failure turned into a MotifLens error naming the file.

Configs, the taxonomy, the event/theme definitions, the dev sets and the model cards are all read here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from motiflens.core.errors import ConfigError, MotifLensError


def parse_yaml(text: str, what: str, *, error: type[MotifLensError] = ConfigError) -> Any:
    """The YAML document in `text` (safe loader: no Python tags); `error` naming `what` when it is not YAML."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error(f"{what}: not valid YAML: {exc}") from exc


def read_yaml(path: Path, what: str, *, error: type[MotifLensError] = ConfigError) -> Any:
    """The YAML document in the file `path`; `error` naming `what` when it cannot be read, decoded or parsed."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{what}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{what}: not UTF-8 text: {exc}") from exc
    return parse_yaml(text, what, error=error)


def read_yaml_mapping(
    path: Path, what: str, *, shape: str = "a mapping", empty_ok: bool = False,
    error: type[MotifLensError] = ConfigError,
) -> dict[str, Any]:
    """`read_yaml` for a file whose top level must be a mapping (`shape` says of what); an empty file is {} when
    `empty_ok`, an error otherwise."""
    data = read_yaml(path, what, error=error)
    if data is None and empty_ok:
        return {}
    if not isinstance(data, dict):
        raise error(f"{what}: must be {shape}, got {'an empty file' if data is None else type(data).__name__}")
    return data
