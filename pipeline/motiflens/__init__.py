"""MotifLens: cultural symbols in micro short dramas, on screen and in the story."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("motiflens")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

SCHEMA_VERSION = "1"
