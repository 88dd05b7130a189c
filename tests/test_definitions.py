"""Plot-event and identity-theme definitions: the shipped files, their content hash, and validation messages."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from motiflens.core.errors import ConfigError
from motiflens.story.definitions import (
    EVENT_TYPE_IDS,
    THEME_IDS,
    builtin_definitions_path,
    load_builtin,
    load_definitions,
)

ROOT = Path(__file__).resolve().parents[1]

# Lines the bundled demo videos speak: a prototype or neutral line equal to one would hard-code a result.
DEMO_LINES = (
    "This red lantern belonged to my grandmother.",
    "I swear I will bring it home before the Spring Festival.",
    "这把玉壶是我们家的传家宝。",
    "你竟然把它卖给了外人！",
    "Mom, I am finally home for the New Year.",
    "快来吃饺子，我们一家人终于团圆了。",
)


def _builtin_data(kind: str) -> dict[str, Any]:
    return yaml.safe_load(builtin_definitions_path(kind).read_text(encoding="utf-8"))


def _write(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _events(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(_builtin_data("events"))
    data.update(changes)
    return data


def _normalise(line: str) -> str:
    return re.sub(r"[\W_]+", "", line.lower())


# --- the shipped files ---------------------------------------------------------------------------------


def test_builtin_paths_are_the_data_files() -> None:
    assert builtin_definitions_path("events") == ROOT / "data" / "events.yaml"
    assert builtin_definitions_path("themes") == ROOT / "data" / "themes.yaml"


def test_builtin_events_have_the_ten_design_types_with_enough_lines() -> None:
    events = load_builtin("events")
    assert events.kind == "events"
    assert events.name == "plot_events"
    assert events.version.startswith("20")
    assert events.ids == EVENT_TYPE_IDS
    assert len(events.neutral_en) >= 25 and len(events.neutral_zh) >= 25
    for label in events.labels:
        assert len(label.prototypes_en) >= 8 and len(label.prototypes_zh) >= 8, label.id
        assert label.cues_en and label.cues_zh, label.id
        assert label.label and label.description, label.id
    assert "发誓" in events.get("vow").cues_zh
    assert "团圆" in events.get("reconciliation").cues_zh
    with pytest.raises(KeyError):
        events.get("duel")


def test_builtin_themes_have_the_four_identity_themes_with_enough_lines() -> None:
    themes = load_builtin("themes")
    assert themes.kind == "themes"
    assert themes.name == "identity_themes"
    assert themes.ids == ("self_other", "tradition_modernity", "home_belonging", "local_global") == THEME_IDS
    assert len(themes.neutral_en) >= 25 and len(themes.neutral_zh) >= 25
    for label in themes.labels:
        assert len(label.prototypes_en) >= 8 and len(label.prototypes_zh) >= 8, label.id
        assert label.cues_en and label.cues_zh, label.id


def test_event_ids_match_the_timeline_schema() -> None:
    schema = json.loads((ROOT / "pipeline/motiflens/schemas/timeline.schema.json").read_text(encoding="utf-8"))
    assert tuple(schema["$defs"]["event_type"]["enum"]) == EVENT_TYPE_IDS


@pytest.mark.parametrize("kind", ["events", "themes"])
def test_builtin_lines_are_short_dialogue_and_not_demo_lines(kind: str) -> None:
    definitions = load_builtin(kind)
    demo = {_normalise(line) for line in DEMO_LINES}
    prototypes_en = [line for label in definitions.labels for line in label.prototypes_en]
    prototypes_zh = [line for label in definitions.labels for line in label.prototypes_zh]
    for line in prototypes_en:
        assert 4 <= len(line.split()) <= 16, line
    for line in prototypes_zh:
        assert 5 <= len(re.sub(r"\W", "", line)) <= 20, line
    for line in prototypes_en + prototypes_zh + list(definitions.neutral_en) + list(definitions.neutral_zh):
        assert _normalise(line) not in demo, line


@pytest.mark.parametrize("kind", ["events", "themes"])
def test_no_neutral_line_contains_a_cue(kind: str) -> None:
    """A cue inside a negative line would make that line a hit by keyword, contradicting the calibration."""
    definitions = load_builtin(kind)
    for label in definitions.labels:
        for cue in label.cues_zh:
            assert not [line for line in definitions.neutral_zh if cue in line], (label.id, cue)
        for cue in label.cues_en:
            pattern = re.compile(rf"\b{re.escape(cue)}\w*\b")
            assert not [line for line in definitions.neutral_en if pattern.search(line.lower())], (label.id, cue)


# --- content hash --------------------------------------------------------------------------------------


def test_hash_is_stable_and_follows_the_lines(tmp_path: Path) -> None:
    first, second = load_builtin("events"), load_builtin("events")
    assert first.hash == second.hash
    assert re.fullmatch(r"[0-9a-f]{16}", first.hash)

    data = _events()
    data["types"][4]["prototypes"]["en"][0] = "I promise I will never let you down."
    changed = load_definitions(_write(tmp_path / "changed.yaml", data), "events")
    assert changed.get("vow").prototypes_en[0] == "I promise I will never let you down."
    assert changed.hash != first.hash

    # Only content counts: a copy elsewhere with another version string hashes the same.
    moved = load_definitions(_write(tmp_path / "moved.yaml", _events(version="2099.9")), "events")
    assert moved.version == "2099.9"
    assert moved.hash == first.hash


# --- validation errors ---------------------------------------------------------------------------------


def test_unknown_key_is_named(tmp_path: Path) -> None:
    data = _events()
    data["types"][2]["colour"] = "red"
    path = _write(tmp_path / "events.yaml", data)
    with pytest.raises(ConfigError, match=r"events\.yaml: types\.2\.colour: Extra inputs are not permitted"):
        load_definitions(path, "events")


def test_unknown_top_level_key_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "events.yaml", _events(weights={"vow": 2}))
    with pytest.raises(ConfigError, match=r"events\.yaml: weights: Extra inputs"):
        load_definitions(path, "events")


def test_missing_type_id_is_named(tmp_path: Path) -> None:
    data = _events()
    data["types"] = [entry for entry in data["types"] if entry["id"] != "betrayal"]
    path = _write(tmp_path / "events.yaml", data)
    with pytest.raises(ConfigError, match=r"types: missing ids: betrayal \(required:") as caught:
        load_definitions(path, "events")
    assert "unknown ids" not in str(caught.value)


def test_unknown_type_id_is_named(tmp_path: Path) -> None:
    data = _events()
    data["types"][9]["id"] = "duel"
    path = _write(tmp_path / "events.yaml", data)
    with pytest.raises(ConfigError, match=r"types: missing ids: loss; unknown ids: duel"):
        load_definitions(path, "events")


def test_duplicate_id_is_named(tmp_path: Path) -> None:
    data = _events()
    data["types"].append(copy.deepcopy(data["types"][0]))
    path = _write(tmp_path / "events.yaml", data)
    with pytest.raises(ConfigError, match=r"types\.10\.id: duplicate id 'confrontation'"):
        load_definitions(path, "events")


def test_too_few_prototypes_name_the_dotted_key(tmp_path: Path) -> None:
    data = _events()
    data["types"][3]["prototypes"]["en"] = data["types"][3]["prototypes"]["en"][:3]
    path = _write(tmp_path / "events.yaml", data)
    with pytest.raises(ConfigError, match=re.escape("events.yaml: types.3.prototypes.en: at least 4 lines required")):
        load_definitions(path, "events")


def test_too_few_neutral_lines(tmp_path: Path) -> None:
    data = _events()
    data["neutral"]["zh"] = data["neutral"]["zh"][:9]
    path = _write(tmp_path / "events.yaml", data)
    with pytest.raises(ConfigError, match=re.escape("neutral.zh: at least 10 lines required")):
        load_definitions(path, "events")


def test_one_character_zh_cue_is_rejected(tmp_path: Path) -> None:
    data = _events()
    data["types"][4]["cues"]["zh"].append("誓")
    path = _write(tmp_path / "events.yaml", data)
    with pytest.raises(ConfigError, match=r"types\.4\.cues\.zh\.\d+: Chinese cue '誓' must have at least 2"):
        load_definitions(path, "events")


def test_uppercase_en_cue_is_rejected(tmp_path: Path) -> None:
    data = _events()
    data["types"][4]["cues"]["en"][0] = "I Swear"
    path = _write(tmp_path / "events.yaml", data)
    with pytest.raises(ConfigError, match=r"types\.4\.cues\.en\.0: English cue 'I Swear' must be lowercase"):
        load_definitions(path, "events")


def test_blank_line_is_rejected_and_lines_are_stripped(tmp_path: Path) -> None:
    data = _events()
    data["types"][0]["prototypes"]["zh"][1] = "   "
    path = _write(tmp_path / "blank.yaml", data)
    with pytest.raises(ConfigError, match=r"types\.0\.prototypes\.zh\.1: line is empty"):
        load_definitions(path, "events")

    data = _events()
    data["types"][0]["prototypes"]["en"][1] = "  Get out of my house right now!  "
    data["types"][0]["cues"]["en"][0] = " how dare you "
    loaded = load_definitions(_write(tmp_path / "padded.yaml", data), "events")
    assert loaded.get("confrontation").prototypes_en[1] == "Get out of my house right now!"
    assert loaded.get("confrontation").cues_en[0] == "how dare you"
    assert loaded.hash == load_builtin("events").hash


def test_prototype_that_is_also_neutral_is_rejected(tmp_path: Path) -> None:
    data = _events()
    data["types"][6]["prototypes"]["en"][0] = data["neutral"]["en"][0]
    path = _write(tmp_path / "events.yaml", data)
    with pytest.raises(ConfigError, match=r"types\.6\.prototypes\.en: .* is also a neutral line"):
        load_definitions(path, "events")


def test_unquoted_numeric_version_is_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path / "events.yaml", _events(version=2026.1))
    with pytest.raises(ConfigError, match=r"version: Input should be a valid string"):
        load_definitions(path, "events")


def test_themes_file_is_not_an_events_file() -> None:
    with pytest.raises(
        ConfigError, match=r"themes\.yaml: has 'themes' instead of 'types': this is a themes file, not events"
    ):
        load_definitions(builtin_definitions_path("themes"), "events")


def test_themes_require_the_four_ids(tmp_path: Path) -> None:
    data = copy.deepcopy(_builtin_data("themes"))
    data["themes"] = data["themes"][:3]
    path = _write(tmp_path / "themes.yaml", data)
    with pytest.raises(ConfigError, match=r"themes: missing ids: local_global"):
        load_definitions(path, "themes")


@pytest.mark.parametrize("document", ["- a\n- b\n", "just a string\n", ""])
def test_non_mapping_yaml_is_rejected(tmp_path: Path, document: str) -> None:
    path = tmp_path / "events.yaml"
    path.write_text(document, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"events\.yaml: must be a mapping"):
        load_definitions(path, "events")


def test_invalid_yaml_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "events.yaml"
    path.write_text("version: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"events\.yaml: not valid YAML"):
        load_definitions(path, "events")


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "events.yaml"
    with pytest.raises(ConfigError, match=r"nowhere/events\.yaml: cannot read"):
        load_definitions(path, "events")
