"""The package's layers (docs/ARCHITECTURE.md): a module imports its own package or the layers below it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import motiflens
import pytest

PACKAGE = Path(motiflens.__file__).parent
DOC = Path(__file__).resolve().parents[1] / "docs" / "ARCHITECTURE.md"

#: Bottom to top. Packages in one layer are peers and do not import each other.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"core"}),
    frozenset({"models"}),
    frozenset({"media"}),
    frozenset({"dialogue", "visual"}),
    frozenset({"story"}),
    frozenset({"stages"}),
    frozenset({"reports"}),
    frozenset({"run"}),
    frozenset({"cli"}),
)
RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}


def imported_modules(path: Path, package_root: Path) -> list[tuple[int, str]]:
    """Every `motiflens.*` module a file imports, lazily inside functions too, as absolute names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                package = path.relative_to(package_root.parent).parent.parts
                base = list(package[: len(package) - (node.level - 1)])
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return [(line, name) for line, name in found if name.split(".")[0] == "motiflens"]


def layer_violations(package_root: Path = PACKAGE) -> list[str]:
    problems = []
    for path in sorted(package_root.rglob("*.py")):
        parts = path.relative_to(package_root).parts
        if len(parts) == 1:
            if path.name != "__init__.py":
                problems.append(f"{path.name}: a module at the top level belongs to a layer's package")
            continue
        own = parts[0]
        if own not in RANK:
            problems.append(f"{'/'.join(parts)}: package {own!r} is in no layer (tests/test_architecture.py LAYERS)")
            continue
        for line, name in imported_modules(path, package_root):
            target = name.split(".")[1] if "." in name else None
            if target is None or target == own or target in {"__version__", "SCHEMA_VERSION"}:
                continue
            if target not in RANK:
                continue
            if RANK[target] >= RANK[own]:
                problems.append(f"{'/'.join(parts)}:{line} imports {name} ({own} may import only layers below it)")
    return problems


def test_every_import_points_down_the_layers() -> None:
    assert layer_violations() == []


def test_an_upward_import_is_caught(tmp_path: Path) -> None:
    fake = tmp_path / "motiflens"
    (fake / "core").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "core" / "__init__.py").write_text("")
    (fake / "core" / "config.py").write_text("from motiflens.run.runner import run_videos\n")
    (fake / "media").mkdir()
    (fake / "media" / "__init__.py").write_text("")
    (fake / "media" / "frames.py").write_text("def read():\n    from ..stages import base\n")
    problems = layer_violations(fake)
    assert problems == [
        "core/config.py:1 imports motiflens.run.runner (core may import only layers below it)",
        "media/frames.py:2 imports motiflens.stages (media may import only layers below it)",
    ]


@pytest.mark.parametrize("layer", sorted(RANK))
def test_every_layer_is_a_package_that_exists(layer: str) -> None:
    assert (PACKAGE / layer / "__init__.py").is_file()


def documented_layers(path: Path) -> tuple[frozenset[str], ...]:
    """The numbered list of the `## Layers` section: the backquoted `package/` names that open each item."""
    section = path.read_text(encoding="utf-8").split("\n## Layers\n", 1)[1].split("\n## ", 1)[0]
    layers = []
    for line in section.splitlines():
        item = re.match(r"\d+\.\s+((?:`\w+/`,?\s*)+)", line)
        if item:
            layers.append(frozenset(re.findall(r"`(\w+)/`", item.group(1))))
    return tuple(layers)


def test_architecture_doc_lists_the_layers() -> None:
    """docs/ARCHITECTURE.md names the same packages in the same layers, bottom to top, as LAYERS."""
    assert documented_layers(DOC) == LAYERS


def test_a_doc_that_drifts_from_the_layers_is_caught(tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    swapped = tmp_path / "ARCHITECTURE.md"
    swapped.write_text(text.replace("1. `core/`", "1. `core/`, `media/`", 1), encoding="utf-8")
    assert documented_layers(swapped) != LAYERS
