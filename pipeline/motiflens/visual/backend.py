"""Vision-language backends: load once, encode image batches and prompt lists into unit vectors."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from motiflens.core.environment import release_memory
from motiflens.core.errors import ConfigError, ModelError
from motiflens.core.log import get_logger
from motiflens.visual.weights import VisualWeights, open_clip_preprocessing

if TYPE_CHECKING:
    import torch
    from PIL import Image

log = get_logger("visual")

_TEXT_BATCH = 256


class OpenClipBackend:
    """An open_clip model on one device. Embeddings come back L2-normalised, as float32 numpy arrays."""

    def __init__(self, weights: VisualWeights, device: str, autocast: str) -> None:
        self.weights = weights
        self.device = device
        self.autocast = autocast if device == "cuda" else "none"
        self.model: Any = None
        self.tokenizer: Any = None
        self.transform: Callable[[Image.Image], torch.Tensor] | None = None

    @property
    def numerics(self) -> str:
        """What changes the numbers besides the weights: cached embeddings are keyed by it."""
        return f"{self.device}-{self.autocast}"

    def load(self) -> None:
        import open_clip
        import torch

        # Random-init (test) weights depend on the seed; real weights ignore it.
        torch.manual_seed(self.weights.seed)
        pretrained = str(self.weights.path) if self.weights.path is not None else None
        try:
            model, _, transform = open_clip.create_model_and_transforms(
                self.weights.architecture,
                pretrained=pretrained,
                device=self.device,
                weights_only=True,
                **open_clip_preprocessing(self.weights),
            )
        except Exception as exc:  # safetensors, unpickling and state-dict errors share no base class
            raise ModelError(
                f"cannot load visual model {self.weights.card.name} from {pretrained}: {type(exc).__name__}: {exc}"
            ) from exc
        model.eval()
        self.model = model
        self.transform = transform
        self.tokenizer = open_clip.get_tokenizer(self.weights.architecture)

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        """open_clip's own inference transform; square inputs are resized whole (its centre crop is a no-op)."""
        if self.transform is None:
            raise RuntimeError("backend not loaded")
        return self.transform(image)

    @property
    def logit_scale(self) -> float:
        return float(self.model.logit_scale.exp().item())

    @contextlib.contextmanager
    def _inference(self) -> Iterator[None]:
        import torch

        with torch.inference_mode():
            if self.autocast == "none":
                yield
            else:
                with torch.autocast("cuda", dtype=getattr(torch, self.autocast)):
                    yield

    def encode_images(self, pixels: torch.Tensor) -> np.ndarray:
        import torch.nn.functional as F

        with self._inference():
            features = self.model.encode_image(pixels.to(self.device, non_blocking=True))
            features = F.normalize(features.float(), dim=-1)
        return features.cpu().numpy()

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        import torch.nn.functional as F

        chunks = []
        for start in range(0, len(texts), _TEXT_BATCH):
            tokens = self.tokenizer(list(texts[start : start + _TEXT_BATCH]))
            with self._inference():
                features = self.model.encode_text(tokens.to(self.device))
                chunks.append(F.normalize(features.float(), dim=-1).cpu().numpy())
        return np.concatenate(chunks)

    def close(self) -> None:
        self.model = None
        self.tokenizer = None
        self.transform = None
        release_memory()


#: Backends by model card source; a new family registers here.
BACKENDS: dict[str, type[OpenClipBackend]] = {"open_clip": OpenClipBackend}


def create_backend(weights: VisualWeights, device: str, autocast: str) -> OpenClipBackend:
    backend_class = BACKENDS.get(weights.card.source)
    if backend_class is None:
        raise ConfigError(f"no visual backend for model source {weights.card.source!r}")
    return backend_class(weights, device, autocast)
