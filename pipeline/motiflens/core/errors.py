"""Exception hierarchy. Every error a user can cause or meet derives from MotifLensError."""

from __future__ import annotations


class MotifLensError(Exception):
    """Base class; the CLI turns these into a message and a documented exit code."""


class ConfigError(MotifLensError):
    """A config file, a --set override or a data definition is invalid."""


class InputError(MotifLensError):
    """The input paths or manifest cannot be used."""


class MediaError(MotifLensError):
    """A video cannot be used. `status` is what run.json records for it."""

    status = "failed"

    def __init__(self, message: str, ffmpeg_stderr: str | None = None) -> None:
        if ffmpeg_stderr:
            message = f"{message}\nffmpeg said:\n{ffmpeg_stderr.strip()}"
        super().__init__(message)
        self.ffmpeg_stderr = ffmpeg_stderr


class VideoOpenFailure(MediaError):
    """The file is empty, not a media file, or its container is unreadable."""


class DecodeError(MediaError):
    """The container opened but its streams could not be decoded."""


class UnsupportedMedia(MediaError):
    """A readable file that is out of scope (no video stream, too short): skipped, not failed."""

    status = "skipped"


class ModelError(MotifLensError):
    """A model cannot be found, verified or loaded."""


class EngineError(MotifLensError):
    """The engine itself broke (a Ray actor died, the cluster cannot be reached), not a video."""


class SchemaError(MotifLensError):
    """An output document does not match its JSON Schema."""
