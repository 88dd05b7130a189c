"""Frames → per-tile embeddings and presence scores, batched across frames, with near-duplicates reused.

Decoding, masking, cropping and open_clip's preprocessing run in a background thread a few frames ahead
(they release the GIL); the model runs on batches of `batch_size` tiles in the calling thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from motiflens.core.records import SampledFrame
from motiflens.media.prefetch import prefetch
from motiflens.visual.backend import OpenClipBackend
from motiflens.visual.dedup import Deduplicator
from motiflens.visual.prompts import PromptBank
from motiflens.visual.scoring import PooledScores, pool_tiles, presence_scores
from motiflens.visual.tiles import TileCropper

if TYPE_CHECKING:
    import torch

@dataclass
class _Prepared:
    index: int
    time_seconds: float
    pixels: torch.Tensor | None = None
    source: _Prepared | None = None  # set for a near-duplicate: the frame whose encoding it reuses
    embeddings: np.ndarray | None = None
    scores: np.ndarray | None = None


@dataclass(frozen=True)
class ScoredFrame:
    index: int
    time_seconds: float
    tile_embeddings: np.ndarray  # (tiles, dim), unit vectors
    tile_scores: np.ndarray  # (tiles, symbols)
    pooled: PooledScores
    duplicate: bool


@dataclass
class ScoringStats:
    frames: int = 0
    frames_encoded: int = 0
    duplicate_frames: int = 0
    tiles_encoded: int = 0
    encodings_saved: int = 0  # tiles not encoded thanks to near-duplicate detection

    def to_json(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class FrameScorer:
    backend: OpenClipBackend
    bank: PromptBank
    batch_size: int
    dedup_threshold: float | None = None
    prefetch_depth: int = 8
    stats: ScoringStats = field(default_factory=ScoringStats)

    def score(self, frames: Iterable[SampledFrame], cropper: TileCropper) -> Iterator[ScoredFrame]:
        """Scored frames in input order; `stats` adds up over calls (reset it per video if wanted)."""
        pending: list[_Prepared] = []
        tiles = 0
        for prepared in prefetch(self._prepare(frames, cropper), self.prefetch_depth):
            pending.append(prepared)
            tiles += 0 if prepared.pixels is None else len(prepared.pixels)
            if tiles >= self.batch_size:
                yield from self._flush(pending)
                pending, tiles = [], 0
        yield from self._flush(pending)

    def _prepare(self, frames: Iterable[SampledFrame], cropper: TileCropper) -> Iterator[_Prepared]:
        import torch

        dedup = Deduplicator(self.dedup_threshold) if self.dedup_threshold else None
        last: _Prepared | None = None
        for frame in frames:
            masked = cropper.masked(frame)
            if dedup is not None and dedup.is_duplicate(masked.image) and last is not None:
                yield _Prepared(frame.index, frame.time_seconds, source=last)
                continue
            pixels = torch.stack([self.backend.preprocess(crop) for crop in cropper.crops(masked)])
            last = _Prepared(frame.index, frame.time_seconds, pixels=pixels)
            yield last

    def _encode(self, pixels: torch.Tensor) -> np.ndarray:
        return np.concatenate(
            [self.backend.encode_images(pixels[start : start + self.batch_size])
             for start in range(0, len(pixels), self.batch_size)]
        )

    def _flush(self, pending: list[_Prepared]) -> Iterator[ScoredFrame]:
        import torch

        encoded = [item for item in pending if item.source is None]
        if encoded:
            embeddings = self._encode(torch.cat([item.pixels for item in encoded if item.pixels is not None]))
            start = 0
            for item in encoded:
                count = len(item.pixels) if item.pixels is not None else 0
                item.embeddings = embeddings[start : start + count]
                item.scores = presence_scores(item.embeddings, self.bank)
                item.pixels = None  # duplicates keep a reference to this item; the pixels are no longer needed
                start += count
        for item in pending:
            duplicate = item.source is not None
            owner = item.source if item.source is not None else item
            if owner.embeddings is None or owner.scores is None:
                raise RuntimeError("a duplicate frame arrived before the frame it repeats was encoded")
            self.stats.frames += 1
            if duplicate:
                self.stats.duplicate_frames += 1
                self.stats.encodings_saved += len(owner.embeddings)
            else:
                self.stats.frames_encoded += 1
                self.stats.tiles_encoded += len(owner.embeddings)
            yield ScoredFrame(
                index=item.index,
                time_seconds=item.time_seconds,
                tile_embeddings=owner.embeddings,
                tile_scores=owner.scores,
                pooled=pool_tiles(owner.scores),
                duplicate=duplicate,
            )
