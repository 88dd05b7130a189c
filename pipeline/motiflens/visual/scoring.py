"""Calibrated presence scores: each symbol against the background prompts, never a softmax over symbols.

For a unit image embedding x, symbol embedding s and background embeddings b_1..b_B, with the model's
logit scale t:

    presence(s | x) = sigmoid(t * x·s - logsumexp_j(t * x·b_j))

i.e. the probability that the symbol, rather than any ordinary scene, describes the tile. Symbols are
scored independently: a frame can hold several of them, or none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motiflens.visual.prompts import PromptBank


def _logsumexp(values: np.ndarray, axis: int) -> np.ndarray:
    peak = values.max(axis=axis, keepdims=True)
    return (peak + np.log(np.exp(values - peak).sum(axis=axis, keepdims=True))).squeeze(axis)


def sigmoid(values: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * values))  # stable for large |values|


def presence_scores(image_embeddings: np.ndarray, bank: PromptBank) -> np.ndarray:
    """(N, D) unit image embeddings → (N, S) presence scores in [0, 1]."""
    embeddings = image_embeddings.astype(np.float64)
    symbol_logits = bank.logit_scale * embeddings @ bank.symbols.astype(np.float64).T
    background_logits = bank.logit_scale * embeddings @ bank.background.astype(np.float64).T
    return sigmoid(symbol_logits - _logsumexp(background_logits, axis=1)[:, None])


@dataclass(frozen=True)
class PooledScores:
    """Per symbol: the best tile's score and which tile it was."""

    scores: np.ndarray
    tiles: np.ndarray


def pool_tiles(tile_scores: np.ndarray) -> PooledScores:
    """(T, S) tile scores → max over tiles per symbol, recording the winning tile (first on ties)."""
    winners = tile_scores.argmax(axis=0)
    return PooledScores(scores=tile_scores[winners, np.arange(tile_scores.shape[1])], tiles=winners)
