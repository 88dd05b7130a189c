"""Prompt ensembles: one unit text embedding per symbol, plus the background prompts, cached on disk."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from motiflens.core.atomic import atomic_path
from motiflens.core.log import get_logger
from motiflens.core.taxonomy import Taxonomy
from motiflens.models.cards import cache_dir

log = get_logger("visual")

#: Bump when the way embeddings are built changes, so old cache files are not reused.
_ENSEMBLE_VERSION = "mean-of-unit-v1"


class TextEncoder(Protocol):
    @property
    def numerics(self) -> str: ...

    def encode_texts(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class PromptBank:
    """Unit vectors: `symbols` (S, D) in `symbol_ids` order, `background` (B, D); the model's logit scale."""

    symbol_ids: tuple[str, ...]
    symbols: np.ndarray
    background: np.ndarray
    logit_scale: float


def ensemble(embeddings: np.ndarray) -> np.ndarray:
    """Average unit prompt embeddings and re-normalise: one direction per symbol (CLIP's prompt ensembling)."""
    mean = embeddings.mean(axis=0)
    return mean / np.linalg.norm(mean)


def cache_key(model_id: str, weights_key: str, numerics: str, taxonomy: Taxonomy) -> str:
    text = "|".join((model_id, weights_key, numerics, taxonomy.prompt_hash, _ENSEMBLE_VERSION))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _cache_path(key: str) -> Path:
    return cache_dir() / "text-embeddings" / f"{key}.npz"


def _load(path: Path, taxonomy: Taxonomy) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as stored:
            ids = [str(value) for value in stored["symbol_ids"]]
            symbols, background = stored["symbols"], stored["background"]
    except (OSError, KeyError, ValueError) as exc:
        log.warning("ignoring unreadable text embedding cache %s: %s", path, exc)
        return None
    row = {symbol_id: index for index, symbol_id in enumerate(ids)}
    if set(row) != set(taxonomy.ids) or len(background) != len(taxonomy.background_prompts):
        return None
    return symbols[[row[symbol_id] for symbol_id in taxonomy.ids]], background


def _save(path: Path, taxonomy: Taxonomy, symbols: np.ndarray, background: np.ndarray) -> None:
    with atomic_path(path) as temp, temp.open("wb") as handle:
        np.savez(handle, symbol_ids=np.array(taxonomy.ids), symbols=symbols, background=background)


def encode_prompts(encoder: TextEncoder, taxonomy: Taxonomy) -> tuple[np.ndarray, np.ndarray]:
    prompts = [prompt for symbol in taxonomy.symbols for prompt in symbol.visual_prompts]
    encoded = encoder.encode_texts(prompts + list(taxonomy.background_prompts))
    symbols, start = [], 0
    for symbol in taxonomy.symbols:
        count = len(symbol.visual_prompts)
        symbols.append(ensemble(encoded[start : start + count]))
        start += count
    return np.stack(symbols).astype(np.float32), encoded[start:].astype(np.float32)


def build_prompt_bank(
    encoder: TextEncoder, taxonomy: Taxonomy, model_id: str, weights_key: str, logit_scale: float, use_cache: bool
) -> PromptBank:
    path = _cache_path(cache_key(model_id, weights_key, encoder.numerics, taxonomy))
    cached = _load(path, taxonomy) if use_cache and path.is_file() else None
    if cached is None:
        cached = encode_prompts(encoder, taxonomy)
        if use_cache:
            _save(path, taxonomy, *cached)
    symbols, background = cached
    return PromptBank(tuple(taxonomy.ids), symbols, background, logit_scale)
