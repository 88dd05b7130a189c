"""Opening media with PyAV, with FFmpeg's own words in every error."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from motiflens.core.errors import DecodeError, VideoOpenFailure


def _ffmpeg_lines(captured: list[tuple[int, str, str]]) -> str:
    return "".join(f"[{name}] {message}" for _level, name, message in captured)


@contextlib.contextmanager
def ffmpeg_errors(path: Path, action: str, error_class: type = DecodeError) -> Iterator[None]:
    """Turn PyAV exceptions raised inside the block into MediaErrors carrying FFmpeg's log lines."""
    import av
    import av.logging

    # FFmpeg's log is captured only inside this block. Left on, its callback needs the GIL from FFmpeg's
    # decoder threads and can deadlock a container's close() (PyAV issues 909 and 1849).
    av.logging.set_level(av.logging.ERROR)
    try:
        with av.logging.Capture() as captured:
            try:
                yield
            except av.FFmpegError as exc:
                raise error_class(f"{action} {path.name}: {exc}", ffmpeg_stderr=_ffmpeg_lines(captured)) from exc
    finally:
        av.logging.set_level(None)


def open_container(path: Path) -> Any:
    """Open a media file for reading, failing clearly on empty, missing or non-media files."""
    import av

    try:
        size = path.stat().st_size
    except OSError as exc:
        raise VideoOpenFailure(f"cannot read {path.name}: {exc.strerror or exc}") from exc
    if size == 0:
        raise VideoOpenFailure(f"{path.name} is empty (0 bytes)")
    with ffmpeg_errors(path, "cannot open", VideoOpenFailure):
        return av.open(str(path), mode="r", metadata_errors="ignore")
