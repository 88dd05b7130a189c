"""What every `motiflens` command shares: exit codes, the error exit, and the config options."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from motiflens.core.errors import ConfigError, EngineError, InputError, ModelError, MotifLensError

EXIT_OK, EXIT_VIDEO_FAILED, EXIT_CONFIG, EXIT_INPUT, EXIT_MODEL, EXIT_ENGINE, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 5, 130
_EXIT_BY_ERROR = (
    (ConfigError, EXIT_CONFIG),
    (InputError, EXIT_INPUT),
    (ModelError, EXIT_MODEL),
    (EngineError, EXIT_ENGINE),
)


def fail(error: MotifLensError) -> None:
    """Print the error in red and exit with the code its kind maps to."""
    click.secho(f"error: {error}", fg="red", err=True)
    code = next((code for kind, code in _EXIT_BY_ERROR if isinstance(error, kind)), EXIT_VIDEO_FAILED)
    sys.exit(code)


config_option = click.option(
    "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="Experiment config (YAML)."
)
set_option = click.option(
    "--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a config key, e.g. frames.sample_fps=2."
)
