"""Writes that never leave a half-written file: write a sibling temp file, fsync, rename over."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PARTIAL_SUFFIX = ".part"


def _file_mode() -> int:
    # mkstemp creates 0600 files; outputs are shared (web servers, colleagues), so give them the mode a plain
    # open() would: 0666 less the umask, read once at import, before any worker thread starts.
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


FILE_MODE = _file_mode()


def sweep_partials(folder: Path) -> int:
    """Delete temp files that a killed process left beside their targets; returns how many."""
    removed = 0
    if folder.is_dir():
        for leftover in folder.rglob(f".*{PARTIAL_SUFFIX}"):
            leftover.unlink(missing_ok=True)
            removed += 1
    return removed


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; it replaces `target` only if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=PARTIAL_SUFFIX, dir=target.parent)
    os.close(handle)
    temp = Path(temp_name)
    try:
        yield temp
        with temp.open("rb+") as written:
            os.fsync(written.fileno())
        temp.chmod(FILE_MODE)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def sha256_file(path: Path) -> str:
    """Streamed, so multi-GB videos and weights never sit in memory."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(8 << 20):
            digest.update(block)
    return digest.hexdigest()


def write_bytes(target: Path, data: bytes) -> None:
    with atomic_path(target) as temp:
        temp.write_bytes(data)


def write_text(target: Path, text: str) -> None:
    write_bytes(target, text.encode("utf-8"))


def dumps_json(document: Any) -> str:
    """The one JSON style of every output: UTF-8, indented, key order as built, trailing newline."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def write_json(target: Path, document: Any) -> None:
    write_text(target, dumps_json(document))


def inside(folder: Path, *parts: str) -> Path:
    """Join `parts` under `folder`, refusing any result that escapes it (ids come from file names)."""
    base = folder.resolve()
    candidate = base.joinpath(*parts).resolve()
    if candidate != base and base not in candidate.parents:
        raise ValueError(f"refusing to write outside {base}: {'/'.join(parts)}")
    return candidate
