"""The cultural symbol taxonomy: versioned YAML files, validated entry by entry, merged by id.

A run starts from the built-in `data/taxonomy/cultural_symbols.yaml` (unless `visual.builtin_taxonomy` is
false) and applies the files in `visual.taxonomy` in order:

- a *taxonomy* file (`version`, `symbols: [...]`, optional `background_prompts`) adds symbols, and replaces
  whole entries whose id already exists; its `background_prompts`, if given, replace the list;
- an *overlay* file (`kind: overlay`, `symbols: {id: {threshold: ...}}`), as written by
  `motiflens calibrate`, changes fields of existing symbols only.

The merged taxonomy has a content hash: text embeddings and calibrations are keyed by it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from motiflens.core.errors import ConfigError
from motiflens.core.resources import project_resource
from motiflens.core.yamlfile import read_yaml_mapping

BUILTIN_TAXONOMY = "cultural_symbols.yaml"
_ID_PATTERN = r"^[a-z][a-z0-9_]*$"
_MIN_PROMPTS = 4


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class DialogueTerms(_Strict):
    """Words the dialogue stream matches; list inflections and synonyms (matching is by keyword)."""

    en: tuple[str, ...] = Field(min_length=1)
    zh: tuple[str, ...] = Field(min_length=1)
    th: tuple[str, ...] = ()


class Symbol(_Strict):
    id: str = Field(pattern=_ID_PATTERN)
    label: str = Field(min_length=1)
    zh: str = Field(min_length=1)
    category: str = Field(pattern=_ID_PATTERN)
    culture: str = Field(pattern=_ID_PATTERN)
    visual_prompts: tuple[str, ...] = Field(min_length=_MIN_PROMPTS)
    dialogue_terms: DialogueTerms
    description: str = Field(min_length=1)
    threshold: float | None = Field(None, gt=0, lt=1, description="Presence score that starts an occurrence.")


class SymbolPatch(_Strict):
    """What an overlay may change in an existing symbol."""

    threshold: float = Field(gt=0, lt=1)
    #: How the threshold was fitted (counts, precision, recall, F1); informational.
    calibration: dict[str, float | int] | None = None


class _TaxonomyHeader(_Strict):
    kind: Literal["taxonomy"] = "taxonomy"
    version: str = Field(min_length=1)
    name: str = ""
    description: str = ""
    background_prompts: tuple[str, ...] | None = Field(None, min_length=1)
    symbols: list[Any] = Field(min_length=1)


class _OverlayFile(_Strict):
    kind: Literal["overlay"]
    version: str = Field(min_length=1)
    description: str = ""
    #: Model, weights and taxonomy the thresholds were fitted with; informational.
    fitted_with: dict[str, Any] | None = None
    symbols: dict[str, SymbolPatch] = Field(min_length=1)


@dataclass(frozen=True)
class Taxonomy:
    """The merged symbol set of a run."""

    symbols: tuple[Symbol, ...]
    background_prompts: tuple[str, ...]
    versions: tuple[str, ...]
    sources: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.symbols:
            raise ConfigError(f"taxonomy from {', '.join(self.sources) or 'nothing'} has no symbols")
        if not self.background_prompts:
            raise ConfigError(f"taxonomy from {', '.join(self.sources)} has no background_prompts")

    @property
    def ids(self) -> list[str]:
        return [symbol.id for symbol in self.symbols]

    def get(self, symbol_id: str) -> Symbol:
        for symbol in self.symbols:
            if symbol.id == symbol_id:
                return symbol
        raise KeyError(symbol_id)

    @property
    def version(self) -> str:
        return "+".join(self.versions)

    def content(self) -> dict[str, Any]:
        return {
            "symbols": [symbol.model_dump(mode="json") for symbol in self.symbols],
            "background_prompts": list(self.background_prompts),
        }

    @property
    def hash(self) -> str:
        """sha256 of the canonical JSON of every symbol and background prompt (not of file bytes)."""
        canonical = json.dumps(self.content(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def prompt_content(self) -> dict[str, Any]:
        """Only what text embeddings depend on: thresholds and terms can change without re-encoding."""
        return {
            "symbols": {symbol.id: list(symbol.visual_prompts) for symbol in self.symbols},
            "background_prompts": list(self.background_prompts),
        }

    @property
    def prompt_hash(self) -> str:
        canonical = json.dumps(self.prompt_content(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def builtin_taxonomy_path() -> Path:
    return project_resource("data/taxonomy") / BUILTIN_TAXONOMY


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "(entry)"
        parts.append(f"field {field}: {item['msg']}")
    return "; ".join(parts)


def _parse_symbols(path: Path, entries: list[Any]) -> list[Symbol]:
    symbols: list[Symbol] = []
    seen: set[str] = set()
    for position, entry in enumerate(entries):
        symbol_id = entry.get("id") if isinstance(entry, dict) else None
        where = f"symbol {symbol_id!r}" if symbol_id else f"symbol #{position + 1} (no id)"
        try:
            symbol = Symbol.model_validate(entry)
        except ValidationError as exc:
            raise ConfigError(f"taxonomy {path}: {where}: {_describe(exc)}") from None
        if symbol.id in seen:
            raise ConfigError(f"taxonomy {path}: {where}: field id: duplicate id in this file")
        if len(set(symbol.visual_prompts)) != len(symbol.visual_prompts):
            raise ConfigError(f"taxonomy {path}: {where}: field visual_prompts: repeated prompt")
        seen.add(symbol.id)
        symbols.append(symbol)
    return symbols


def load_taxonomy(paths: Sequence[Path]) -> Taxonomy:
    """Merge taxonomy and overlay files in order; every error names the file, the symbol id and the field."""
    merged: dict[str, Symbol] = {}
    background: tuple[str, ...] = ()
    versions: list[str] = []
    for path in paths:
        data = read_yaml_mapping(path, f"taxonomy {path}", shape="a mapping with version and symbols")
        if data.get("kind") == "overlay":
            try:
                overlay = _OverlayFile.model_validate(data)
            except ValidationError as exc:
                raise ConfigError(f"taxonomy overlay {path}: {_describe(exc)}") from None
            for symbol_id, patch in overlay.symbols.items():
                if symbol_id not in merged:
                    raise ConfigError(
                        f"taxonomy overlay {path}: symbol {symbol_id!r}: field id: no such symbol in the "
                        "taxonomy files listed before it"
                    )
                merged[symbol_id] = merged[symbol_id].model_copy(update={"threshold": patch.threshold})
            versions.append(overlay.version)
            continue
        try:
            header = _TaxonomyHeader.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(f"taxonomy {path}: {_describe(exc)}") from None
        for symbol in _parse_symbols(path, header.symbols):
            merged[symbol.id] = symbol
        if header.background_prompts is not None:
            background = header.background_prompts
        versions.append(header.version)
    return Taxonomy(
        symbols=tuple(merged.values()),
        background_prompts=background,
        versions=tuple(versions),
        sources=tuple(str(path) for path in paths),
    )


def taxonomy_paths(builtin: bool, extra: Sequence[Path]) -> list[Path]:
    return ([builtin_taxonomy_path()] if builtin else []) + [Path(path) for path in extra]
