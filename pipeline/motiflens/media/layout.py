"""Screen geometry per video: padding bands, the burned-in subtitle bands, and square model tiles.

CLIP-style models want squares. A 9:16 frame is never centre-cropped (that would drop ~44% of it):
the picture area is covered by overlapping squares along its long side, so the tile that scores
best also says where on screen a symbol is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from motiflens.core.config import BandsConfig, TilesConfig
from motiflens.core.records import Band, Box, FrameLayout, SampledFrame, Tile

_SMOOTH_ROWS = 5
_TEXT_EDGE = 80  # grey-level jump that only outlined or high-contrast text makes this densely
# Share of a tenth of the width with such jumps: ~0.3 across outlined glyphs, under 0.2 in nearly all scenery
_TEXT_WINDOW_DENSITY = 0.2
_ROW_GAP = 0.03  # share of the picture height
_MAX_BAND = 0.25  # share of the picture height: three or four rows of subtitles at most
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


def text_row_masks(greys: Sequence[np.ndarray], top: int, bottom: int) -> np.ndarray:
    """Frames x rows: whether row `top + i` of a frame crosses text. Outlined glyphs make sharp grey-level
    jumps densely along a row; the density is taken in the densest tenth of the width, so a short row (the
    last word of a wrapped line, a two-character cue) counts as much as a full one."""
    masks = []
    for grey in greys:
        jumps = (np.abs(np.diff(grey[top:bottom], axis=1)) > _TEXT_EDGE).astype(np.float32)
        window = max(8, jumps.shape[1] // 10)
        sums = np.cumsum(np.pad(jumps, ((0, 0), (1, 0))), axis=1)
        densest = (sums[:, window:] - sums[:, :-window]).max(axis=1, initial=0) / window
        masks.append(_smooth(densest) > _TEXT_WINDOW_DENSITY)
    return np.array(masks, dtype=bool).reshape(len(greys), max(0, bottom - top))


def runs(rows: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """[top, bottom) runs of sorted row indices; rows at most `gap` apart are one run (the space between the
    rows of one cue, or between a glyph's strokes)."""
    found: list[list[int]] = []
    for row in rows.tolist():
        if found and row - found[-1][1] <= gap:
            found[-1][1] = row
        else:
            found.append([row, row])
    return [(top, bottom + 1) for top, bottom in found]


def grow_band(masks: np.ndarray, core: tuple[int, int], gap: int, min_frames: int, max_rows: int) -> tuple[int, int]:
    """The core rows plus the text rows stacked onto them whenever a cue shows more rows (a wrapped line, a
    Chinese row over the English one): a row joins when, in at least `min_frames` frames, it is text in one
    run with at least half of the core, which a cue is and scenery beside the band rarely is. A run taller
    than a band may be (`max_rows`) is texture around the text, not more rows of it."""
    top, bottom = core
    support = np.zeros(masks.shape[1], dtype=int)
    for mask in masks:
        for run_top, run_bottom in runs(np.flatnonzero(mask), gap):
            if run_bottom - run_top <= max_rows and min(bottom, run_bottom) - max(top, run_top) >= (bottom - top) / 2:
                support[run_top:run_bottom] += 1
    joined = np.flatnonzero(support >= min_frames)
    if joined.size == 0:
        return core
    return min(top, int(joined[0])), max(bottom, int(joined[-1]) + 1)


def text_changes(edges: list[np.ndarray]) -> bool:
    """Whether the text in a band changes: at least a tenth of the frame pairs share under half of their
    sharp edges. A fixed title or channel name keeps its glyph edges in every frame; subtitles change."""
    pairs = [(a, b) for i, a in enumerate(edges) for b in edges[i + 1 :]]
    if not pairs:
        return False
    differing = sum(1 for a, b in pairs if (a & b).sum() < 0.5 * max(1, (a | b).sum()))
    return differing >= 0.1 * len(pairs)


def find_text_band(
    greys: Sequence[np.ndarray], start: int, stop: int, config: BandsConfig
) -> tuple[int, int, float] | None:
    """The rows between `start` and `stop` where dense, high-contrast text keeps appearing.

    Burned-in subtitles sit at a fixed height and change from cue to cue. Rows that are text in at least
    `subtitle_min_presence` of the frames are the core (rows a few pixels apart merge, so a Chinese row
    over an English row is one core); rows that join the core's text only in some frames (a cue wrapped
    onto more rows) are added by `grow_band`. Returns (top, bottom, confidence) in working-frame rows.
    """
    height = greys[0].shape[0]
    if stop - start < 4:
        return None
    masks = text_row_masks(greys, start, stop)
    presence = masks.mean(axis=0)
    # Between the glyph rows of one cue lie at most about a row's height of ascenders, descenders and
    # leading; subtitle rows are ~3 % of the picture height.
    gap = max(2, int(_ROW_GAP * height))
    # Texture in a few shots (foliage, patterned cloth) can pass for text in a share of the frames; the
    # subtitle rows are the ones that show text far more often.
    steady = max(config.subtitle_min_presence, 0.5 * float(presence.max(initial=0)))
    cores = runs(np.flatnonzero(presence >= steady), gap)
    if not cores:
        return None
    core = max(cores, key=lambda run: float(presence[run[0] : run[1]].sum()))
    if core[0] <= gap and core[1] >= stop - start - gap:
        return None  # "text" from end to end of the rows searched is texture (foliage, noise), not lines
    max_rows = int(_MAX_BAND * height)
    top, bottom = grow_band(masks, core, gap, config.subtitle_row_min_frames, max_rows)
    if not (0.015 * height <= bottom - top <= max_rows):
        return None
    confidence = float(presence[core[0] : core[1]].mean())
    pad = max(1, int(0.01 * height))
    return max(start, start + top - pad), min(stop, start + bottom + pad), confidence


def find_subtitle_bands(
    greys: Sequence[np.ndarray], top_limit: int, bottom_limit: int, config: BandsConfig
) -> list[tuple[int, int, float]]:
    """The subtitle band in the lower picture and, where there is one, another at the top (top first).

    Text at the top is often a fixed drama title or channel name rather than dialogue: a band there counts
    only if its text changes between frames.
    """
    height = greys[0].shape[0]
    bands = []
    upper_stop = min(bottom_limit, int(height * config.subtitle_search_upper))
    upper = find_text_band(greys, top_limit, upper_stop, config) if upper_stop > top_limit else None
    if upper is not None and text_changes(edge_maps(greys, upper[0], upper[1])):
        bands.append(upper)
    lower = find_text_band(
        greys, max(top_limit, upper_stop, int(height * config.subtitle_search_top)), bottom_limit, config
    )
    if lower is not None:
        bands.append(lower)
    return bands


def edge_maps(greys: Sequence[np.ndarray], top: int, bottom: int) -> list[np.ndarray]:
    """The sharp edges of rows [top, bottom) in the frames where those rows hold text."""
    masks = text_row_masks(greys, top, bottom)
    return [
        np.abs(np.diff(grey[top:bottom], axis=1)) > _TEXT_EDGE
        for grey, rows in zip(greys, masks, strict=True)
        if rows.any()
    ]


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
        for top, bottom, confidence in find_subtitle_bands(greys, content_top, content_bottom, bands_config):
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
