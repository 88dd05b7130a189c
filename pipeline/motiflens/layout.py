"""Screen geometry per video: padding bands, the burned-in subtitle band, and square model tiles.

CLIP-style models want squares. A 9:16 frame is never centre-cropped (that would drop ~44% of it):
the picture area is covered by overlapping squares along its long side, so the tile that scores
best also says where on screen a symbol is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .config import BandsConfig, TilesConfig
from .records import Band, Box, FrameLayout, SampledFrame, Tile

_SMOOTH_ROWS = 5
_TEXT_EDGE = 80  # grey-level jump that only outlined or high-contrast text makes this densely
_TEXT_ROW_DENSITY = 0.04
_DARK = 28.0


def square_tiles(content: Box, overlap: float, full_frame: bool = False) -> list[Box]:
    """Squares of side min(w, h) spread evenly along the long side, neighbours overlapping >= `overlap`.

    With `full_frame` the whole picture area is appended as a last, non-square tile (to be padded).
    """
    side = min(content.width, content.height)
    long_side = max(content.width, content.height)
    slack = long_side - side
    count = 1 if slack == 0 else 1 + math.ceil(slack / (side * (1.0 - overlap)))
    boxes = []
    for index in range(count):
        offset = 0 if count == 1 else round(index * slack / (count - 1))
        if content.width >= content.height:
            boxes.append(Box(content.x0 + offset, content.y0, content.x0 + offset + side, content.y1))
        else:
            boxes.append(Box(content.x0, content.y0 + offset, content.x1, content.y0 + offset + side))
    if full_frame and count > 1:
        boxes.append(content)
    return boxes


def _grey(frame: SampledFrame) -> np.ndarray:
    image = frame.image.astype(np.float32)
    return image @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _smooth(values: np.ndarray) -> np.ndarray:
    kernel = np.ones(_SMOOTH_ROWS, dtype=np.float32) / _SMOOTH_ROWS
    return np.convolve(np.pad(values, _SMOOTH_ROWS // 2, mode="edge"), kernel, mode="valid")


def _edge_run(flat: np.ndarray) -> int:
    """How many leading entries are True."""
    return int(np.argmin(flat)) if not flat.all() else len(flat)


def find_padding_bands(greys: Sequence[np.ndarray], config: BandsConfig) -> list[tuple[str, int, int, float]]:
    """Top/bottom rows with almost no detail in nearly every frame: black bars or blurred padding.

    Returns (kind, top, bottom, confidence) in working-frame rows.
    """
    stack = np.stack(greys)
    height = stack.shape[1]
    detail = np.abs(np.diff(stack, axis=2)).mean(axis=2)  # frames x rows
    # A row is padding only if it is flat in (almost) every frame: the 90th percentile guards that.
    row_detail = np.percentile(detail, 90, axis=0)
    centre = row_detail[int(height * 0.3) : int(height * 0.7)]
    reference = float(np.median(centre)) if centre.size else 0.0
    if reference <= 1e-6:
        return []
    flat = row_detail < config.flat_ratio * reference
    bands = []
    min_rows = max(1, int(config.min_band_fraction * height))
    top_rows = _edge_run(flat)
    bottom_rows = _edge_run(flat[::-1])
    for top, bottom in ((0, top_rows), (height - bottom_rows, height)):
        if bottom - top < min_rows or bottom - top >= height // 2:
            continue
        brightness = float(stack[:, top:bottom].mean())
        kind = "letterbox" if brightness < _DARK else "blur_pad"
        confidence = 1.0 - float(row_detail[top:bottom].mean()) / (config.flat_ratio * reference)
        bands.append((kind, top, bottom, max(0.0, min(1.0, confidence))))
    return bands


def find_subtitle_band(
    greys: Sequence[np.ndarray], top_limit: int, bottom_limit: int, config: BandsConfig
) -> tuple[int, int, float] | None:
    """The rows in the lower picture where dense, high-contrast text keeps appearing.

    Burned-in subtitles sit at a fixed height and change from line to line; in each frame a text row
    has many sharp grey-level jumps. Rows that are text in enough frames form the band; rows a few
    pixels apart are merged so a two-line (zh + en) subtitle is one band.
    """
    height = greys[0].shape[0]
    start = max(top_limit, int(height * config.subtitle_search_top))
    if bottom_limit - start < 4:
        return None
    text_rows = []
    for grey in greys:
        jumps = np.abs(np.diff(grey[start:bottom_limit], axis=1)) > _TEXT_EDGE
        text_rows.append(_smooth(jumps.mean(axis=1)) > _TEXT_ROW_DENSITY)
    presence = np.mean(text_rows, axis=0)
    hits = np.flatnonzero(presence >= config.subtitle_min_presence)
    if hits.size == 0:
        return None
    gap = max(2, int(0.02 * height))
    runs: list[list[int]] = [[int(hits[0]), int(hits[0])]]
    for row in hits[1:]:
        if row - runs[-1][1] <= gap:
            runs[-1][1] = int(row)
        else:
            runs.append([int(row), int(row)])
    best = max(runs, key=lambda run: float(presence[run[0] : run[1] + 1].sum()))
    top, bottom = best[0], best[1] + 1
    if not (0.015 * height <= bottom - top <= 0.25 * height):
        return None
    confidence = float(presence[top:bottom].mean())
    pad = max(1, int(0.01 * height))
    return max(start, start + top - pad), min(bottom_limit, start + bottom + pad), confidence


def analyse_layout(
    frames: Sequence[SampledFrame],
    width: int,
    height: int,
    bands_config: BandsConfig,
    tiles_config: TilesConfig,
) -> FrameLayout:
    """Bands and tiles for a video of displayed size `width` x `height`, from a few sampled frames."""
    greys = [_grey(frame) for frame in frames]
    scale = frames[0].scale if frames else 1.0
    working_height = greys[0].shape[0] if greys else height

    def to_full(row: int) -> int:
        return min(height, max(0, round(row / scale)))

    bands: list[Band] = []
    content_top, content_bottom = 0, working_height
    if greys and bands_config.detect_letterbox:
        for kind, top, bottom, confidence in find_padding_bands(greys, bands_config):
            bands.append(Band(kind=kind, top=to_full(top), bottom=to_full(bottom), confidence=confidence))  # type: ignore[arg-type]
            if top == 0:
                content_top = bottom
            else:
                content_bottom = top
    if greys and bands_config.detect_subtitles:
        found = find_subtitle_band(greys, content_top, content_bottom, bands_config)
        if found is not None:
            top, bottom, confidence = found
            bands.append(Band(kind="subtitle", top=to_full(top), bottom=to_full(bottom), confidence=confidence))
    content = Box(0, to_full(content_top), width, max(to_full(content_top) + 1, to_full(content_bottom)))
    if content_bottom == working_height:
        content = Box(0, content.y0, width, height)
    tiles = square_tiles(content, tiles_config.overlap, tiles_config.full_frame)
    return FrameLayout(
        width=width,
        height=height,
        content=content,
        bands=tuple(sorted(bands, key=lambda band: band.top)),
        tiles=tuple(Tile(index=i, box=box) for i, box in enumerate(tiles)),
    )
