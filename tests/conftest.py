"""Shared fixtures. Media is generated per session with the ffmpeg binary from imageio-ffmpeg
(see tests/media.py for the exact commands); nothing is downloaded."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def no_logged_errors(caplog: pytest.LogCaptureFixture):
    """A test passes only if MotifLens logged no ERROR: errors belong in records, not in logs."""
    yield
    errors = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR and r.name.startswith("motiflens")]
    assert not errors, f"errors were logged: {[r.getMessage() for r in errors]}"


@pytest.fixture(autouse=True)
def hub_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach the Hugging Face hub (downloads are on by default); a test that serves a stand-in
    hub (test_models_pull.py) lifts this itself."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No weights anywhere, no network: the model cache is an empty folder and the hub is off."""
    from motiflens.visual.weights import ALLOW_TEST_MODELS_ENV

    cache = tmp_path / "cache"
    monkeypatch.setenv("MOTIFLENS_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv(ALLOW_TEST_MODELS_ENV, raising=False)
    return cache
