"""One serializer for every record: a record's JSON is derived from its dataclass fields and their metadata.

A record class subclasses `Record` and declares, next to each field, how the field appears in JSON
(`field(metadata=json_meta(...))`): its rounding, whether it is omitted when unset, its JSON name, whether it
is internal (checkpointed, never in JSON). Properties that belong to the contract (e.g. VideoInfo.orientation)
are marked with `@property` over `@in_json(...)`. Key order is the field order unless the class names it in
`json_order`. Subclassing `Record` also registers the class for checkpoints, so no list of records is kept by
hand; `json_schema` points at the class's object in schemas/timeline.schema.json, which tests compare with
the fields (tests/test_record_schema.py).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

_META_KEY = "motiflens.json"
_KEEP = object()  # omit_if default: the key is always written

JsonType = Literal["string", "integer", "number", "boolean", "array", "object", "null"]
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class JsonSpec:
    """How one field or contract property is written."""

    #: The JSON key, when it differs from the attribute name.
    name: str | None = None
    #: Round floats (and the floats inside tuples and dicts) to this many digits, so float noise never
    #: changes an output byte.
    digits: int | None = None
    #: Leave the key out when the value is this singleton (None or False).
    omit_if: object = _KEEP
    #: Checkpointed with the record but never part of its JSON.
    internal: bool = False
    #: Written only when this boolean attribute of the record is true.
    when: str | None = None
    #: Write a dict's entries sorted by key.
    sort_keys: bool = False
    #: A dict merged into the record's object instead of nested under a key; the keys it may hold.
    merge: tuple[str, ...] | None = None
    #: What the value means, for the corpus tables' column descriptions.
    doc: str | None = None

    @property
    def optional(self) -> bool:
        """The key may be missing from a record's JSON."""
        return self.omit_if is not _KEEP or self.when is not None


def json_meta(
    *,
    name: str | None = None,
    digits: int | None = None,
    omit_if: object = _KEEP,
    internal: bool = False,
    when: str | None = None,
    sort_keys: bool = False,
    merge: tuple[str, ...] | None = None,
    doc: str | None = None,
) -> dict[str, JsonSpec]:
    """Field metadata: `field(metadata=json_meta(digits=3))`. (A plain `field()` keeps mypy's dataclass checks.)"""
    if omit_if is not _KEEP and omit_if is not None and omit_if is not False:
        raise ValueError(f"omit_if must be None or False, got {omit_if!r}")
    spec = JsonSpec(name, digits, omit_if, internal, when, sort_keys, merge, doc)
    return {_META_KEY: spec}


def in_json(
    *, name: str | None = None, digits: int | None = None, omit_if: object = _KEEP, doc: str | None = None
) -> Callable[[F], F]:
    """Mark a property's getter as part of the record's JSON: `@property` on top, then `@in_json(...)`."""
    spec = json_meta(name=name, digits=digits, omit_if=omit_if, doc=doc)[_META_KEY]

    def mark(getter: F) -> F:
        vars(getter)[_META_KEY] = spec
        return getter

    return mark


@dataclass(frozen=True)
class JsonEntry:
    """One key of a record's JSON: the attribute it comes from and how it is written."""

    attribute: str
    spec: JsonSpec
    computed: bool

    @property
    def name(self) -> str:
        return self.spec.name or self.attribute


#: Every record class by name, for checkpoints: filled by subclassing Record.
RECORDS: dict[str, type[Record]] = {}


class Record:
    """Base of the typed records: JSON through `to_json()`, registered for checkpoints."""

    #: Attribute names in the order their keys are written, when that is not the field order.
    json_order: ClassVar[tuple[str, ...] | None] = None
    #: Written as a JSON array of the field values (e.g. a box) instead of an object.
    json_array: ClassVar[bool] = False
    #: JSON pointer to this record's node in schemas/timeline.schema.json.
    json_schema: ClassVar[str | None] = None

    def __init_subclass__(cls, *, register: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not register:
            return
        if cls.__name__ in RECORDS:
            raise TypeError(f"two records are named {cls.__name__}; checkpoints name records by class")
        RECORDS[cls.__name__] = cls

    def to_json(self) -> Any:
        """The record as written to timeline.json: a dict, or a list for `json_array` records."""
        return record_json(self)


def _is_computed(value: object) -> bool:
    return isinstance(value, property) and value.fget is not None and _META_KEY in vars(value.fget)


_LAYOUTS: dict[type[Record], tuple[JsonEntry, ...]] = {}


def json_layout(cls: type[Record]) -> tuple[JsonEntry, ...]:
    """The keys of `cls`'s JSON in order, checked once per class against its fields and `json_order`."""
    layout = _LAYOUTS.get(cls)
    if layout is None:
        layout = _LAYOUTS[cls] = _build_layout(cls)
    return layout


def _build_layout(cls: type[Record]) -> tuple[JsonEntry, ...]:
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__} is not a dataclass")
    entries: dict[str, JsonEntry] = {}
    for item in dataclasses.fields(cls):
        spec = item.metadata.get(_META_KEY, JsonSpec())
        if not spec.internal:
            entries[item.name] = JsonEntry(item.name, spec, computed=False)
    for klass in reversed(cls.__mro__):
        for attribute, value in vars(klass).items():
            if _is_computed(value):
                entries[attribute] = JsonEntry(attribute, vars(value.fget)[_META_KEY], computed=True)
    if cls.json_order is not None:
        if sorted(cls.json_order) != sorted(entries):
            raise TypeError(
                f"{cls.__name__}.json_order {sorted(cls.json_order)} must name each JSON attribute once: "
                f"{sorted(entries)}"
            )
        entries = {attribute: entries[attribute] for attribute in cls.json_order}
    names = [entry.name for entry in entries.values()]
    if len(set(names)) != len(names):
        raise TypeError(f"{cls.__name__}: two attributes share a JSON name: {names}")
    return tuple(entries.values())


def _value(value: Any, spec: JsonSpec) -> Any:
    if value is None:
        return None
    if isinstance(value, Record):
        return value.to_json()
    if isinstance(value, tuple | list):
        return [_value(item, spec) for item in value]
    if isinstance(value, Mapping):
        items = sorted(value.items()) if spec.sort_keys else value.items()
        return {key: _value(item, spec) for key, item in items}
    if spec.digits is not None:
        return round(float(value), spec.digits)
    return value


def record_json(record: Record, *, conditional: bool = True) -> Any:
    """`record`'s JSON. `conditional=False` also writes the keys that `when` shows only under a condition."""
    layout = json_layout(type(record))
    if type(record).json_array:
        return [_value(getattr(record, entry.attribute), entry.spec) for entry in layout]
    document: dict[str, Any] = {}
    for entry in layout:
        spec = entry.spec
        if conditional and spec.when is not None and not getattr(record, spec.when):
            continue
        value = getattr(record, entry.attribute)
        if value is spec.omit_if:
            continue
        if spec.merge is not None:
            document.update(value)
        else:
            document[entry.name] = _value(value, spec)
    return document


def json_names(cls: type[Record]) -> dict[str, JsonEntry]:
    """The keys a record's JSON may hold, merged keys included (those map to the dict they come from)."""
    names: dict[str, JsonEntry] = {}
    for entry in json_layout(cls):
        for name in entry.spec.merge if entry.spec.merge is not None else (entry.name,):
            names[name] = entry
    return names


def annotation(cls: type[Record], entry: JsonEntry) -> Any:
    """The resolved type of a JSON entry: the field's annotation, or the property's return annotation."""
    if entry.computed:
        getter = getattr(cls, entry.attribute).fget
        return typing.get_type_hints(getter)["return"]
    return typing.get_type_hints(cls)[entry.attribute]


_SCALARS: dict[Any, JsonType] = {str: "string", int: "integer", float: "number", bool: "boolean"}


def json_types(hint: Any) -> tuple[set[JsonType], tuple[Any, ...] | None]:
    """The JSON types a value of type `hint` can take, and the allowed values when it is a Literal."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        found: set[JsonType] = set()
        values: tuple[Any, ...] | None = None
        for arg in typing.get_args(hint):
            kinds, allowed = json_types(arg)
            found |= kinds
            values = allowed if allowed is not None else values
        return found, values
    if origin is Literal:
        values = typing.get_args(hint)
        return {_SCALARS[type(value)] for value in values}, values
    if hint is type(None):
        return {"null"}, None
    if isinstance(hint, type) and issubclass(hint, Record):
        return ({"array"} if hint.json_array else {"object"}), None
    if origin in (tuple, list) or hint in (tuple, list):
        return {"array"}, None
    if origin is dict or hint is dict:
        return {"object"}, None
    if hint in _SCALARS:
        return {_SCALARS[hint]}, None
    raise TypeError(f"no JSON type for {hint!r}")
