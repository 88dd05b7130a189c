"""Vertical frames are tiled, never centre-cropped; the winning tile becomes the screen region."""

from dataclasses import replace

import numpy as np
import open_clip
import pytest
import torch
from motiflens.core.config import BandsConfig, TilesConfig
from motiflens.core.records import Band, Box, SampledFrame
from motiflens.media.layout import analyse_layout
from motiflens.visual.scoring import pool_tiles, presence_scores
from motiflens.visual.tiles import NEUTRAL_FILL, TileCropper, pad_to_square
from visual_helpers import vertical_layout

RED = (220, 20, 20)


def red_at_top(width: int = 270, height: int = 480) -> SampledFrame:
    image = np.full((height, width, 3), 40, dtype=np.uint8)
    image[8:48, 100:170] = RED  # the only red thing, near the top edge
    return SampledFrame(index=0, time_seconds=0.0, image=image, scale=1.0)


def is_red(pixels: np.ndarray) -> np.ndarray:
    return (pixels[..., 0] > 180) & (pixels[..., 1] < 60) & (pixels[..., 2] < 60)


def test_a_vertical_frame_is_covered_by_tiles_and_the_top_is_not_cut_off() -> None:
    frame = red_at_top()
    layout = analyse_layout([frame], 270, 480, BandsConfig(), TilesConfig())
    assert layout.content == Box(0, 0, 270, 480)
    boxes = [tile.box for tile in layout.tiles]
    assert all(box.width == box.height == 270 for box in boxes) and len(boxes) >= 2
    covered = np.zeros(480, dtype=bool)
    for box in boxes:
        covered[box.y0 : box.y1] = True
    assert covered.all(), "tiles must cover the whole picture"

    crops = TileCropper(layout).crops(frame)
    assert any(is_red(np.asarray(crop)).sum() == 40 * 70 for crop in crops), "the red object must be whole in a tile"
    # A centre crop (what CLIP's own preprocess would do to the full frame) loses it entirely.
    centre = frame.image[105:375]
    assert not is_red(centre).any()


def test_open_clip_preprocess_keeps_a_square_tile_whole() -> None:
    preprocess = open_clip.image_transform(224, is_train=False)
    crop = TileCropper(vertical_layout(270, 480, subtitle=None, full_frame=False)).crops(red_at_top())[0]
    pixels = preprocess(crop)
    mean = torch.tensor(open_clip.OPENAI_DATASET_MEAN).view(3, 1, 1)
    std = torch.tensor(open_clip.OPENAI_DATASET_STD).view(3, 1, 1)
    restored = ((pixels * std + mean) * 255).permute(1, 2, 0).numpy()
    rows = np.flatnonzero(is_red(restored).any(axis=1))
    # 270 → 224 scales rows 8..48 to about 6.6..39.8: nothing above or below was cropped away.
    assert rows.min() == pytest.approx(7, abs=1) and rows.max() == pytest.approx(39, abs=1)


def test_the_subtitle_band_is_painted_neutral_and_the_full_frame_tile_is_padded() -> None:
    layout = vertical_layout(540, 960, subtitle=(800, 860), full_frame=True)
    frame = SampledFrame(0, 0.0, np.full((480, 270, 3), 255, dtype=np.uint8), scale=0.5)
    masked = TileCropper(layout).masked(frame)
    assert (masked.image[400:430] == NEUTRAL_FILL).all()
    assert (masked.image[:400] == 255).all() and (masked.image[430:] == 255).all()
    assert (frame.image == 255).all(), "the decoded frame itself is not modified"
    unmasked = TileCropper(layout, mask_subtitles=False).masked(frame)
    assert (unmasked.image == 255).all()

    crops = TileCropper(layout).crops(masked)
    assert [crop.size for crop in crops] == [(270, 270)] * (len(layout.tiles) - 1) + [(480, 480)]
    full = np.asarray(crops[-1])
    assert (full[:, :105] == NEUTRAL_FILL).all() and (full[:, 375:] == NEUTRAL_FILL).all()
    assert pad_to_square(np.zeros((10, 10, 3), dtype=np.uint8)).size == (10, 10)


def test_pooling_takes_the_best_tile_per_symbol_and_names_its_region() -> None:
    tile_scores = np.array([[0.1, 0.7, 0.2], [0.9, 0.3, 0.2], [0.4, 0.8, 0.2], [0.5, 0.1, 0.2]])
    pooled = pool_tiles(tile_scores)
    assert pooled.scores == pytest.approx([0.9, 0.8, 0.2])
    assert pooled.tiles.tolist() == [1, 2, 0]  # ties go to the first tile
    cropper = TileCropper(vertical_layout(540, 960, subtitle=None, full_frame=True))
    top, bottom, full = cropper.region(0), cropper.region(2), cropper.region(3)
    assert top.box == (0.0, 0.0, 1.0, 540 / 960) and not top.full_frame
    assert bottom.box == (0.0, 420 / 960, 1.0, 1.0)
    assert full.full_frame and full.box == (0.0, 0.0, 1.0, 1.0)
    assert top.to_json() == {"tile": 0, "box": [0.0, 0.0, 1.0, 0.562]}


def test_presence_is_scored_against_background_not_as_a_softmax_over_symbols() -> None:
    from motiflens.visual.prompts import PromptBank

    axis = np.eye(4, dtype=np.float32)
    bank = PromptBank(("a", "b"), symbols=axis[:2], background=axis[2:], logit_scale=10.0)
    image = np.array([[0.7, 0.7, 0.14, 0.0]], dtype=np.float32)
    image /= np.linalg.norm(image)
    scores = presence_scores(image, bank)[0]
    # Both symbols can be present at once (a softmax over symbols would cap their sum at 1).
    assert scores[0] == pytest.approx(scores[1]) and scores.sum() > 1.5
    background_only = presence_scores(axis[2:3], bank)[0]
    assert (background_only < 0.01).all()


def test_an_upper_subtitle_band_is_masked_too() -> None:
    layout = vertical_layout(540, 960, subtitle=(800, 860), full_frame=False)
    layout = replace(layout, bands=(Band("subtitle", 60, 120, 0.9), *layout.bands))
    frame = SampledFrame(0, 0.0, np.full((480, 270, 3), 255, dtype=np.uint8), scale=0.5)
    masked = TileCropper(layout).masked(frame).image
    assert (masked[30:60] == NEUTRAL_FILL).all() and (masked[400:430] == NEUTRAL_FILL).all()
    assert (masked[60:400] == 255).all()
