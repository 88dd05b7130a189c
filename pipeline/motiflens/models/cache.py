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

from motiflens.core.atomic import sha256_file
from motiflens.core.errors import ModelError

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


#: The weights of a sentence-transformers folder (a text model), in the order they are looked for.
SENTENCE_TRANSFORMERS_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tar.xz")


def sentence_transformers_weights(folder: Path) -> Path | None:
    """The weights file of a sentence-transformers model folder (modules.json beside the transformer),
    or None when `folder` is not one."""
    if not (folder / "modules.json").is_file():
        return None
    return next((folder / name for name in SENTENCE_TRANSFORMERS_WEIGHTS if (folder / name).is_file()), None)


def folder_weights(folder: Path) -> Path:
    """The main weights file of a model folder: a CTranslate2 export (model.bin) or a sentence-transformers
    folder (modules.json + model.safetensors or pytorch_model.bin)."""
    if (folder / "model.bin").is_file():
        return folder / "model.bin"
    weights = sentence_transformers_weights(folder)
    if weights is None:
        raise ModelError(
            f"{folder} is neither a CTranslate2 model folder (model.bin) nor a sentence-transformers folder "
            f"(modules.json with {' or '.join(SENTENCE_TRANSFORMERS_WEIGHTS)}); import one of those, or a file"
        )
    return weights


def is_archive(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def default_import_name(path: Path) -> str:
    """The cache name `models import PATH` uses without --name: a folder's name, an archive's name without
    its archive suffix (e5-base.tar.gz → e5-base), a file's name without its suffix."""
    if path.is_dir():
        return path.name
    lowered = path.name.lower()
    suffix = next((suffix for suffix in ARCHIVE_SUFFIXES if lowered.endswith(suffix)), None)
    return path.name[: -len(suffix)] if suffix else path.stem


def _unpack(archive: Path, into: Path) -> None:
    """Unpack a .zip/.tar* model folder into `into`; a single top-level folder is unwrapped."""
    unpacked = into / ".unpack"
    try:
        shutil.unpack_archive(archive, unpacked, filter="data")
    except (shutil.ReadError, ValueError, OSError) as exc:
        raise ModelError(f"cannot unpack {archive}: {exc}") from exc
    entries = [entry for entry in unpacked.iterdir() if not entry.name.startswith("__MACOSX")]
    root = entries[0] if len(entries) == 1 and entries[0].is_dir() else unpacked
    for entry in root.iterdir():
        if entry.name != MANIFEST:
            os.replace(entry, into / entry.name)
    shutil.rmtree(unpacked)


def import_model(path: Path, name: str, folder: Path, expected_sha256: str | None = None) -> ModelManifest:
    """Copy a model into `folder/name`, recording the sha256 of its weights: a model folder (a CTranslate2
    export with model.bin, or a sentence-transformers folder), a .zip/.tar(.gz) archive of one, or a single
    weights file."""
    if not _NAME.fullmatch(name):
        raise ModelError(f"model name {name!r} must be letters, digits, '.', '_' or '-' (it names a folder)")
    path = path.expanduser()
    target = folder / name
    with staging_folder(target) as temp:
        if path.is_dir():
            folder_weights(path)  # refuse an unknown folder before copying it
            shutil.copytree(path, temp, dirs_exist_ok=True, ignore=shutil.ignore_patterns(MANIFEST, ".*"))
            weights = folder_weights(temp)
        elif path.is_file() and is_archive(path):
            _unpack(path, temp)
            weights = folder_weights(temp)
        elif path.is_file():
            weights = temp / path.name
            shutil.copy2(path, weights)
        else:
            raise ModelError(f"cannot import {path}: no such file or folder")
        manifest = seal(temp, ModelManifest.describe(name, str(path.resolve()), "import", weights), expected_sha256)
    return manifest
