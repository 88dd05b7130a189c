"""Model inputs from a frame: the subtitle band painted neutral, then one square image per layout tile.

A vertical frame is never centre-cropped: ingest's tiles cover the whole picture area with overlapping
squares, each fed whole to the model; the optional full-frame tile is padded to a square, not cut.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

from motiflens.core.records import FrameLayout, SampledFrame, ScreenRegion

#: CLIP's mean pixel colour: after normalisation it is ~0, so painted areas carry no signal.
NEUTRAL_FILL = (123, 117, 104)


def pad_to_square(pixels: np.ndarray) -> Image.Image:
    """Centre an RGB array on a neutral square whose side is its longer side."""
    height, width = pixels.shape[:2]
    if height == width:
        return Image.fromarray(pixels)
    side = max(height, width)
    canvas = Image.new("RGB", (side, side), NEUTRAL_FILL)
    canvas.paste(Image.fromarray(pixels), ((side - width) // 2, (side - height) // 2))
    return canvas


@dataclass(frozen=True)
class TileCropper:
    layout: FrameLayout
    mask_subtitles: bool = True

    def masked(self, frame: SampledFrame) -> SampledFrame:
        """The frame with its subtitle bands (full-resolution rows; lower and upper) painted NEUTRAL_FILL, in
        working pixels."""
        bands = self.layout.subtitle_bands
        if not self.mask_subtitles or not bands:
            return frame
        image = frame.image.copy()
        for band in bands:
            image[round(band.top * frame.scale) : round(band.bottom * frame.scale)] = NEUTRAL_FILL
        return replace(frame, image=image)

    def crops(self, frame: SampledFrame) -> list[Image.Image]:
        """One square image per tile of a masked frame, in tile order."""
        return [pad_to_square(frame.crop(tile.box)) for tile in self.layout.tiles]

    def region(self, tile_index: int) -> ScreenRegion:
        tile = self.layout.tiles[tile_index]
        width, height = self.layout.width, self.layout.height
        box = (tile.box.x0 / width, tile.box.y0 / height, tile.box.x1 / width, tile.box.y1 / height)
        full = tile.box == self.layout.content and len(self.layout.tiles) > 1
        return ScreenRegion(tile=tile.index, box=box, full_frame=full)
