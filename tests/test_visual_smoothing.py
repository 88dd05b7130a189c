"""Frame scores → occurrences: moving average, hysteresis, minimum duration, spans (synthetic sequences)."""

import numpy as np
import pytest
from motiflens.core.config import VisualConfig
from motiflens.visual.occurrences import detect, prominence_weight
from motiflens.visual.smoothing import Span, frame_spans, hysteresis, moving_average


def test_moving_average_is_centred_in_time_and_handles_uneven_sampling() -> None:
    times = np.array([0.0, 1.0, 2.0, 2.5, 4.0])
    values = np.array([0.0, 3.0, 6.0, 9.0, 12.0])
    smoothed = moving_average(times, values, window_seconds=2.0)
    # Each frame averages the frames within ±1 s of it.
    assert smoothed == pytest.approx([1.5, 3.0, 6.0, 7.5, 12.0])
    assert moving_average(times, values, 0.0) == pytest.approx(values)
    both = moving_average(times, np.stack([values, -values], axis=1), 2.0)
    assert both[:, 1] == pytest.approx(-smoothed)


def test_hysteresis_enters_high_and_leaves_low() -> None:
    values = np.array([0.1, 0.6, 0.45, 0.42, 0.3, 0.55, 0.2, 0.7])
    assert hysteresis(values, enter=0.5, leave=0.4) == [Span(1, 3), Span(5, 5), Span(7, 7)]
    # Without hysteresis the dip to 0.45 would split the first span.
    assert hysteresis(values, enter=0.5, leave=0.5) == [Span(1, 1), Span(5, 5), Span(7, 7)]
    with pytest.raises(ValueError, match="must not exceed"):
        hysteresis(values, enter=0.4, leave=0.5)


def test_frame_spans_tile_the_video() -> None:
    starts, ends = frame_spans(np.array([0.0, 1.0, 2.0, 3.0]), duration_seconds=4.0)
    assert starts == pytest.approx([0.0, 0.5, 1.5, 2.5])
    assert ends == pytest.approx([0.5, 1.5, 2.5, 4.0])
    # A sample far from the end stands for half a step only.
    _, ends = frame_spans(np.array([0.0, 1.0]), duration_seconds=10.0)
    assert ends[-1] == pytest.approx(1.5)


def settings(**changes: float) -> VisualConfig:
    defaults = {"threshold": 0.5, "hysteresis": 0.1, "smoothing_seconds": 0.0, "min_duration_seconds": 2.0}
    return VisualConfig(**{**defaults, **changes})


def test_detect_turns_a_flickering_sequence_into_one_occurrence_and_drops_blips() -> None:
    times = np.arange(12, dtype=float)
    present = [0.1, 0.7, 0.8, 0.45, 0.9, 0.6, 0.2, 0.1, 0.8, 0.1, 0.1, 0.1]  # 1-5 on; 8 a blip
    absent = [0.1] * 12
    scores = np.array([present, absent]).T
    winners = np.zeros_like(scores, dtype=int)
    winners[4, 0] = 2
    found = detect(times, scores, winners, np.array([0.5, 0.5]), 12.0, settings())
    assert len(found) == 1
    occurrence = found[0]
    assert occurrence.symbol_index == 0
    assert (occurrence.start_seconds, occurrence.end_seconds) == (0.5, 5.5)
    assert (occurrence.peak_seconds, occurrence.peak_score, occurrence.peak_tile) == (4.0, 0.9, 2)
    assert occurrence.mean_score == pytest.approx(np.mean([0.7, 0.8, 0.45, 0.9, 0.6]))
    assert prominence_weight(occurrence, prominence_seconds=10.0) == pytest.approx(occurrence.mean_score * 0.5)


def test_smoothing_bridges_a_one_frame_dropout_and_per_symbol_thresholds_apply() -> None:
    times = np.arange(8, dtype=float)
    values = np.array([0.0, 0.9, 0.9, 0.0, 0.9, 0.9, 0.0, 0.0])
    scores = np.stack([values, values], axis=1)
    winners = np.zeros_like(scores, dtype=int)
    raw = detect(times, scores, winners, np.array([0.5, 0.5]), 8.0, settings(hysteresis=0.0))
    assert [(d.start_seconds, d.end_seconds) for d in raw if d.symbol_index == 0] == [(0.5, 2.5), (3.5, 5.5)]
    smooth = detect(times, scores, winners, np.array([0.5, 0.95]), 8.0,
                    settings(smoothing_seconds=2.0, hysteresis=0.15))
    # Smoothed: .45 .6 .6 .6 .6 .6 .3 0 → enters at frame 1, leaves below .35 at frame 6: one span for
    # symbol 0; symbol 1's own threshold (0.95) is never reached.
    assert [(d.symbol_index, d.start_seconds, d.end_seconds) for d in smooth] == [(0, 0.5, 5.5)]
