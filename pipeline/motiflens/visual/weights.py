"""Where a visual model's weights come from: a local file, then the model cache, then the hub when allowed.

The cache folder of a card is `models.cache_dir() / <card name>`, holding one weights file and the
manifest `motiflens-model.json` (model_cache.py) that records its sha256, like every other model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from motiflens.core.errors import ConfigError, ModelError
from motiflens.models.cache import ModelManifest, check_sha256, sha256_file
from motiflens.models.cards import ModelCard, cache_dir, load_model_cards
from motiflens.models.pull import HubFile, fetch_hub_file

#: The one card with random weights. Tests use it; the CLI refuses it unless this variable is set.
TEST_MODEL = "test"
ALLOW_TEST_MODELS_ENV = "MOTIFLENS_ALLOW_TEST_MODELS"
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")

Origin = Literal["local", "cache", "hub", "random"]


class MissingWeights(ModelError):
    """No weights file for a model that needs one; `visual.on_missing_weights` decides what happens."""


@dataclass(frozen=True)
class VisualWeights:
    """A resolved visual model: its card, its open_clip architecture and tag, and the file (None: random)."""

    card: ModelCard
    architecture: str
    tag: str | None
    path: Path | None
    sha256: str | None
    origin: Origin
    seed: int = 0

    @property
    def random(self) -> bool:
        return self.path is None

    @property
    def key(self) -> str:
        """What the weights' numbers depend on, for caches keyed by them."""
        return f"random-init-seed-{self.seed}" if self.random else str(self.sha256)

    def to_json(self) -> dict[str, Any]:
        """The run.json / timeline.json entry: names the weights, and says plainly when they are random."""
        if self.random:
            return {
                "id": f"{self.architecture} (random init, seed {self.seed}; test model, not a detector)",
                "sha256": None,
                "card": self.card.name,
                "weights": "random",
            }
        return {"id": self.card.id, "sha256": self.sha256, "card": self.card.name, "weights": self.origin}


def visual_cards() -> dict[str, ModelCard]:
    return {card.name: card for card in load_model_cards() if card.role == "visual"}


def split_id(card: ModelCard) -> tuple[str, str | None]:
    """`ViT-B-32/laion2b_s34b_b79k` → ("ViT-B-32", "laion2b_s34b_b79k"); no tag means random init."""
    architecture, _, tag = card.id.partition("/")
    return architecture, tag or None


def cache_hint(card: ModelCard) -> Path:
    return cache_dir() / card.name


def _fixes(card: ModelCard) -> str:
    architecture, tag = split_id(card)
    return (
        "three ways to fix this: (1) set visual.weights to a local weights file "
        f"(open_clip {architecture} {tag}, e.g. {card.file or 'open_clip_model.safetensors'}); (2) put that file in "
        f"the model cache: `motiflens models import FILE --name {card.name}` (it lands in {cache_hint(card)}/); "
        "(3) fetch it from the Hugging Face hub: `motiflens models pull`, or a run with visual.allow_download: true "
        "(the default) on a machine that reaches the hub, without HF_HUB_OFFLINE=1"
    )


class WeightsResolver:
    """Resolves a card to a weights file in order: local path → cache → hub (if allowed) → MissingWeights."""

    def __init__(self, local: Path | None, allow_download: bool, seed: int = 0) -> None:
        self.local = local
        self.allow_download = allow_download
        self.seed = seed

    def resolve(self, name: str) -> VisualWeights:
        cards = visual_cards()
        if name not in cards:
            known = ", ".join(sorted(cards))
            raise ConfigError(f"visual.model: unknown model {name!r}; visual models in models/: {known}")
        card = cards[name]
        if card.source != "open_clip":
            raise ConfigError(f"visual.model {name!r}: source {card.source!r} is not supported (open_clip only)")
        architecture, tag = split_id(card)
        if tag is None:
            return self._random(card, architecture)
        if self.local is not None:
            return self._local(card, architecture, tag, self.local.expanduser())
        folder = cache_hint(card)
        manifest = self._cached(card, folder)
        origin: Origin = "cache"
        if manifest is None:
            if not self.allow_download:
                raise MissingWeights(f"weights for visual model {card.name!r} are not in the cache; {_fixes(card)}")
            manifest = self._download(card, folder)
            origin = "hub"
        check_sha256(card.name, manifest.sha256, card.sha256, f"the model cache {folder}")
        return VisualWeights(card, architecture, tag, folder / manifest.file, manifest.sha256, origin, self.seed)

    def _random(self, card: ModelCard, architecture: str) -> VisualWeights:
        if card.name != TEST_MODEL:
            raise ConfigError(f"visual model card {card.name!r} has no pretrained tag in its id {card.id!r}")
        if os.environ.get(ALLOW_TEST_MODELS_ENV) != "1":
            raise ConfigError(
                f"visual.model {TEST_MODEL!r} has random weights and exists for the test suite only; "
                f"its output is not a detection. Use a real model (e.g. clip-vit-b-32), or set "
                f"{ALLOW_TEST_MODELS_ENV}=1 if you are running the tests"
            )
        return VisualWeights(card, architecture, None, None, None, "random", self.seed)

    def _local(self, card: ModelCard, architecture: str, tag: str, path: Path) -> VisualWeights:
        if not path.is_file():
            raise MissingWeights(f"visual.weights {path} is not a file; {_fixes(card)}")
        if path.suffix not in _WEIGHT_SUFFIXES:
            raise ModelError(f"visual.weights {path}: expected one of {', '.join(_WEIGHT_SUFFIXES)}")
        digest = sha256_file(path)
        check_sha256(card.name, digest, card.sha256, str(path))
        return VisualWeights(card, architecture, tag, path.resolve(), digest, "local", self.seed)

    @staticmethod
    def _cached(card: ModelCard, folder: Path) -> ModelManifest | None:
        manifest = ModelManifest.read(folder)
        if manifest is not None and manifest.intact(folder):
            return manifest
        # A file copied in by hand (fix 2): hash it once and record it like an import.
        files = sorted(p for p in folder.glob("*") if p.is_file() and p.suffix in _WEIGHT_SUFFIXES)
        if not files:
            return None
        manifest = ModelManifest.describe(card.name, card.id, "copied", files[0])
        manifest.write(folder)
        return manifest

    @staticmethod
    def _download(card: ModelCard, folder: Path) -> ModelManifest:
        try:
            return fetch_hub_file(card, hub_file(card), folder, _fixes(card))
        except MissingWeights:
            raise
        except ModelError as exc:  # offline, unreachable or refused: the run treats it as missing weights
            raise MissingWeights(str(exc)) from exc


def hub_file(card: ModelCard) -> HubFile:
    """The hub repo and file open_clip downloads for the card's tag (its pretrained config says which), with
    the safetensors copy first as open_clip takes it; a card that pins a `file` gets exactly that one."""
    from open_clip.constants import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME
    from open_clip.pretrained import get_pretrained_cfg

    architecture, tag = split_id(card)
    pretrained = get_pretrained_cfg(architecture, tag) if tag else {}
    if not pretrained.get("hf_hub"):
        raise ModelError(f"open_clip knows no hub weights for {card.id!r} (card {card.name})")
    # 'org/repo/' names the default file, 'org/repo/file.bin' another one (open_clip's convention)
    repo, filename = os.path.split(str(pretrained["hf_hub"]))
    if card.file:
        names: tuple[str, ...] = (card.file,)
    elif not filename or filename == HF_WEIGHTS_NAME:
        names = (HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME)
    elif filename.endswith((".bin", ".pth")):
        names = (filename[:-4] + ".safetensors", filename)
    else:
        names = (filename,)
    return HubFile(repo, names, card.revision)


def open_clip_preprocessing(weights: VisualWeights) -> dict[str, Any]:
    """Keyword arguments for open_clip.create_model_and_transforms: the tag's preprocessing (no download)
    with the card's overrides, so a local file is preprocessed exactly as the hub tag would be."""
    from open_clip.pretrained import get_pretrained_cfg

    tag_cfg = get_pretrained_cfg(weights.architecture, weights.tag) if weights.tag else {}
    card = weights.card.preprocessing
    options: dict[str, Any] = {}
    mean = card.get("mean", tag_cfg.get("mean"))
    std = card.get("std", tag_cfg.get("std"))
    if mean is not None:
        options["image_mean"] = tuple(mean)
    if std is not None:
        options["image_std"] = tuple(std)
    for key, option in (("interpolation", "image_interpolation"), ("resize_mode", "image_resize_mode")):
        value = card.get(key, tag_cfg.get(key))
        if value is not None:
            options[option] = value
    if tag_cfg.get("quick_gelu"):
        options["force_quick_gelu"] = True
    return options
