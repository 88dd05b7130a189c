"""Engines run the stages over the videos of a run. Each produces the same results; only where work runs differs:
`local` in this process, a chunk at a time; `ray` on Ray Data actor pools (a local Ray instance or an existing
cluster), videos streaming through every stage. The config's `engine` section chooses and tunes them."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from motiflens.core.errors import ConfigError

if TYPE_CHECKING:
    from motiflens.run.runner import Runner
    from motiflens.stages.base import VideoWork

ENGINES: dict[str, str] = {
    "local": "motiflens.run.engines.local:LocalEngine",
    "ray": "motiflens.run.engines.ray_data:RayEngine",
}


class Engine(Protocol):
    def run(self, runner: Runner, works: Sequence[VideoWork]) -> Iterator[VideoWork]:
        """Run every stage over `works`; yield each video once it has passed every stage (in any order).
        Raises FailFast with --fail-fast at the first failed video."""
        ...

    def timings(self) -> dict[str, float]:
        """Seconds per stage so far, for run.json (the Ray engine adds the wall time: its stages overlap)."""
        ...

    def placement(self, work: VideoWork) -> dict[str, Any]:
        """Where and when each stage ran for this video, for its run.json entry; {} when it is this process."""
        ...

    def stage_info(self, runner: Runner) -> dict[str, Any]:
        """Run-level facts for run.json (e.g. calibrated thresholds), as {"stage_info": {...}} or {}."""
        ...

    def shutdown(self) -> None: ...


def load_engine(name: str) -> Engine:
    if name not in ENGINES:
        raise ConfigError(f"unknown engine {name!r}; engines: {', '.join(ENGINES)}")
    module_name, _, class_name = ENGINES[name].partition(":")
    try:
        engine_class = getattr(importlib.import_module(module_name), class_name)
    except ImportError as exc:
        raise ConfigError(f"engine {name!r} cannot be loaded ({exc}); for ray: pip install 'motiflens[ray]'") from exc
    return engine_class()
