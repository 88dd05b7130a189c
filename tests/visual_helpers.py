"""Shared helpers for the visual tests: small synthetic frames, layouts and taxonomies (nothing downloaded)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml
from motiflens.core.records import Band, Box, FrameLayout, SampledFrame, Tile
from motiflens.media.layout import square_tiles

# DESIGN.md section 4: ids that must exist.
DESIGN_IDS = (
    "jade_teapot", "dunhuang_feitian", "qiang_pottery", "xia_yi", "dumplings", "red_lantern", "spring_couplets",
    "firecrackers", "dragon_king", "intangible_heritage_craft", "porcelain", "calligraphy", "tea_ceremony", "hanfu",
    "qipao", "peking_opera_mask", "sichuan_opera_face_changing", "lion_dance", "paper_cutting", "embroidery",
    "guzheng", "mooncake", "thai_wai_greeting", "songkran", "thai_temple", "thai_cuisine",
)


def symbol_entry(symbol_id: str, **changes: object) -> dict:
    entry = {
        "id": symbol_id,
        "label": symbol_id.replace("_", " ").title(),
        "zh": "符号",
        "category": "artifact",
        "culture": "chinese",
        "visual_prompts": [f"a photo of a {symbol_id} number {k}" for k in range(4)],
        "dialogue_terms": {"en": [symbol_id], "zh": ["符号"]},
        "description": f"test symbol {symbol_id}",
    }
    entry.update(changes)
    return entry


def write_taxonomy(path: Path, symbols: list[dict], background: list[str] | None = None, **header: object) -> Path:
    document = {"version": "test-1", **header, "symbols": symbols}
    if background is not None:
        document["background_prompts"] = background
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def small_taxonomy(path: Path) -> Path:
    """Three symbols with real prompts and three background prompts: cheap to encode on CPU."""
    return write_taxonomy(
        path,
        [
            symbol_entry("red_lantern", visual_prompts=[
                "a red paper lantern", "red lanterns at night", "a glowing red lantern", "a row of red lanterns"]),
            symbol_entry("porcelain", visual_prompts=[
                "a blue and white vase", "a porcelain bowl", "antique porcelain", "a celadon vase"]),
            symbol_entry("calligraphy", visual_prompts=[
                "black ink characters", "a calligraphy scroll", "a writing brush", "brush strokes on paper"]),
        ],
        background=["a photo of an office", "a close-up of a face", "a city street"],
    )


def vertical_layout(width: int = 540, height: int = 960, subtitle: tuple[int, int] | None = (800, 860),
                    full_frame: bool = True) -> FrameLayout:
    content = Box(0, 0, width, height)
    bands = (Band("subtitle", subtitle[0], subtitle[1], 0.9),) if subtitle else ()
    boxes = square_tiles(content, 0.25, full_frame=full_frame)
    return FrameLayout(width, height, content, bands, tuple(Tile(i, box) for i, box in enumerate(boxes)))


def textured_frame(seed: int, width: int = 270, height: int = 480, scale: float = 0.5, index: int = 0,
                   time_seconds: float = 0.0) -> SampledFrame:
    """A frame with structure at every scale (gradients plus random blocks), so crops differ from each other."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    image = np.stack([x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height)], axis=-1)
    for _ in range(12):
        x0, y0 = rng.integers(0, width - 20), rng.integers(0, height - 20)
        image[y0 : y0 + rng.integers(10, 60), x0 : x0 + rng.integers(10, 60)] = rng.integers(0, 256, 3)
    return SampledFrame(index=index, time_seconds=time_seconds, image=image.astype(np.uint8), scale=scale)
