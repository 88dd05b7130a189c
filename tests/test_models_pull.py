"""`motiflens models pull` / `models list` against a local HTTP server standing in for the Hugging Face hub.

The server answers the requests huggingface_hub makes (HEAD/GET /<repo>/resolve/<revision>/<file> with the
X-Repo-Commit, ETag and Content-Length headers; the /api/models listing snapshot_download reads) with tiny
generated files, and records every request. Tiny model cards in a temp folder (MOTIFLENS_MODEL_CARDS) name
a real open_clip tag, so the repo and file names are the ones open_clip would download; no weights are real.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from motiflens.cli.main import cli
from motiflens.core.config import AsrConfig
from motiflens.core.errors import ModelError
from motiflens.dialogue.whisper_model import WhisperResolver
from motiflens.models.cache import MANIFEST
from motiflens.visual.weights import MissingWeights, WeightsResolver

COMMIT = "0123456789abcdef0123456789abcdef01234567"
CLIP_REPO = "laion/CLIP-ViT-B-32-laion2B-s34B-b79K"  # what open_clip maps ViT-B-32/laion2b_s34b_b79k to
CLIP_FILE = "open_clip_model.safetensors"
CLIP_BYTES = b"tiny stand-in for an open_clip checkpoint " * 64
CLIP_BIN = "open_clip_pytorch_model.bin"
CLIP_BIN_BYTES = b"tiny stand-in for the pickled copy of the checkpoint " * 48
WHISPER_REPO = "example/tiny-whisper"
WHISPER_FILES = {
    "model.bin": b"tiny stand-in for a CTranslate2 model " * 32,
    "config.json": b'{"alignment_heads": []}',
    "tokenizer.json": b'{"model": {}}',
    "vocabulary.txt": b"a\nb\n",
    "README.md": b"not needed by a CTranslate2 Whisper folder",
}
TEXT_REPO = "example/tiny-text"
TEXT_FILES = {
    "modules.json": b"[]",
    "model.safetensors": b"tiny stand-in for sentence-transformers weights " * 16,
    "pytorch_model.bin": b"the same weights as a pickle: left out when safetensors exist",
    "onnx/model.onnx": b"another runtime: never needed",
}


#: Stored with Git LFS on the hub: their ETag (and tree "lfs.oid") is their sha256; other files have git blob ids.
LFS = {CLIP_FILE, CLIP_BIN, "model.bin", "model.safetensors", "pytorch_model.bin", "onnx/model.onnx"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def etag(name: str, data: bytes) -> str:
    return sha256(data) if name in LFS else hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class StandInHub:
    """Files per repo; `body` can differ from what the headers declare (a corrupted transfer)."""

    def __init__(self) -> None:
        self.files: dict[str, dict[str, bytes]] = {
            CLIP_REPO: {CLIP_FILE: CLIP_BYTES, CLIP_BIN: CLIP_BIN_BYTES},
            WHISPER_REPO: dict(WHISPER_FILES),
            TEXT_REPO: dict(TEXT_FILES),
        }
        self.served: dict[tuple[str, str], bytes] = {}  # (repo, file) → bytes sent instead of the declared ones
        self.requests: list[str] = []
        self.lock = threading.Lock()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep the test output clean
                pass

            def do_HEAD(self) -> None:
                self.answer(body=False)

            def do_GET(self) -> None:
                self.answer(body=True)

            def answer(self, body: bool) -> None:
                with hub.lock:
                    hub.requests.append(f"{self.command} {self.path}")
                path = self.path.split("?")[0]
                if path.startswith("/api/models/"):
                    return self.listing(path.removeprefix("/api/models/"))
                repo, sep, rest = path.lstrip("/").partition("/resolve/")
                _, _, filename = rest.partition("/")
                declared = hub.files.get(repo, {}).get(filename) if sep else None
                if declared is None:
                    self.send_response(404)
                    self.send_header("X-Error-Code", "EntryNotFound")
                    self.send_header("X-Repo-Commit", COMMIT)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = hub.served.get((repo, filename), declared)
                self.send_response(200)
                self.send_header("X-Repo-Commit", COMMIT)
                # Like the hub for an LFS file: its ETag is the sha256 of the file it stores.
                self.send_header("ETag", f'"{etag(filename, declared)}"')
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def listing(self, rest: str) -> None:
                """/api/models/<repo>/revision/<rev> (repo info) or /api/models/<repo>/tree/<rev> (its files)."""
                parts = rest.split("/")
                repo, files = "/".join(parts[:2]), hub.files.get("/".join(parts[:2]))
                if files is None:
                    self.send_response(404)
                    self.send_header("X-Error-Code", "RepoNotFound")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if parts[2:3] == ["tree"]:
                    answer: object = [
                        {"type": "file", "path": name, "size": len(data), "oid": etag(name, data)[:40],
                         **({"lfs": {"oid": sha256(data), "size": len(data), "pointerSize": 134}}
                            if name in LFS else {})}
                        for name, data in files.items()
                    ]
                else:
                    answer = {"id": repo, "sha": COMMIT, "siblings": [{"rfilename": name} for name in files]}
                payload = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandInHub]:
    """The stand-in hub on a free local port, with HF_ENDPOINT at it and HF_HOME and the model cache in tmp."""
    stand_in = StandInHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), stand_in.handler())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("MOTIFLENS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    yield stand_in
    server.shutdown()
    server.server_close()


@pytest.fixture
def cards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Tiny cards: a pinned CLIP, an unpinned CLIP on the same repo, a hub Whisper and text model, an OCR package."""
    folder = tmp_path / "cards"
    folder.mkdir()
    clip = {"role": "visual", "source": "open_clip", "id": "ViT-B-32/laion2b_s34b_b79k", "license": "MIT"}
    entries = {
        "tiny-clip": {**clip, "sha256": sha256(CLIP_BYTES)},
        "tiny-clip-unpinned": clip,
        "tiny-clip-bin": {**clip, "sha256": sha256(CLIP_BIN_BYTES), "file": CLIP_BIN},
        "tiny-whisper": {"role": "speech", "source": "hub", "id": WHISPER_REPO, "license": "MIT"},
        "tiny-text": {"role": "text", "source": "hub", "id": TEXT_REPO, "license": "MIT",
                      "backend": "sentence_transformers", "languages": ["en"]},
        "rapidocr-ppocr": {"role": "ocr", "source": "pypi", "id": "PP-OCR", "license": "Apache-2.0",
                           "packages": ["rapidocr-onnxruntime"]},
    }
    for name, entry in entries.items():
        (folder / f"{name}.yaml").write_text(yaml.safe_dump({"name": name, **entry}), encoding="utf-8")
    monkeypatch.setenv("MOTIFLENS_MODEL_CARDS", str(folder))
    return folder


def invoke(*args: str):
    return CliRunner().invoke(cli, ["models", *args])


def leftovers(cache: Path) -> list[str]:
    return [path.name for path in cache.glob(".*")] if cache.exists() else []


def test_pull_downloads_verifies_and_a_second_pull_downloads_nothing(hub: StandInHub, cards: Path,
                                                                    tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    result = invoke("pull", "tiny-clip", "tiny-whisper")
    assert result.exit_code == 0, result.output
    assert f"tiny-clip                    downloaded sha256 {sha256(CLIP_BYTES)}" in result.output
    assert f"tiny-whisper                 downloaded sha256 {sha256(WHISPER_FILES['model.bin'])}" in result.output
    assert (cache / "tiny-clip" / CLIP_FILE).read_bytes() == CLIP_BYTES
    manifest = json.loads((cache / "tiny-clip" / MANIFEST).read_text())
    assert (manifest["sha256"], manifest["source"]) == (sha256(CLIP_BYTES), "hub")
    whisper = cache / "tiny-whisper"
    assert sorted(path.name for path in whisper.iterdir()) == sorted(
        [MANIFEST, "model.bin", "config.json", "tokenizer.json", "vocabulary.txt"])  # no README: allow patterns
    assert not leftovers(cache)
    assert any(request.startswith(f"GET /{CLIP_REPO}/resolve/main/{CLIP_FILE}") for request in hub.requests)

    before = len(hub.requests)
    again = invoke("pull", "tiny-clip", "tiny-whisper")
    assert again.exit_code == 0, again.output
    assert "tiny-clip                    ready" in again.output and "downloaded" not in again.output
    assert len(hub.requests) == before  # not a single request: the cache manifest answers

    listed = invoke("list", "--set", "visual.model=tiny-clip", "--set", "asr.model=tiny-whisper",
                    "--set", "story.enabled=false", "--set", "ocr.enabled=false")
    assert listed.exit_code == 0, listed.output
    assert "visual  tiny-clip" in listed.output and "nothing lacking" in listed.output
    assert len(hub.requests) == before


def test_a_tampered_file_is_refused_and_nothing_is_left_in_the_cache(hub: StandInHub, cards: Path,
                                                                   tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    tampered = CLIP_BYTES.replace(b"tiny", b"evil")
    # A hub that serves other bytes, declared consistently: only the card's pin can catch it.
    hub.files[CLIP_REPO][CLIP_FILE] = tampered
    result = invoke("pull", "tiny-clip")
    assert result.exit_code == 4, result.output
    assert f"has sha256 {sha256(tampered)}, but its card pins {sha256(CLIP_BYTES)}" in result.output
    assert not (cache / "tiny-clip").exists() and not leftovers(cache)


def test_an_unpinned_card_is_checked_against_the_hub_declared_sha256(hub: StandInHub, cards: Path,
                                                                     tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    corrupted = CLIP_BYTES.replace(b"tiny", b"tinz")  # same size, other bytes: what a broken transfer gives
    hub.served[(CLIP_REPO, CLIP_FILE)] = corrupted
    result = invoke("pull", "tiny-clip-unpinned")
    assert result.exit_code == 4, result.output
    assert f"but the hub declares {sha256(CLIP_BYTES)}" in result.output
    assert not (cache / "tiny-clip-unpinned").exists() and not leftovers(cache)

    del hub.served[(CLIP_REPO, CLIP_FILE)]
    assert invoke("pull", "tiny-clip-unpinned").exit_code == 0
    assert (cache / "tiny-clip-unpinned" / CLIP_FILE).read_bytes() == CLIP_BYTES


def test_hf_hub_offline_makes_no_request_and_names_what_is_missing(hub: StandInHub, cards: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = invoke("pull", "--set", "visual.model=tiny-clip", "--set", "asr.model=tiny-whisper",
                    "--set", "story.enabled=false", "--set", "ocr.enabled=false")
    assert result.exit_code == 4, result.output
    assert "2 model(s) missing" in result.output and "tiny-clip, tiny-whisper" in result.output
    assert "HF_HUB_OFFLINE is set" in result.output
    assert hub.requests == []
    listed = invoke("list", "--set", "visual.model=tiny-clip", "--set", "asr.model=tiny-whisper",
                    "--set", "story.enabled=false", "--set", "ocr.enabled=false")
    assert "still lacking: tiny-clip, tiny-whisper" in listed.output
    assert hub.requests == []


def test_a_run_fetches_missing_weights_itself_unless_downloads_are_off(hub: StandInHub, cards: Path) -> None:
    with pytest.raises(MissingWeights):
        WeightsResolver(None, allow_download=False).resolve("tiny-clip")
    with pytest.raises(ModelError, match="downloads are off"):
        WhisperResolver(AsrConfig(model="tiny-whisper", allow_download=False)).resolve()
    assert hub.requests == []
    resolved = WeightsResolver(None, allow_download=True).resolve("tiny-clip")
    assert (resolved.origin, resolved.sha256) == ("hub", sha256(CLIP_BYTES))
    speech = WhisperResolver(AsrConfig(model="tiny-whisper", allow_download=True)).resolve()
    assert speech.sha256 == sha256(WHISPER_FILES["model.bin"])


def test_an_unreachable_hub_fails_fast(cards: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket
    import time

    with socket.socket() as probe:  # a port nobody listens on: connections are refused at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("MOTIFLENS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    began = time.perf_counter()
    result = invoke("pull", "tiny-clip", "tiny-whisper")
    assert result.exit_code == 4, result.output
    assert "unreachable" in result.output and "cannot download model 'tiny-whisper'" in result.output
    assert time.perf_counter() - began < 10
    assert not leftovers(tmp_path / "cache")


def test_an_unpinned_clip_import_needs_an_explicit_sha256(cards: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTIFLENS_CACHE", str(tmp_path / "cache"))
    weights = tmp_path / "open_clip_model.safetensors"
    weights.write_bytes(CLIP_BYTES)
    refused = invoke("import", str(weights), "--name", "tiny-clip-unpinned")
    assert refused.exit_code == 4 and "pins no sha256" in refused.output and "--sha256" in refused.output
    wrong = invoke("import", str(weights), "--name", "tiny-clip-unpinned", "--sha256", "0" * 64)
    assert wrong.exit_code == 4 and "has sha256" in wrong.output
    assert not (tmp_path / "cache" / "tiny-clip-unpinned").exists()
    accepted = invoke("import", str(weights), "--name", "tiny-clip-unpinned", "--sha256", sha256(CLIP_BYTES))
    assert accepted.exit_code == 0, accepted.output
    pinned = invoke("import", str(weights), "--name", "tiny-clip")  # the card's pin is enough
    assert pinned.exit_code == 0, pinned.output


def test_a_pinned_file_already_in_the_users_hub_cache_is_taken_without_a_request(
    hub: StandInHub, cards: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """open_clip users have the checkpoint in HF_HOME already: it is copied in, offline, if it matches the pin."""
    repo = tmp_path / "hf-home" / "hub" / f"models--{CLIP_REPO.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)
    snapshot = repo / "snapshots" / COMMIT / CLIP_FILE
    snapshot.parent.mkdir(parents=True)
    snapshot.write_bytes(CLIP_BYTES.replace(b"tiny", b"evil"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    refused = invoke("pull", "tiny-clip")
    assert refused.exit_code == 4 and "HF_HUB_OFFLINE is set" in refused.output  # a copy off the pin is ignored
    snapshot.write_bytes(CLIP_BYTES)
    taken = invoke("pull", "tiny-clip")
    assert taken.exit_code == 0, taken.output
    assert (tmp_path / "cache" / "tiny-clip" / CLIP_FILE).read_bytes() == CLIP_BYTES
    assert hub.requests == []


def test_a_text_model_is_pulled_without_the_files_it_never_needs(hub: StandInHub, cards: Path, tmp_path: Path) -> None:
    result = invoke("pull", "tiny-text")
    assert result.exit_code == 0, result.output
    assert f"downloaded sha256 {sha256(TEXT_FILES['model.safetensors'])}" in result.output
    folder = tmp_path / "cache" / "tiny-text"
    assert sorted(path.name for path in folder.iterdir()) == sorted([MANIFEST, "modules.json", "model.safetensors"])
    assert not any(f"/{TEXT_REPO}/resolve/main/pytorch_model.bin" in request for request in hub.requests)


def test_a_card_that_pins_a_file_gets_exactly_that_file(hub: StandInHub, cards: Path, tmp_path: Path) -> None:
    """clip-vit-b-32 pins open_clip_pytorch_model.bin: open_clip's safetensors-first order must not apply."""
    result = invoke("pull", "tiny-clip-bin")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cache" / "tiny-clip-bin" / CLIP_BIN).read_bytes() == CLIP_BIN_BYTES
    assert not any(CLIP_FILE in request for request in hub.requests)
