"""The visual pipeline's numbers equal an independent open_clip computation (random weights, fixed seed).

Real CLIP weights cannot be had here, so this proves plumbing, not accuracy: tiling, subtitle masking,
padding, open_clip's preprocessing, batching, normalisation, prompt ensembling and presence scoring.
"""

from pathlib import Path

import numpy as np
import open_clip
import pytest
import torch
import torch.nn.functional as F
from motiflens.core.taxonomy import load_taxonomy
from motiflens.visual.backend import create_backend
from motiflens.visual.engine import FrameScorer
from motiflens.visual.prompts import build_prompt_bank, cache_key
from motiflens.visual.tiles import NEUTRAL_FILL, TileCropper
from motiflens.visual.weights import ALLOW_TEST_MODELS_ENV, WeightsResolver
from PIL import Image, ImageDraw
from visual_helpers import small_taxonomy, textured_frame, vertical_layout

SEED = 0
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def taxonomy(tmp_path_factory: pytest.TempPathFactory):
    return load_taxonomy([small_taxonomy(tmp_path_factory.mktemp("taxonomy") / "small.yaml")])


@pytest.fixture(scope="module")
def backend():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ALLOW_TEST_MODELS_ENV, "1")
        weights = WeightsResolver(None, allow_download=False, seed=SEED).resolve("test")
    loaded = create_backend(weights, "cpu", "float16")  # autocast applies on CUDA only
    loaded.load()
    yield loaded
    loaded.close()


@pytest.fixture(scope="module")
def bank(backend, taxonomy):
    return build_prompt_bank(backend, taxonomy, "test", backend.weights.key, backend.logit_scale, use_cache=False)


@pytest.fixture(scope="module")
def reference():
    """open_clip's own model and preprocess, built independently with the same seed."""
    torch.manual_seed(SEED)
    model, _, preprocess = open_clip.create_model_and_transforms("ViT-B-32", pretrained=None)
    model.eval()
    return model, preprocess, open_clip.get_tokenizer("ViT-B-32")


def crops_by_hand(frame, layout) -> list[Image.Image]:
    """Mask and cut the tiles with PIL, straight from the layout's full-resolution boxes."""
    image = Image.fromarray(frame.image)
    band = layout.subtitle_band
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, band.top * frame.scale, image.width - 1, band.bottom * frame.scale - 1), fill=NEUTRAL_FILL)
    crops = []
    for tile in layout.tiles:
        box = [round(value * frame.scale) for value in tile.box.to_json()]
        crop = image.crop(box)
        side = max(crop.size)
        square = Image.new("RGB", (side, side), NEUTRAL_FILL)
        square.paste(crop, ((side - crop.width) // 2, (side - crop.height) // 2))
        crops.append(square)
    return crops


def reference_scores(reference, taxonomy, crops) -> tuple[np.ndarray, np.ndarray]:
    model, preprocess, tokenizer = reference
    with torch.no_grad():
        images = F.normalize(model.encode_image(torch.stack([preprocess(crop) for crop in crops])), dim=-1)
        symbols = []
        for symbol in taxonomy.symbols:
            prompts = F.normalize(model.encode_text(tokenizer(list(symbol.visual_prompts))), dim=-1)
            mean = prompts.mean(dim=0)
            symbols.append(mean / mean.norm())
        background = F.normalize(model.encode_text(tokenizer(list(taxonomy.background_prompts))), dim=-1)
        scale = model.logit_scale.exp()
        margin = scale * images @ torch.stack(symbols).T
        margin = margin - torch.logsumexp(scale * images @ background.T, dim=1, keepdim=True)
        return images.numpy(), torch.sigmoid(margin).numpy()


def test_tile_embeddings_and_scores_match_open_clip_on_hand_cut_tiles(backend, bank, taxonomy, reference) -> None:
    layout = vertical_layout(540, 960, subtitle=(800, 860), full_frame=True)
    frames = [textured_frame(seed, index=k, time_seconds=float(k)) for k, seed in enumerate((1, 2))]
    scorer = FrameScorer(backend, bank, batch_size=3)  # batches that cut across frames
    scored = list(scorer.score(frames, TileCropper(layout)))
    assert len(scored) == 2 and scorer.stats.tiles_encoded == 2 * len(layout.tiles)
    for frame, result in zip(frames, scored, strict=True):
        embeddings, scores = reference_scores(reference, taxonomy, crops_by_hand(frame, layout))
        assert result.tile_embeddings.shape == (4, 512)
        np.testing.assert_allclose(np.linalg.norm(result.tile_embeddings, axis=1), 1.0, atol=1e-5)
        np.testing.assert_allclose(result.tile_embeddings, embeddings, atol=TOLERANCE)
        np.testing.assert_allclose(result.tile_scores, scores, atol=TOLERANCE)
        np.testing.assert_allclose(result.pooled.scores, scores.max(axis=0), atol=TOLERANCE)
        assert result.pooled.tiles.tolist() == scores.argmax(axis=0).tolist()


def test_batch_size_does_not_change_the_numbers(backend, bank) -> None:
    layout = vertical_layout(540, 960, subtitle=None, full_frame=False)
    frames = [textured_frame(seed, index=k) for k, seed in enumerate((3, 4, 5))]
    one = list(FrameScorer(backend, bank, batch_size=1).score(frames, TileCropper(layout)))
    many = list(FrameScorer(backend, bank, batch_size=64).score(frames, TileCropper(layout)))
    for a, b in zip(one, many, strict=True):
        np.testing.assert_allclose(a.tile_scores, b.tile_scores, atol=1e-5)


def test_near_duplicate_frames_reuse_the_last_encoding(backend, bank) -> None:
    layout = vertical_layout(540, 960, subtitle=(800, 860), full_frame=False)
    still = textured_frame(7, index=0)
    noisy = textured_frame(7, index=1)
    noisy.image = np.clip(noisy.image.astype(int) + np.random.default_rng(0).integers(-2, 3, noisy.image.shape),
                          0, 255).astype(np.uint8)
    subtitled = textured_frame(7, index=2)
    subtitled.image[405:425, 40:230] = 255  # a new subtitle line: inside the masked band, so still a duplicate
    other = textured_frame(8, index=3)
    scorer = FrameScorer(backend, bank, batch_size=2, dedup_threshold=1.0)
    scored = list(scorer.score([still, noisy, subtitled, other], TileCropper(layout)))
    assert [item.duplicate for item in scored] == [False, True, True, False]
    assert scored[1].tile_scores is scored[0].tile_scores
    tiles = len(layout.tiles)
    assert scorer.stats.to_json() == {
        "frames": 4, "frames_encoded": 2, "duplicate_frames": 2, "tiles_encoded": 2 * tiles,
        "encodings_saved": 2 * tiles,
    }


def test_prompt_embeddings_are_cached_on_disk_by_model_weights_and_prompts(
    backend, bank, taxonomy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTIFLENS_CACHE", str(tmp_path))
    first = build_prompt_bank(backend, taxonomy, "test", backend.weights.key, backend.logit_scale, use_cache=True)
    files = list((tmp_path / "text-embeddings").glob("*.npz"))
    assert len(files) == 1 and files[0].stem == cache_key("test", backend.weights.key, "cpu-none", taxonomy)
    np.testing.assert_array_equal(first.symbols, bank.symbols)

    class NoEncoder:
        numerics = backend.numerics

        def encode_texts(self, texts):
            raise AssertionError("the cache should have answered")

    again = build_prompt_bank(NoEncoder(), taxonomy, "test", backend.weights.key, 1.0, use_cache=True)
    np.testing.assert_array_equal(again.symbols, first.symbols)
    np.testing.assert_array_equal(again.background, first.background)
    assert cache_key("test", "other-weights", "cpu-none", taxonomy) != files[0].stem
