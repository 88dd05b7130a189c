"""Plot-event and identity-theme definitions: versioned YAML files of labels with bilingual prototype lines
(for embedding similarity), keyword cues and neutral lines (negatives for threshold calibration).

The built-in files are `data/events.yaml` (the ten event types of DESIGN.md section 3) and `data/themes.yaml`
(the four identity themes). A file is validated strictly: unknown keys, missing or unknown ids, too few lines,
empty lines, uppercase English cues and one-character Chinese cues are errors that name the file and the
dotted key, e.g. `data/events.yaml: types.3.prototypes.en: at least 4 lines required`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from motiflens.core.errors import ConfigError
from motiflens.core.resources import project_resource
from motiflens.core.yamlfile import read_yaml_mapping

Kind = Literal["events", "themes"]

#: DESIGN.md section 3: `events[].type` (the timeline schema's `event_type` enum lists the same ids).
EVENT_TYPE_IDS: tuple[str, ...] = (
    "confrontation", "humiliation", "reversal", "revelation", "vow",
    "betrayal", "rescue", "confession", "reconciliation", "loss",
)  # fmt: skip
#: DESIGN.md sections 1 and 3: `themes[].theme`.
THEME_IDS: tuple[str, ...] = ("self_other", "tradition_modernity", "home_belonging", "local_global")

REQUIRED_IDS: dict[str, tuple[str, ...]] = {"events": EVENT_TYPE_IDS, "themes": THEME_IDS}
#: The key that holds the label list: a themes file handed to the events loader fails on it, by name.
LIST_KEY: dict[str, str] = {"events": "types", "themes": "themes"}
BUILTIN_FILES: dict[str, str] = {"events": "events.yaml", "themes": "themes.yaml"}

# Fewer prototypes than this make a similarity score hinge on one phrasing; fewer neutral lines leave the
# calibrated threshold without a meaningful negative distribution.
MIN_PROTOTYPES = 4
MIN_NEUTRAL = 10
# Chinese cues are matched as substrings: a single character occurs inside too many unrelated words.
MIN_ZH_CUE_CHARS = 2
_ID_PATTERN = r"^[a-z][a-z0-9_]*$"


def _non_empty(line: str) -> str:
    if not line:
        raise PydanticCustomError("empty_line", "line is empty")
    return line


def _lowercase(cue: str) -> str:
    # English cues are matched case-insensitively against lowercased text; an uppercase cue would never match.
    if cue != cue.lower():
        raise PydanticCustomError("cue_case", "English cue {cue} must be lowercase", {"cue": repr(cue)})
    return cue


def _zh_cue(cue: str) -> str:
    if len(cue) < MIN_ZH_CUE_CHARS:
        raise PydanticCustomError(
            "cue_length",
            "Chinese cue {cue} must have at least {minimum} characters (it is matched as a substring)",
            {"cue": repr(cue), "minimum": MIN_ZH_CUE_CHARS},
        )
    return cue


def _distinct(lines: tuple[str, ...]) -> tuple[str, ...]:
    repeated = sorted({line for line in lines if lines.count(line) > 1})
    if repeated:
        raise PydanticCustomError("repeated_line", "repeated: {lines}", {"lines": ", ".join(map(repr, repeated))})
    return lines


def _at_least(minimum: int) -> AfterValidator:
    def check(lines: tuple[str, ...]) -> tuple[str, ...]:
        if len(lines) < minimum:
            raise PydanticCustomError("too_few_lines", "at least {minimum} lines required", {"minimum": minimum})
        return lines

    return AfterValidator(check)


_Line = Annotated[str, AfterValidator(_non_empty)]
_EnCue = Annotated[str, AfterValidator(_non_empty), AfterValidator(_lowercase)]
_ZhCue = Annotated[str, AfterValidator(_non_empty), AfterValidator(_zh_cue)]
_Prototypes = Annotated[tuple[_Line, ...], _at_least(MIN_PROTOTYPES), AfterValidator(_distinct)]
_NeutralLines = Annotated[tuple[_Line, ...], _at_least(MIN_NEUTRAL), AfterValidator(_distinct)]


class _Strict(BaseModel):
    # Strip whitespace first, so that "  " counts as an empty line and " swear" matches like "swear".
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class _PrototypeLines(_Strict):
    en: _Prototypes
    zh: _Prototypes


class _NeutralBlock(_Strict):
    en: _NeutralLines
    zh: _NeutralLines


class _Cues(_Strict):
    # May be empty: a label can rely on prototypes alone where no phrase is precise enough.
    en: Annotated[tuple[_EnCue, ...], AfterValidator(_distinct)]
    zh: Annotated[tuple[_ZhCue, ...], AfterValidator(_distinct)]


class _CounterExamples(_Strict):
    en: Annotated[tuple[_Line, ...], AfterValidator(_distinct)] = ()
    zh: Annotated[tuple[_Line, ...], AfterValidator(_distinct)] = ()


class _Label(_Strict):
    id: str = Field(pattern=_ID_PATTERN)
    label: str = Field(min_length=1)
    description: str = Field(min_length=1)
    prototypes: _PrototypeLines
    cues: _Cues
    #: Lines that look like the label on the surface but are not it (a refused apology for reconciliation).
    counter_examples: _CounterExamples = _CounterExamples()
    #: Events only: a negated cue means the act did not happen; a refusing reply means it was turned down.
    negatable: bool = False
    needs_acceptance: bool = False


class _Header(_Strict):
    version: str = Field(min_length=1)
    name: str = Field(min_length=1)
    description: str = ""
    neutral: _NeutralBlock


class _EventsFile(_Header):
    types: tuple[_Label, ...] = Field(min_length=1)


class _ThemesFile(_Header):
    themes: tuple[_Label, ...] = Field(min_length=1)


_FILE_MODELS: dict[str, type[_Header]] = {"events": _EventsFile, "themes": _ThemesFile}


@dataclass(frozen=True)
class LabelDefinition:
    """One event type or theme: what it means, lines that typify it, phrases that alone signal it."""

    id: str
    label: str
    description: str
    prototypes_en: tuple[str, ...]
    prototypes_zh: tuple[str, ...]
    cues_en: tuple[str, ...]
    cues_zh: tuple[str, ...]
    counter_en: tuple[str, ...] = ()
    counter_zh: tuple[str, ...] = ()
    negatable: bool = False
    needs_acceptance: bool = False


@dataclass(frozen=True)
class Definitions:
    """A validated events or themes file."""

    name: str
    version: str
    kind: Kind
    labels: tuple[LabelDefinition, ...]
    neutral_en: tuple[str, ...]
    neutral_zh: tuple[str, ...]
    source: str

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(label.id for label in self.labels)

    def get(self, label_id: str) -> LabelDefinition:
        for label in self.labels:
            if label.id == label_id:
                return label
        raise KeyError(label_id)

    def content(self) -> dict[str, Any]:
        """What scores depend on; name, version and source are left out so that moving or re-versioning an
        unchanged file keeps cached embeddings and calibrations valid."""
        return {
            "kind": self.kind,
            "labels": [
                {
                    "id": label.id,
                    "prototypes": {"en": list(label.prototypes_en), "zh": list(label.prototypes_zh)},
                    "cues": {"en": list(label.cues_en), "zh": list(label.cues_zh)},
                    "counter_examples": {"en": list(label.counter_en), "zh": list(label.counter_zh)},
                    "negatable": label.negatable,
                    "needs_acceptance": label.needs_acceptance,
                }
                for label in self.labels
            ],
            "neutral": {"en": list(self.neutral_en), "zh": list(self.neutral_zh)},
        }

    @property
    def hash(self) -> str:
        """sha256 of the canonical JSON of `content()` (not of the file bytes), first 16 hex digits."""
        canonical = json.dumps(self.content(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _display(path: Path) -> str:
    # Relative to the working directory where possible: the messages in the docs read `data/events.yaml: ...`.
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(file)"
        parts.append(f"{key}: {item['msg']}")
    return "; ".join(parts)


def _check_ids(where: str, key: str, labels: tuple[_Label, ...], required: tuple[str, ...]) -> None:
    seen: set[str] = set()
    for position, label in enumerate(labels):
        if label.id in seen:
            raise ConfigError(f"{where}: {key}.{position}.id: duplicate id {label.id!r}")
        seen.add(label.id)
    # Downstream records, tables and the timeline schema enumerate exactly these ids.
    missing = [label_id for label_id in required if label_id not in seen]
    unknown = [label.id for label in labels if label.id not in required]
    problems = []
    if missing:
        problems.append(f"missing ids: {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown ids: {', '.join(unknown)}")
    if problems:
        raise ConfigError(f"{where}: {key}: {'; '.join(problems)} (required: {', '.join(required)})")


def _check_overlaps(where: str, key: str, labels: tuple[_Label, ...], neutral: _NeutralBlock) -> None:
    # A line that is both a prototype and a negative, or a prototype of two labels, makes calibration contradict
    # itself.
    for language in ("en", "zh"):
        owner: dict[str, str] = {}
        negatives = set(getattr(neutral, language))
        negatives |= {line for label in labels for line in getattr(label.counter_examples, language)}
        for position, label in enumerate(labels):
            for line in getattr(label.prototypes, language):
                dotted = f"{key}.{position}.prototypes.{language}"
                if line in negatives:
                    raise ConfigError(f"{where}: {dotted}: {line!r} is also a neutral line or counter-example")
                if line in owner:
                    raise ConfigError(f"{where}: {dotted}: {line!r} is also a prototype of {owner[line]!r}")
                owner[line] = label.id


def load_definitions(path: Path, kind: Kind) -> Definitions:
    """Read and validate an events or themes file; every error is a ConfigError naming the file and the key."""
    if kind not in REQUIRED_IDS:
        raise ConfigError(f"unknown definitions kind {kind!r}; expected one of: {', '.join(REQUIRED_IDS)}")
    path = Path(path)
    where = _display(path)
    data = read_yaml_mapping(path, where, shape="a mapping with version, name, neutral and a label list")
    key = LIST_KEY[kind]
    other = next(k for k in LIST_KEY if k != kind)
    if key not in data and LIST_KEY[other] in data:
        raise ConfigError(f"{where}: has {LIST_KEY[other]!r} instead of {key!r}: this is a {other} file, not {kind}")
    try:
        parsed = _FILE_MODELS[kind].model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_describe(exc)}") from None
    labels: tuple[_Label, ...] = getattr(parsed, key)
    _check_ids(where, key, labels, REQUIRED_IDS[kind])
    _check_overlaps(where, key, labels, parsed.neutral)
    return Definitions(
        name=parsed.name,
        version=parsed.version,
        kind=kind,
        labels=tuple(
            LabelDefinition(
                id=label.id,
                label=label.label,
                description=label.description,
                prototypes_en=label.prototypes.en,
                prototypes_zh=label.prototypes.zh,
                cues_en=label.cues.en,
                cues_zh=label.cues.zh,
                counter_en=label.counter_examples.en,
                counter_zh=label.counter_examples.zh,
                negatable=label.negatable,
                needs_acceptance=label.needs_acceptance,
            )
            for label in labels
        ),
        neutral_en=parsed.neutral.en,
        neutral_zh=parsed.neutral.zh,
        source=str(path),
    )


def builtin_definitions_path(kind: Kind) -> Path:
    """The shipped `data/events.yaml` or `data/themes.yaml`."""
    if kind not in BUILTIN_FILES:
        raise ConfigError(f"unknown definitions kind {kind!r}; expected one of: {', '.join(BUILTIN_FILES)}")
    return project_resource("data") / BUILTIN_FILES[kind]


def load_builtin(kind: Kind) -> Definitions:
    """Load and validate the shipped definitions of `kind`."""
    return load_definitions(builtin_definitions_path(kind), kind)
