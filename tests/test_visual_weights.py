"""Where visual weights come from: local file → cache (also via `models import`) → hub → a clear error.

Resolution only finds and hashes files, so stand-in bytes are enough; nothing is loaded or downloaded.
"""

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from motiflens.cli.main import cli
from motiflens.core.errors import ConfigError, ModelError
from motiflens.core.resources import project_resource
from motiflens.models.cards import CARDS_ENV, ModelCard
from motiflens.visual import weights as weights_module
from motiflens.visual.weights import ALLOW_TEST_MODELS_ENV, MissingWeights, WeightsResolver

FAKE = b"not really a CLIP checkpoint"
FAKE_SHA = hashlib.sha256(FAKE).hexdigest()


@pytest.fixture(autouse=True)
def offline(empty_cache: Path) -> Path:
    return empty_cache


@pytest.fixture
def unpinned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The project's cards with clip-vit-b-32's pin removed, so stand-in bytes can take the real card's place."""
    folder = tmp_path / "cards"
    folder.mkdir()
    for card in project_resource("models").glob("*.yaml"):
        lines = card.read_text(encoding="utf-8").splitlines(keepends=True)
        if card.stem == "clip-vit-b-32":
            lines = [line for line in lines if not line.startswith(("sha256:", "file:"))]
        (folder / card.name).write_text("".join(lines), encoding="utf-8")
    monkeypatch.setenv(CARDS_ENV, str(folder))


def fake_file(folder: Path, name: str = "open_clip_model.safetensors") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(FAKE)
    return path


def test_nothing_anywhere_names_the_three_fixes() -> None:
    with pytest.raises(MissingWeights) as caught:
        WeightsResolver(None, allow_download=False).resolve("clip-vit-b-32")
    message = str(caught.value)
    assert "visual.weights" in message and "models import" in message and "visual.allow_download" in message


def test_a_local_file_comes_first_and_is_hashed(tmp_path: Path, unpinned: None) -> None:
    resolved = WeightsResolver(fake_file(tmp_path / "mine"), allow_download=False).resolve("clip-vit-b-32")
    assert (resolved.origin, resolved.sha256, resolved.architecture, resolved.tag) == (
        "local", FAKE_SHA, "ViT-B-32", "laion2b_s34b_b79k")
    assert resolved.to_json() == {"id": "ViT-B-32/laion2b_s34b_b79k", "sha256": FAKE_SHA, "card": "clip-vit-b-32",
                                  "weights": "local"}
    with pytest.raises(MissingWeights, match="is not a file"):
        WeightsResolver(tmp_path / "absent.safetensors", allow_download=False).resolve("clip-vit-b-32")


def test_a_file_copied_into_the_cache_is_found_and_recorded(empty_cache: Path, unpinned: None) -> None:
    fake_file(empty_cache / "clip-vit-b-32")
    resolved = WeightsResolver(None, allow_download=False).resolve("clip-vit-b-32")
    assert (resolved.origin, resolved.sha256) == ("cache", FAKE_SHA)
    assert (empty_cache / "clip-vit-b-32" / "motiflens-model.json").is_file()


def test_the_pinned_card_refuses_other_bytes_everywhere(tmp_path: Path, empty_cache: Path) -> None:
    pin = "1bd3c7172de5b207ceac554f5ab5266166f3b9baccc9af5989bc801016d080ad"  # models/clip-vit-b-32.yaml
    with pytest.raises(ModelError, match=f"has sha256 {FAKE_SHA}, but its card pins {pin}"):
        WeightsResolver(fake_file(tmp_path / "mine"), allow_download=False).resolve("clip-vit-b-32")
    refused = CliRunner().invoke(cli, ["models", "import", str(fake_file(tmp_path)), "--name", "clip-vit-b-32"])
    assert refused.exit_code == 4 and f"pins {pin}" in refused.output
    assert not (empty_cache / "clip-vit-b-32").exists()


def test_models_import_puts_weights_where_the_visual_stream_looks(tmp_path: Path, unpinned: None) -> None:
    source = fake_file(tmp_path / "download", "ViT-B-32.safetensors")
    refused = CliRunner().invoke(cli, ["models", "import", str(source), "--name", "clip-vit-b-32"])
    assert refused.exit_code == 4 and "pins no sha256" in refused.output  # an unpinned CLIP card needs --sha256
    result = CliRunner().invoke(cli, ["models", "import", str(source), "--name", "clip-vit-b-32", "--sha256", FAKE_SHA])
    assert result.exit_code == 0, result.output
    resolved = WeightsResolver(None, allow_download=False).resolve("clip-vit-b-32")
    assert resolved.origin == "cache" and resolved.path is not None and resolved.path.name == "ViT-B-32.safetensors"


def test_a_download_is_not_attempted_when_the_hub_is_offline() -> None:
    with pytest.raises(MissingWeights, match="not in the cache"):
        WeightsResolver(None, allow_download=True).resolve("clip-vit-b-32")


def test_a_file_that_contradicts_a_pinned_sha256_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pinned = ModelCard(name="pinned", role="visual", source="open_clip", id="ViT-B-32/laion2b_s34b_b79k",
                       sha256="0" * 64, license="MIT")
    monkeypatch.setattr(weights_module, "visual_cards", lambda: {"pinned": pinned})
    with pytest.raises(ModelError, match="sha256") as caught:
        WeightsResolver(fake_file(tmp_path), allow_download=False).resolve("pinned")
    assert not isinstance(caught.value, MissingWeights), "a wrong file is an error even with on_missing_weights=skip"


def test_unknown_names_and_the_test_model_are_config_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"unknown model 'nope'.*clip-vit-b-32"):
        WeightsResolver(None, allow_download=False).resolve("nope")
    with pytest.raises(ConfigError, match="test suite only"):
        WeightsResolver(None, allow_download=False).resolve("test")
    monkeypatch.setenv(ALLOW_TEST_MODELS_ENV, "1")
    resolved = WeightsResolver(None, allow_download=False, seed=7).resolve("test")
    assert resolved.random and resolved.key == "random-init-seed-7" and resolved.to_json()["weights"] == "random"


def test_a_file_that_is_not_a_checkpoint_fails_as_a_model_error(tmp_path: Path, unpinned: None) -> None:
    from motiflens.visual.backend import create_backend

    resolved = WeightsResolver(fake_file(tmp_path, "broken.bin"), allow_download=False).resolve("clip-vit-b-32")
    with pytest.raises(ModelError, match="cannot load visual model clip-vit-b-32"):
        create_backend(resolved, "cpu", "none").load()
