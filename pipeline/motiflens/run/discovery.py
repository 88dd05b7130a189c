"""Find the videos to process: folders (recursive), explicit files, or a CSV manifest."""

from __future__ import annotations

import csv
import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

from motiflens.core.config import InputConfig
from motiflens.core.errors import InputError
from motiflens.core.records import VideoSource

_SAFE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")
_SLUG_MAX = 48


def video_id_for(relative_path: str) -> str:
    """A stable, filesystem-safe id: readable slug of the name plus a short hash of the whole path.

    The hash keeps ids unique where slugs collide (Chinese-only names, same name in two folders); the
    id never contains separators or dots, so it cannot climb out of the output folder.
    """
    stem = relative_path.rsplit(".", 1)[0] if "." in Path(relative_path).name else relative_path
    ascii_text = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:_SLUG_MAX].strip("-") or "video"
    digest = hashlib.sha1(relative_path.encode("utf-8")).hexdigest()[:8]
    return f"{slug}-{digest}"


def _is_video_name(name: str, extensions: tuple[str, ...]) -> bool:
    lowered = name.lower()
    return any(lowered.endswith(ext.lower()) for ext in extensions)


def _walk(root: Path, config: InputConfig) -> Iterator[Path]:
    """Sorted recursive walk that survives symlink loops by remembering visited directories."""
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            stat = folder.stat()
        except OSError:
            continue
        key = (stat.st_dev, stat.st_ino)
        if key in seen:
            continue
        seen.add(key)
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            continue
        subfolders = []
        for entry in entries:
            if entry.name.startswith(".") and not config.include_hidden:
                continue
            try:
                if entry.is_dir(follow_symlinks=config.follow_symlinks):
                    if config.recursive:
                        subfolders.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=True) and _is_video_name(entry.name, config.extensions):
                    yield Path(entry.path)
            except OSError:
                continue
        stack.extend(reversed(subfolders))


def _read_manifest(path: Path) -> Iterator[tuple[Path, str, dict[str, str]]]:
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read manifest {path}: {exc.strerror or exc}") from exc
    with handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or "path" not in reader.fieldnames:
            raise InputError(f"manifest {path} needs a 'path' column; it has {reader.fieldnames}")
        for line_number, row in enumerate(reader, start=2):
            raw = (row.get("path") or "").strip()
            if not raw:
                raise InputError(f"manifest {path} line {line_number}: empty 'path'")
            video_path = Path(raw) if Path(raw).is_absolute() else path.parent / raw
            metadata = {key: (value or "") for key, value in row.items() if key and key != "path"}
            yield video_path, raw.replace(os.sep, "/"), metadata


def discover(inputs: Iterable[Path], config: InputConfig) -> list[VideoSource]:
    """Every video named by `inputs`, each once, in a stable order, with unique ids."""
    found: list[tuple[Path, str, dict[str, str]]] = []
    for given in inputs:
        if given.is_dir():
            for video in _walk(given, config):
                found.append((video, video.relative_to(given).as_posix(), {}))
        elif given.suffix.lower() == ".csv":
            found.extend(_read_manifest(given))
        elif given.exists() or given.is_symlink():
            found.append((given, given.name, {}))
        else:
            raise InputError(f"input not found: {given}")

    sources: list[VideoSource] = []
    by_id: dict[str, Path] = {}
    seen_files: set[Path] = set()
    for path, relative, metadata in found:
        absolute = Path(os.path.abspath(path))
        if absolute in seen_files:
            continue
        seen_files.add(absolute)
        video_id = metadata.pop("video_id", "") or video_id_for(relative)
        if not _SAFE_ID.match(video_id):
            raise InputError(f"video_id {video_id!r} for {relative} must match {_SAFE_ID.pattern}")
        if video_id in by_id:
            raise InputError(
                f"{by_id[video_id]} and {absolute} both map to video id {video_id}; "
                "pass their common parent folder instead so their relative paths differ"
            )
        by_id[video_id] = absolute
        sources.append(VideoSource(path=absolute, relative_path=relative, video_id=video_id, metadata=metadata))
    return sources


def parse_shard(spec: str) -> tuple[int, int]:
    """`I/N` (0 <= I < N), as Slurm's 0-based SLURM_ARRAY_TASK_ID and the array size give it."""
    index, sep, count = spec.partition("/")
    try:
        shard, shards = int(index), int(count)
    except ValueError:
        shard, shards = -1, 0
    if not sep or shards < 1 or not 0 <= shard < shards:
        raise InputError(f"--shard expects I/N with 0 <= I < N (e.g. 3/8), got {spec!r}")
    return shard, shards


def shard_of(video_id: str, shards: int) -> int:
    """A video's shard from its id alone: stable when videos are added or removed, balanced by hashing."""
    return int(hashlib.sha256(video_id.encode()).hexdigest()[:16], 16) % shards


def select_shard(sources: list[VideoSource], shard: int, shards: int) -> list[VideoSource]:
    return [source for source in sources if shard_of(source.video_id, shards) == shard]
