"""Frame scores → spans: a centred moving average in time, then hysteresis and a minimum duration."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def moving_average(times: np.ndarray, values: np.ndarray, window_seconds: float) -> np.ndarray:
    """Mean of the values whose time lies within ±window/2 of each frame; rows are frames.

    Works on uneven sampling (shot starts are sampled too), unlike a fixed-length kernel.
    """
    if window_seconds <= 0 or len(times) < 2:
        return values.astype(np.float64)
    half = window_seconds / 2 + 1e-9
    lower = np.searchsorted(times, times - half, side="left")
    upper = np.searchsorted(times, times + half, side="right")
    cumulative = np.concatenate([np.zeros((1, *values.shape[1:])), np.cumsum(values, axis=0, dtype=np.float64)])
    counts = (upper - lower).reshape(-1, *([1] * (values.ndim - 1)))
    return (cumulative[upper] - cumulative[lower]) / counts


def frame_spans(times: np.ndarray, duration_seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """The stretch of video each sample stands for: from the midpoint with its predecessor to the one with its
    successor. The first reaches back to 0 and the last on to the end of the video when those are at most one
    sampling step away (a symbol in every sample is on screen for the whole video), else half a step."""
    if len(times) == 0:
        return np.zeros(0), np.zeros(0)
    end_of_video = max(duration_seconds, float(times[-1]))
    if len(times) == 1:
        return np.array([0.0]), np.array([end_of_video])
    first_step, last_step = times[1] - times[0], times[-1] - times[-2]
    first = 0.0 if times[0] <= first_step else times[0] - first_step / 2
    last = end_of_video if end_of_video - times[-1] <= last_step else times[-1] + last_step / 2
    middles = (times[1:] + times[:-1]) / 2
    return np.concatenate([[first], middles]), np.concatenate([middles, [last]])


@dataclass(frozen=True)
class Span:
    """Frames first..last (inclusive) in which a symbol is on."""

    first: int
    last: int


def hysteresis(values: np.ndarray, enter: float, leave: float) -> list[Span]:
    """Spans that start where `values` reaches `enter` and last while they stay at or above `leave`."""
    if leave > enter:
        raise ValueError(f"the leave threshold {leave} must not exceed the enter threshold {enter}")
    spans: list[Span] = []
    first: int | None = None
    for index, value in enumerate(values):
        if first is None and value >= enter:
            first = index
        elif first is not None and value < leave:
            spans.append(Span(first, index - 1))
            first = None
    if first is not None:
        spans.append(Span(first, len(values) - 1))
    return spans
