"""Find the videos to process: folders (recursive), explicit files, or a CSV manifest; place them in series.

Series and episode order (written into each video's metadata as `series` and `episode`):

- series: the manifest's `series` value, else the folder part of the video's relative path (`<series>/<file>`,
  relative to the input folder or the manifest; `drama/season1/ep1.mp4` is series `drama/season1`); a file
  given on its own, or lying directly in the input folder, belongs to no series.
- episode: the manifest's `episode` value, else the number `episode_number` reads in the file name.
- A series whose videos do not all have a number, or share one, is numbered 1, 2, ... in file order (names
  sorted with numbers compared as numbers), with a warning naming the videos at fault.
"""

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
from motiflens.core.log import get_logger
from motiflens.core.records import VideoSource

log = get_logger("discovery")

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


# Episode numbers in file names, tried in this order (on the NFKC-normalised name, so full-width digits count).
_CHINESE_DIGITS = {char: value for value, char in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_CHINESE_UNITS = {"十": 10, "百": 100, "千": 1000}
_CHINESE_NUMERAL = "[零〇一二两三四五六七八九十百千]+"
_EPISODE_PATTERNS = (
    # 第12集, 第十二集, 第05话/話, 第3回, 第3期 (第1季 is a season, never matched)
    re.compile(rf"第\s*([0-9]+|{_CHINESE_NUMERAL})\s*[集话話回期]"),
    # 12集
    re.compile(r"(?<![0-9])([0-9]{1,4})\s*[集话話]"),
    # S01E12
    re.compile(r"(?<![a-z])s[0-9]{1,2}[\s._-]*e([0-9]{1,4})(?![0-9])", re.IGNORECASE),
    # EP12, Ep.07, ep_012, Episode 3, E12
    re.compile(r"(?<![a-z])(?:episode|ep|e)[\s._-]*([0-9]{1,4})(?![0-9])", re.IGNORECASE),
)
# Numbers that are no episode: resolutions, 4K, codecs, bit depths, frame rates, audio channels, years.
_NOT_EPISODE = re.compile(
    r"(?<![a-z0-9])(?:[0-9]{3,4}[pi]|[0-9]k|[xh]\.?26[45]|[0-9]+bit|[0-9]+fps|[0-9]\.[0-9]|(?:19|20)[0-9]{2})"
    r"(?![a-z0-9])",
    re.IGNORECASE,
)
_LONE_NUMBER = re.compile(r"(?<![a-z0-9])([0-9]{1,4})(?![a-z0-9])", re.IGNORECASE)
_DIGIT_RUNS = re.compile(r"([0-9]+)")


def chinese_number(text: str) -> int | None:
    """十二 → 12, 二十 → 20, 一百零五 → 105, 两 → 2; None for anything else."""
    total, digit = 0, None
    for char in text:
        if char in _CHINESE_DIGITS:
            digit = _CHINESE_DIGITS[char]
        elif char in _CHINESE_UNITS:
            total += (1 if digit is None else digit) * _CHINESE_UNITS[char]
            digit = None
        else:
            return None
    return total + (digit or 0) or None


def episode_number(name: str) -> int | None:
    """The episode number a file name carries, or None when it carries none or several candidates.

    Rules, first match wins: `第N集` / `第N话` / `第N話` / `第N回` / `第N期` (N in Arabic or Chinese numerals);
    `N集`; `S01E12`; `EP12`, `Ep.07`, `ep_012`, `Episode 3`, `E12` (a letter may not precede the E); else the
    only stand-alone number of the name (not touching a Latin letter or digit) once resolutions, 4K, codecs,
    bit depths, frame rates, `5.1` and years 1900-2099 are set aside: `12.mp4`, `Jade Saga - 05 [1080p].mkv`.
    """
    return _number_in(Path(name).stem)


def _number_in(text: str) -> int | None:
    text = unicodedata.normalize("NFKC", text)
    for pattern in _EPISODE_PATTERNS:
        found = pattern.search(text)
        if found:
            digits = found.group(1)
            return (int(digits) if digits.isdigit() else chinese_number(digits)) or None
    candidates = {int(number) for number in _LONE_NUMBER.findall(_NOT_EPISODE.sub(" ", text))}
    if len(candidates) != 1:
        return None
    return candidates.pop() or None


def _natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, int(part)) if part.isdigit() else (1, part.casefold()) for part in _DIGIT_RUNS.split(text))


def _given_episode(value: str) -> int | None:
    """A manifest's `episode` cell: a number, or text that carries one (`EP03`, `第3集`)."""
    return _number_in(value.strip())


def place_in_series(sources: list[VideoSource]) -> None:
    """Fill `series` and `episode` in each source's metadata by the rules of the module docstring (in place)."""
    members: dict[str, list[tuple[VideoSource, int | None]]] = {}
    for source in sources:
        parent = Path(source.relative_path).parent
        # An absolute manifest path names its series by its last folder only.
        folder = parent.name if parent.is_absolute() else parent.as_posix()
        series = source.metadata.get("series", "").strip() or ("" if folder in ("", ".") else folder)
        if not series:
            continue
        given = source.metadata.get("episode", "")
        episode = _given_episode(given) if given.strip() else episode_number(Path(source.relative_path).name)
        if given.strip() and episode is None:
            log.warning("%s: episode %r is not a number", source.relative_path, given)
        members.setdefault(series, []).append((source, episode))
    for series, videos in members.items():
        numbers = [episode for _, episode in videos]
        unclear = [source.relative_path for source, episode in videos if episode is None or numbers.count(episode) > 1]
        if unclear:
            log.warning(
                "series %r: no single episode number in %s; its %d videos are numbered in file order",
                series, ", ".join(unclear), len(videos),
            )
            ordered = sorted(videos, key=lambda item: _natural_key(item[0].relative_path.rsplit(".", 1)[0]))
            videos = [(source, position) for position, (source, _) in enumerate(ordered, start=1)]
        for source, episode in videos:
            source.metadata["series"] = series
            source.metadata["episode"] = str(episode)


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
    place_in_series(sources)
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
