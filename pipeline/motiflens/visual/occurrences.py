"""Per-frame symbol scores → occurrences (start, end, peak, mean, winning tile)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motiflens.core.config import VisualConfig
from motiflens.core.taxonomy import Taxonomy
from motiflens.visual.smoothing import frame_spans, hysteresis, moving_average


@dataclass(frozen=True)
class Detection:
    """One occurrence before it becomes a record. Peak and mean use raw frame scores (what the model said);
    the decision to start and end uses the smoothed ones."""

    symbol_index: int
    first_frame: int
    last_frame: int
    peak_frame: int
    start_seconds: float
    end_seconds: float
    peak_seconds: float
    peak_score: float
    mean_score: float
    peak_tile: int

    @property
    def duration_seconds(self) -> float:
        return self.end_seconds - self.start_seconds


def thresholds(taxonomy: Taxonomy, default: float) -> np.ndarray:
    """Enter threshold per symbol: the taxonomy's (or a calibration overlay's), else the config default."""
    return np.array([s.threshold if s.threshold is not None else default for s in taxonomy.symbols])


def detect(
    times: np.ndarray,
    scores: np.ndarray,
    winners: np.ndarray,
    enter: np.ndarray,
    duration_seconds: float,
    settings: VisualConfig,
) -> list[Detection]:
    """`scores` and `winners` are (frames, symbols): pooled presence and the tile that gave it."""
    if len(times) == 0:
        return []
    smoothed = moving_average(times, scores, settings.smoothing_seconds)
    starts, ends = frame_spans(times, duration_seconds)
    found = []
    for symbol in range(scores.shape[1]):
        leave = max(0.0, enter[symbol] - settings.hysteresis)
        for span in hysteresis(smoothed[:, symbol], enter[symbol], leave):
            start, end = float(starts[span.first]), float(ends[span.last])
            if end - start < settings.min_duration_seconds:
                continue
            window = scores[span.first : span.last + 1, symbol]
            peak = span.first + int(window.argmax())
            found.append(
                Detection(
                    symbol_index=symbol,
                    first_frame=span.first,
                    last_frame=span.last,
                    peak_frame=peak,
                    start_seconds=start,
                    end_seconds=end,
                    peak_seconds=float(times[peak]),
                    peak_score=float(scores[peak, symbol]),
                    mean_score=float(window.mean()),
                    peak_tile=int(winners[peak, symbol]),
                )
            )
    return sorted(found, key=lambda item: (item.start_seconds, item.symbol_index))


def prominence_weight(detection: Detection, prominence_seconds: float) -> float:
    """Provisional narrative weight from screen prominence only: how sure and how long (until roles are aligned)."""
    return float(np.clip(detection.mean_score * min(1.0, detection.duration_seconds / prominence_seconds), 0, 1))
