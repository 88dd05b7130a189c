"""Decode ahead: a bounded queue filled by a worker thread while the caller runs its model.

FFmpeg (PyAV), ONNX Runtime, CTranslate2 and torch release the GIL in their heavy loops, so decoding the
next frames in a thread overlaps with scoring the current ones. The queue is bounded, so memory stays flat
however long the video: at most `depth` decoded frames wait.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetch(items: Iterable[T], depth: int = 8) -> Iterator[T]:
    """Yield `items` in order while a thread produces up to `depth` ahead; producer errors re-raise here.

    Leaving the loop early (break, exception) stops the producer: it never blocks on a full queue forever.
    """
    if depth <= 0:
        yield from items
        return
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as error:  # handed to the consumer, which raises it in its own thread
            put(_Failure(error))
        finally:
            # A generator left early is closed in the thread that ran it (a decoder's container closes there).
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="motiflens-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()
