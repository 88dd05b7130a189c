"""One YAML reader (core/yamlfile.py): the safe loader, and every failure a MotifLens error that names the file.
Configs, taxonomies, event/theme definitions, dev sets and model cards all go through it."""

from __future__ import annotations

import ast
from pathlib import Path

import motiflens
import pytest
from motiflens.core.config import load_config, parse_override
from motiflens.core.errors import ConfigError, ModelError
from motiflens.core.taxonomy import load_taxonomy
from motiflens.core.yamlfile import parse_yaml, read_yaml, read_yaml_mapping
from motiflens.models.cards import load_model_cards
from motiflens.story.definitions import load_definitions
from motiflens.story.devset import load_event_lines

PACKAGE = Path(motiflens.__file__).parent


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_a_mapping_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", "version: 1\nnames: [a, b]\n")
    assert read_yaml_mapping(path, "thing") == {"version": 1, "names": ["a", "b"]}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, r"^thing: cannot read: "),
        (b"name: \xff\xfe\n", r"^thing: not UTF-8 text: "),
        ("names: [a, b\n", r"^thing: not valid YAML: "),
        ("seed: !!python/object/apply:os.system ['echo pwned']\n", r"^thing: not valid YAML: "),
        ("- a\n- b\n", r"^thing: must be a mapping of parts, got list$"),
        ("", r"^thing: must be a mapping of parts, got an empty file$"),
    ],
)
def test_every_failure_is_the_callers_error_naming_the_file(tmp_path: Path, content: str | bytes | None,
                                                            message: str) -> None:
    path = tmp_path / "a.yaml" if content is None else write(tmp_path / "a.yaml", content)
    with pytest.raises(ConfigError, match=message):
        read_yaml_mapping(path, "thing", shape="a mapping of parts")
    with pytest.raises(ModelError, match=message.split(":")[0]):
        read_yaml_mapping(path, "thing", shape="a mapping of parts", error=ModelError)


def test_an_empty_file_may_be_an_empty_mapping(tmp_path: Path) -> None:
    path = write(tmp_path / "empty.yaml", "# nothing yet\n")
    assert read_yaml_mapping(path, "thing", empty_ok=True) == {}
    assert read_yaml(path, "thing") is None


def test_text_is_parsed_with_the_safe_loader() -> None:
    assert parse_yaml("[1, 2.5, x]", "value") == [1, 2.5, "x"]
    with pytest.raises(ConfigError, match="value: not valid YAML"):
        parse_yaml("!!python/name:os.system", "value")


def test_every_reader_reports_through_it(tmp_path: Path) -> None:
    broken = "version: [1\n"
    with pytest.raises(ConfigError, match=r"config .*broken\.yaml: not valid YAML"):
        load_config(write(tmp_path / "broken.yaml", broken))
    with pytest.raises(ConfigError, match=r"--set seed: value '\[1': not valid YAML"):
        parse_override("seed=[1")
    with pytest.raises(ConfigError, match=r"taxonomy .*tax\.yaml: not valid YAML"):
        load_taxonomy([write(tmp_path / "tax.yaml", broken)])
    with pytest.raises(ConfigError, match=r"events\.yaml: not valid YAML"):
        load_definitions(write(tmp_path / "events.yaml", broken), "events")
    with pytest.raises(ConfigError, match=r"dev set .*lines\.yaml: not valid YAML"):
        load_event_lines(write(tmp_path / "lines.yaml", broken))
    write(tmp_path / "cards" / "bad.yaml", broken)
    with pytest.raises(ModelError, match=r"invalid model card bad\.yaml: not valid YAML"):
        load_model_cards(tmp_path / "cards")


def test_no_other_module_loads_yaml() -> None:
    """yaml.safe_load (or any yaml.load*) appears only in core/yamlfile.py."""
    callers = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "yaml"
                    and node.attr.startswith(("load", "safe_load", "full_load", "unsafe_load"))):
                callers.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert callers, "core/yamlfile.py no longer loads YAML?"
    assert [caller for caller in callers if not caller.startswith("core/yamlfile.py:")] == []
