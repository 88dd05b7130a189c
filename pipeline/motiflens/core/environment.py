"""Facts about where a run happened, for run.json: versions, commit, device; and handing device memory back."""

from __future__ import annotations

import gc
import importlib.metadata
import platform
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

_TRACKED_PACKAGES = ("av", "numpy", "torch", "torchvision", "open_clip_torch", "faster-whisper", "ctranslate2")


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in _TRACKED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_commit(folder: Path) -> dict[str, Any] | None:
    """The commit of the source tree the package runs from, if it is a git checkout."""
    try:
        head = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head, "dirty": bool(dirty)}


def resolve_device(requested: str) -> str:
    """'auto' means CUDA when torch sees a GPU, else CPU. Asking for CUDA without one is an error."""
    if requested == "cpu":
        return "cpu"
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:
        has_cuda = False
    if requested == "cuda" and not has_cuda:
        from motiflens.core.errors import ConfigError

        raise ConfigError("device: cuda was requested but torch sees no CUDA device; use device=auto or cpu")
    return "cuda" if has_cuda else "cpu"


def release_memory() -> None:
    """Collect what dropped model references left behind and return cached CUDA blocks to the device, so the
    next model loads into free memory; torch is not imported for this when nothing has imported it yet."""
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)


def describe_platform() -> dict[str, str]:
    return {"python": sys.version.split()[0], "platform": platform.platform(), "machine": platform.machine()}
