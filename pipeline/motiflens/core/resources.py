"""Where the project's data folders are: the packaged copy inside a wheel, else the source tree."""

from __future__ import annotations

from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
#: The checkout this package runs from (pyproject.toml, models/, configs/, data/), when it is one.
SOURCE_TREE = PACKAGE_ROOT.parents[1]


def project_resource(name: str) -> Path:
    """A top-level project folder (models/, configs/): packaged copy in a wheel, else the source tree."""
    packaged = PACKAGE_ROOT / "resources" / name
    return packaged if packaged.is_dir() else SOURCE_TREE / name
