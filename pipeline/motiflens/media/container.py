"""Opening media with PyAV, with FFmpeg's own words in every error."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
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


@dataclass
class DecodeCounts:
    """Video decoders opened on one file and the frames they decoded, since the process started."""

    opens: int = 0
    frames: int = 0


_COUNTS: dict[str, DecodeCounts] = {}
_COUNTS_LOCK = threading.Lock()


def decode_counts(path: Path) -> DecodeCounts:
    """A copy of the counts for `path` (zeros for a file never decoded)."""
    with _COUNTS_LOCK:
        counts = _COUNTS.get(str(Path(path).resolve()), DecodeCounts())
        return DecodeCounts(counts.opens, counts.frames)


def decode_video(path: Path, container: Any, stream: Any) -> Iterator[Any]:
    """The one place a video decoder starts: decoded frames of `stream`, counted per file.

    A seek inside an open container continues the same decoder and does not count as an open.
    """
    with _COUNTS_LOCK:
        counts = _COUNTS.setdefault(str(Path(path).resolve()), DecodeCounts())
        counts.opens += 1
    return _counted(container.decode(stream), counts)


def restart_decoder(container: Any, stream: Any, path: Path) -> Iterator[Any]:
    """Frames after a seek in a container whose decoder `decode_video` already opened."""
    with _COUNTS_LOCK:
        counts = _COUNTS.setdefault(str(Path(path).resolve()), DecodeCounts())
    return _counted(container.decode(stream), counts)


def _counted(frames: Iterator[Any], counts: DecodeCounts) -> Iterator[Any]:
    for frame in frames:
        with _COUNTS_LOCK:
            counts.frames += 1
        yield frame
