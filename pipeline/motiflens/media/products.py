"""Frame products: the frames one consumer asked for in a shared decode pass, kept on disk until its stage runs.

A product is `frames/<name>.u8` (the frames' RGB bytes, back to back, in arrival order) and `frames/<name>.json`
(shape, scale, and per frame its time and byte offset, sorted by time; the pass's warnings or error). The index
is written last, atomically, so a pass killed half-way leaves no product and the stage decodes on its own.
Reading maps the file and copies one frame at a time: memory stays one frame per reader. A stage deletes its
product once read (`discard`), so the disk holds at most the products of videos between two stages.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from motiflens.core.atomic import write_json
from motiflens.core.errors import DecodeError
from motiflens.core.records import SampledFrame, VideoInfo
from motiflens.media.decode import FrameSink

FOLDER = "frames"


def product_paths(workdir: Path, name: str) -> tuple[Path, Path]:
    folder = workdir / FOLDER
    return folder / f"{name}.u8", folder / f"{name}.json"


def discard(workdir: Path, name: str) -> None:
    """Delete a product (and the folder once empty)."""
    for path in product_paths(workdir, name):
        path.unlink(missing_ok=True)
    folder = workdir / FOLDER
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def discard_all(workdir: Path) -> None:
    """Delete leftovers of an earlier run (a product whose stage later found a valid checkpoint)."""
    folder = workdir / FOLDER
    if folder.is_dir():
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()


class ProductSink(FrameSink):
    """Writes the frames it takes to a product; `add` takes extra frames that arrive later (shot starts)."""

    def __init__(self, name: str, times: list[float], max_side: int, info: VideoInfo, workdir: Path) -> None:
        super().__init__(name, times, max_side, info)
        self.data_path, self.index_path = product_paths(workdir, name)
        self.data_path.parent.mkdir(parents=True, exist_ok=True)
        self.index_path.unlink(missing_ok=True)
        self.file = self.data_path.open("wb")
        self.offsets: dict[float, int] = {}
        self.shape: tuple[int, ...] | None = None
        self.complete = True

    def take(self, frame: SampledFrame, source: Any) -> None:
        self._write(frame.time_seconds, frame.image)

    def add(self, time_seconds: float, source: Any) -> None:
        """A frame the pass decoded for another sink (a shot's first frame), at this sink's size."""
        if time_seconds not in self.offsets:
            self._write(time_seconds, self.geometry.convert(source))

    def _write(self, time_seconds: float, image: np.ndarray) -> None:
        if time_seconds in self.offsets:  # one frame reached by two targets, or a grid frame that starts a shot
            return
        self.shape = image.shape
        self.offsets[time_seconds] = self.file.tell()
        self.file.write(np.ascontiguousarray(image).tobytes())

    def abandon(self) -> None:
        self.file.close()
        self.data_path.unlink(missing_ok=True)

    def finish(self) -> None:
        self.file.close()
        times = sorted(self.offsets)
        write_json(
            self.index_path,
            {
                "shape": list(self.shape) if self.shape else None,
                "scale": self.geometry.scale,
                "times": times,
                "offsets": [self.offsets[t] for t in times],
                "warnings": self.warnings,
                "error": str(self.error) if self.error is not None else None,
                "complete": self.complete,
                "note": {},
            },
        )


@dataclass
class FrameProduct:
    """A finished product, read back as SampledFrames in time order (indices 0, 1, …)."""

    data_path: Path
    shape: tuple[int, ...] | None
    scale: float
    times: list[float]
    offsets: list[int]
    warnings: list[str]
    error: str | None
    #: What a rewrite left there instead of whole frames (e.g. OCR's regions), for the reader to check.
    note: dict[str, Any]

    @classmethod
    def load(cls, workdir: Path, name: str) -> FrameProduct | None:
        """The product, or None when there is none usable (no pass made it, or it lacks frames it needs)."""
        data_path, index_path = product_paths(workdir, name)
        try:
            index = json.loads(index_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not index.get("complete") or not data_path.is_file():
            return None
        shape = tuple(index["shape"]) if index["shape"] else None
        return cls(
            data_path, shape, index["scale"], index["times"], index["offsets"], index["warnings"], index["error"],
            index.get("note", {}),
        )

    def check(self) -> None:
        """Raise the pass's decoding error for this consumer, as its own reader would have."""
        if self.error is not None:
            raise DecodeError(self.error)

    def frames(self) -> Iterator[SampledFrame]:
        self.check()
        if not self.times or self.shape is None:
            return
        size = int(np.prod(self.shape))
        data = np.memmap(self.data_path, dtype=np.uint8, mode="r")
        try:
            for index, (time_seconds, offset) in enumerate(zip(self.times, self.offsets, strict=True)):
                image = np.array(data[offset : offset + size]).reshape(self.shape)
                yield SampledFrame(index=index, time_seconds=time_seconds, image=image, scale=self.scale)
        finally:
            del data


def shrink(workdir: Path, name: str, keep: Callable[[SampledFrame], np.ndarray], note: dict[str, Any]) -> None:
    """Replace a product's frames by the part its stage will read (`keep`), frame by frame, and say so in `note`:
    a product waits on disk until its stage runs, so it should hold no more than that stage reads."""
    product = FrameProduct.load(workdir, name)
    if product is None or product.error is not None:
        return
    data_path, index_path = product_paths(workdir, name)
    partial = data_path.with_name(data_path.name + ".part")
    offsets, shape = [], None
    with partial.open("wb") as file:
        for frame in product.frames():
            image = np.ascontiguousarray(keep(frame))
            shape = image.shape
            offsets.append(file.tell())
            file.write(image.tobytes())
    os.replace(partial, data_path)
    write_json(
        index_path,
        {
            "shape": list(shape) if shape else None,
            "scale": product.scale,
            "times": product.times,
            "offsets": offsets,
            "warnings": product.warnings,
            "error": None,
            "complete": True,
            "note": note,
        },
    )
