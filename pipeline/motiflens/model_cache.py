"""The weight cache under `models.cache_dir()`: one folder per model name, installed atomically,
with a manifest that records where the weights came from and the sha256 of the main file.

A folder appears under its final name only once it is complete and verified (built in a temp folder
beside it, then renamed), so a killed join, download or import never leaves a half-written model.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from .atomic import sha256_file
from .errors import ModelError

MANIFEST = "motiflens-model.json"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")




@dataclass(frozen=True)
class ModelManifest:
    """What a cache folder holds: `file` is the weights file whose sha256 is recorded."""

    name: str
    id: str
    source: str
    file: str
    sha256: str
    size_bytes: int

    @classmethod
    def read(cls, folder: Path) -> ModelManifest | None:
        try:
            data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None

    @classmethod
    def describe(cls, name: str, model_id: str, source: str, weights: Path, digest: str | None = None) -> ModelManifest:
        """The manifest of a weights file, hashing it unless the caller already has the digest."""
        return cls(name, model_id, source, weights.name, digest or sha256_file(weights), weights.stat().st_size)

    def write(self, folder: Path) -> None:
        (folder / MANIFEST).write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")

    def intact(self, folder: Path) -> bool:
        """Cheap check on every use (the full hash was checked when the folder was installed)."""
        weights = folder / self.file
        return weights.is_file() and weights.stat().st_size == self.size_bytes


def seal(
    folder: Path, manifest: ModelManifest, expected_sha256: str | None, origin: str | None = None
) -> ModelManifest:
    """Refuse weights whose sha256 is not the pinned one, then record the manifest in their folder."""
    check_sha256(manifest.name, manifest.sha256, expected_sha256, origin or manifest.id)
    manifest.write(folder)
    return manifest


def check_sha256(name: str, actual: str, expected: str | None, origin: str) -> None:
    if expected is not None and actual != expected:
        raise ModelError(
            f"model {name!r} from {origin} has sha256 {actual}, but its card pins {expected}; "
            "the file is corrupt or not the expected model (reinstall the packages, or re-import the weights)"
        )


@contextlib.contextmanager
def staging_folder(target: Path) -> Iterator[Path]:
    """A temp folder beside `target` that replaces it only if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    temp.chmod(0o755)  # mkdtemp makes it private; a cache is often shared by a group on a cluster
    try:
        yield temp
        if target.exists():  # re-import: move the old folder away first, then drop it
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
            os.replace(target, old / target.name)
            os.replace(temp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(temp, target)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def import_model(path: Path, name: str, folder: Path, expected_sha256: str | None = None) -> ModelManifest:
    """Copy a model folder (a CTranslate2 export: model.bin beside its config) or a single weights
    file into `folder/name`, recording the weights' sha256."""
    if not _NAME.fullmatch(name):
        raise ModelError(f"model name {name!r} must be letters, digits, '.', '_' or '-' (it names a folder)")
    path = path.expanduser()
    target = folder / name
    with staging_folder(target) as temp:
        if path.is_dir():
            weights = path / "model.bin"
            if not weights.is_file():
                raise ModelError(f"{path} is a folder without model.bin; import a CTranslate2 model folder or a file")
            shutil.copytree(path, temp, dirs_exist_ok=True, ignore=shutil.ignore_patterns(MANIFEST, ".*"))
            file = "model.bin"
        elif path.is_file():
            file = path.name
            shutil.copy2(path, temp / file)
        else:
            raise ModelError(f"cannot import {path}: no such file or folder")
        manifest = seal(temp, ModelManifest.describe(name, str(path.resolve()), "import", temp / file), expected_sha256)
    return manifest
