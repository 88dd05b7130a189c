import itertools

import numpy as np
import pytest
from motiflens.core.config import BandsConfig, TilesConfig
from motiflens.core.records import Box, SampledFrame
from motiflens.media.layout import analyse_layout, square_tiles


def covered(boxes: list[Box], content: Box) -> np.ndarray:
    mask = np.zeros((content.y1, content.x1), dtype=bool)
    for box in boxes:
        mask[box.y0 : box.y1, box.x0 : box.x1] = True
    return mask[content.y0 : content.y1, content.x0 : content.x1]


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (1080, 1920, [Box(0, 0, 1080, 1080), Box(0, 420, 1080, 1500), Box(0, 840, 1080, 1920)]),
        (1920, 1080, [Box(0, 0, 1080, 1080), Box(420, 0, 1500, 1080), Box(840, 0, 1920, 1080)]),
        (720, 720, [Box(0, 0, 720, 720)]),
    ],
    ids=["9:16", "16:9", "1:1"],
)
def test_tiles_are_squares_that_cover_the_whole_picture(width: int, height: int, expected: list[Box]) -> None:
    content = Box(0, 0, width, height)
    tiles = square_tiles(content, overlap=0.25)
    assert tiles == expected
    assert all(tile.width == tile.height == min(width, height) for tile in tiles)
    assert covered(tiles, content).all()


def test_neighbouring_tiles_overlap_at_least_as_configured() -> None:
    for overlap in (0.0, 0.25, 0.5):
        tiles = square_tiles(Box(0, 0, 540, 960), overlap=overlap)
        for upper, lower in itertools.pairwise(tiles):
            assert (upper.y1 - lower.y0) / upper.height >= overlap - 1e-9


def test_full_frame_tile_is_added_only_when_the_picture_is_not_square() -> None:
    assert square_tiles(Box(0, 0, 540, 960), 0.25, full_frame=True)[-1] == Box(0, 0, 540, 960)
    assert square_tiles(Box(0, 0, 500, 500), 0.25, full_frame=True) == [Box(0, 0, 500, 500)]


def test_tiles_stay_inside_a_letterboxed_content_box() -> None:
    content = Box(0, 240, 1080, 1680)
    tiles = square_tiles(content, 0.25)
    assert all(tile.y0 >= 240 and tile.y1 <= 1680 for tile in tiles)
    assert covered(tiles, content).all()


def textured_frames(count: int, height: int = 320, width: int = 180, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(40, 200, size=(height, width, 3), dtype=np.uint8) for _ in range(count)]


def as_samples(images: list[np.ndarray], scale: float = 1.0) -> list[SampledFrame]:
    return [SampledFrame(index=i, time_seconds=float(i), image=image, scale=scale) for i, image in enumerate(images)]


def test_black_bars_become_letterbox_bands_and_shrink_the_content() -> None:
    images = textured_frames(6)
    for image in images:
        image[:40] = 0
        image[-40:] = 0
    layout = analyse_layout(as_samples(images, scale=0.5), 360, 640, BandsConfig(), TilesConfig())
    kinds = [(band.kind, band.top, band.bottom) for band in layout.bands]
    assert ("letterbox", 0, 80) in kinds and ("letterbox", 560, 640) in kinds
    assert layout.content == Box(0, 80, 360, 560)
    assert all(tile.box.y0 >= 80 and tile.box.y1 <= 560 for tile in layout.tiles)


def test_blurred_padding_is_told_from_black_bars() -> None:
    images = textured_frames(6)
    for image in images:
        image[:60] = 120
    layout = analyse_layout(as_samples(images), 180, 320, BandsConfig(), TilesConfig())
    assert [(band.kind, band.top, band.bottom) for band in layout.bands] == [("blur_pad", 0, 60)]


def test_subtitle_band_is_found_where_text_keeps_appearing() -> None:
    images = []
    for index, image in enumerate(textured_frames(10, seed=1)):
        image[:] = 90  # a calm scene: only the subtitles have sharp edges
        if index % 3 != 2:  # subtitles on most frames, changing text (stripe phase)
            image[250:270, 30:150:4] = 255
            image[250:270, 31 + index % 2 : 150 : 4] = 0
        images.append(image)
    layout = analyse_layout(as_samples(images), 180, 320, BandsConfig(), TilesConfig())
    band = layout.subtitle_band
    assert band is not None
    assert band.top <= 250 and band.bottom >= 270 and band.bottom - band.top < 40


def test_a_plain_picture_has_no_bands_and_full_content() -> None:
    layout = analyse_layout(as_samples(textured_frames(4)), 180, 320, BandsConfig(), TilesConfig())
    assert layout.bands == ()
    assert layout.content == Box(0, 0, 180, 320)


def glyphs(image: np.ndarray, top: int, bottom: int, text: int) -> None:
    """Paint a line of "text" into rows [top, bottom): black and white columns, a pattern per `text`."""
    columns = np.random.default_rng(text).integers(0, 2, size=120).astype(bool)
    image[top:bottom, 30:150] = np.where(columns, 255, 0)[None, :, None]


def calm_frames(count: int) -> list[np.ndarray]:
    images = textured_frames(count, seed=2)
    for image in images:
        image[:] = 90  # only the text has sharp edges
    return images


def test_a_row_that_only_some_cues_wrap_onto_joins_the_band() -> None:
    images = calm_frames(20)
    for index, image in enumerate(images):
        glyphs(image, 270, 285, text=index // 2)  # every cue has its bottom row here
        if index in (6, 7):  # one cue, in 2 of 20 frames (under subtitle_min_presence), wraps onto a row above
            glyphs(image, 248, 262, text=100)
    layout = analyse_layout(as_samples(images), 180, 320, BandsConfig(), TilesConfig())
    band = layout.subtitle_band
    assert band is not None and band.top <= 248 and band.bottom >= 285
    alone = analyse_layout(as_samples(images), 180, 320, BandsConfig(subtitle_row_min_frames=3), TilesConfig())
    assert alone.subtitle_band is not None and alone.subtitle_band.top > 255


def test_changing_text_at_the_top_is_a_second_band_and_a_fixed_title_is_not() -> None:
    changing, titled = calm_frames(12), calm_frames(12)
    for index, (image, other) in enumerate(zip(changing, titled, strict=True)):
        for picture in (image, other):
            glyphs(picture, 270, 285, text=index // 2)
        glyphs(image, 30, 45, text=50 + index // 2)  # subtitles at the top too
        glyphs(other, 30, 45, text=7)  # the drama's title, the same in every frame
    layout = analyse_layout(as_samples(changing), 180, 320, BandsConfig(), TilesConfig())
    upper, lower = layout.subtitle_bands
    assert upper.top <= 30 and upper.bottom >= 45 and lower.top <= 270 <= 285 <= lower.bottom
    assert layout.subtitle_band == lower  # the main band, masked for the visual stream, is the lower one
    layout = analyse_layout(as_samples(titled), 180, 320, BandsConfig(), TilesConfig())
    assert len(layout.subtitle_bands) == 1 and layout.subtitle_band.top > 200
    no_upper = BandsConfig(subtitle_search_upper=0)
    assert len(analyse_layout(as_samples(changing), 180, 320, no_upper, TilesConfig()).subtitle_bands) == 1
