"""Cheap near-duplicate detection: static shots are common, and an unchanged picture need not be re-encoded."""

from __future__ import annotations

import numpy as np
from PIL import Image

_SIDE = 16


def signature(image: np.ndarray) -> np.ndarray:
    """A 16x16 grey thumbnail (box-averaged): insensitive to compression noise, sensitive to any movement."""
    grey = Image.fromarray(image).convert("L").resize((_SIDE, _SIDE), Image.Resampling.BOX)
    return np.asarray(grey, dtype=np.float32)


class Deduplicator:
    """Compares each frame with the last one that was encoded (not the last one seen, so drift cannot add up)."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.reference: np.ndarray | None = None

    def is_duplicate(self, image: np.ndarray) -> bool:
        current = signature(image)
        if self.reference is not None and float(np.abs(current - self.reference).mean()) < self.threshold:
            return True
        self.reference = current
        return False
