"""Decode-ahead queue: order, bounded look-ahead, errors and early exits."""

from __future__ import annotations

import threading
import time

import pytest
from motiflens.media.prefetch import prefetch


def test_items_come_in_order_with_and_without_a_thread() -> None:
    assert list(prefetch(range(100), depth=4)) == list(range(100))
    assert list(prefetch(range(5), depth=0)) == list(range(5))


def test_the_producer_never_runs_more_than_depth_ahead() -> None:
    produced = []

    def items():
        for number in range(50):
            produced.append(number)
            yield number

    consumed = 0
    for _ in prefetch(items(), depth=3):
        consumed += 1
        time.sleep(0.01)
        # queued (<= depth) + the one being put + the one just taken
        assert len(produced) - consumed <= 3 + 1
    assert consumed == 50


def test_a_producer_error_is_raised_in_the_consumer() -> None:
    def items():
        yield 1
        raise ValueError("decoder broke")

    got = []
    with pytest.raises(ValueError, match="decoder broke"):
        for item in prefetch(items(), depth=2):
            got.append(item)
    assert got == [1]


def test_leaving_early_stops_the_producer() -> None:
    before = threading.active_count()
    for item in prefetch(iter(range(10_000)), depth=2):
        if item == 3:
            break
    assert threading.active_count() == before
