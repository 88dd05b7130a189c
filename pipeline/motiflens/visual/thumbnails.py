"""Evidence thumbnails: every scored frame is kept as a small JPEG in memory until the video's occurrences are
known, then the peak frame of each is written with its winning tile outlined."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from pathlib import Path

from PIL import Image, ImageDraw

from motiflens.core.atomic import write_bytes
from motiflens.core.records import SampledFrame

_QUALITY = 85
_OUTLINE = (255, 214, 0)


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=_QUALITY)
    return buffer.getvalue()


class ThumbnailRecorder:
    def __init__(self, max_side: int) -> None:
        self.max_side = max_side
        self.frames: dict[int, bytes] = {}

    def tap(self, frames: Iterable[SampledFrame]) -> Iterator[SampledFrame]:
        """Pass frames through, keeping a small JPEG of each (before any masking: the evidence is what aired)."""
        for frame in frames:
            image = Image.fromarray(frame.image)
            image.thumbnail((self.max_side, self.max_side), Image.Resampling.BILINEAR)
            self.frames[frame.index] = _jpeg(image)
            yield frame

    def write(self, frame_index: int, box: tuple[float, float, float, float], target: Path) -> None:
        """The frame with the fractional `box` (x0, y0, x1, y1) outlined, as JPEG, written atomically."""
        image = Image.open(io.BytesIO(self.frames[frame_index])).convert("RGB")
        width, height = image.size
        outline = max(2, round(min(width, height) / 120))
        corners = (box[0] * width, box[1] * height, box[2] * width - 1, box[3] * height - 1)
        ImageDraw.Draw(image).rectangle(corners, outline=_OUTLINE, width=outline)
        write_bytes(target, _jpeg(image))
