"""Engines run the stages over a chunk of videos. Each produces the same results; only where work runs differs:
`local` in this process, `ray` on Ray Data actors (a local Ray instance or an existing cluster)."""

from __future__ import annotations

import importlib
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
    def run_chunk(self, runner: Runner, works: list[VideoWork]) -> dict[str, float]:
        """Run every stage over `works` (updated in place, in order); seconds per stage."""
        ...

    def stage_info(self, runner: Runner) -> dict[str, Any]:
        """Run-level facts for run.json (e.g. calibrated thresholds), as {"stage_info": {...}} or {}."""
        ...

    def shutdown(self) -> None: ...


def load_engine(name: str, **options: Any) -> Engine:
    if name not in ENGINES:
        raise ConfigError(f"unknown engine {name!r}; engines: {', '.join(ENGINES)}")
    module_name, _, class_name = ENGINES[name].partition(":")
    try:
        engine_class = getattr(importlib.import_module(module_name), class_name)
    except ImportError as exc:
        raise ConfigError(f"engine {name!r} cannot be loaded ({exc}); for ray: pip install 'motiflens[ray]'") from exc
    return engine_class(**options)
