"""Non-verbal cues of a story beat: loudness peaks in the audio and bursts of fast cutting.

Micro dramas mark their beats loudly: a music sting, a slap, a shout, a flurry of reaction cuts. Neither
cue says which beat it is, so they only strengthen (and may move the start of) events that the
dialogue found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from motiflens.core.records import Shot

_SILENT_RMS = 1e-4
_MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class Cue:
    """A moment (audio) or a span (cut-rate burst) and how strong it is, in [0.5, 1]."""

    kind: str
    start_seconds: float
    end_seconds: float
    strength: float

    def near(self, start: float, end: float, window: float) -> bool:
        return self.start_seconds <= end + window and self.end_seconds >= start - window


def _strength(excess: float, scale: float) -> float:
    """0.5 at the detection limit, rising to 1 at twice of it."""
    return float(np.clip(0.5 + 0.5 * excess / scale, 0.5, 1.0))


def audio_peaks(samples: np.ndarray, sample_rate: int, frame_seconds: float, peak_z: float) -> list[Cue]:
    """Frames whose loudness (dB RMS) stands `peak_z` robust deviations above the episode's median;
    neighbouring loud frames form one peak, placed at its loudest frame."""
    frame = max(1, round(frame_seconds * sample_rate))
    count = len(samples) // frame
    if count < 3:
        return []
    rms = np.sqrt(np.mean(np.square(samples[: count * frame].reshape(count, frame), dtype=np.float64), axis=1))
    audible = rms > _SILENT_RMS
    if audible.sum() < 3:
        return []
    level = 20 * np.log10(np.maximum(rms, _SILENT_RMS))
    median = float(np.median(level[audible]))
    spread = _MAD_TO_SIGMA * float(np.median(np.abs(level[audible] - median)))
    if spread <= 0:
        return []
    z = (level - median) / spread
    loud = np.flatnonzero(z >= peak_z)
    peaks: list[Cue] = []
    for run in np.split(loud, np.flatnonzero(np.diff(loud) > 1) + 1) if len(loud) else []:
        top = int(run[np.argmax(z[run])])
        peaks.append(
            Cue(
                "audio",
                start_seconds=run[0] * frame / sample_rate,
                end_seconds=(run[-1] + 1) * frame / sample_rate,
                strength=_strength(float(z[top]) - peak_z, peak_z),
            )
        )
    return peaks


def cut_rate_bursts(
    shots: Sequence[Shot], duration_seconds: float, window_seconds: float, factor: float, min_cuts: int
) -> list[Cue]:
    """Spans where at least `min_cuts` cuts fall within `window_seconds` and the local cut rate is at least
    `factor` times the episode's."""
    cuts = np.array(sorted(shot.start_seconds for shot in shots if shot.start_seconds > 0))
    if len(cuts) < min_cuts or duration_seconds <= 0:
        return []
    episode_rate = len(cuts) / duration_seconds
    spans: list[tuple[float, float, float]] = []
    for index, first in enumerate(cuts):
        inside = cuts[index : np.searchsorted(cuts, first + window_seconds, side="right")]
        local_rate = len(inside) / window_seconds
        if len(inside) >= min_cuts and local_rate >= factor * episode_rate:
            spans.append((float(first), float(inside[-1]), local_rate / episode_rate))
    bursts: list[Cue] = []
    for start, end, ratio in spans:
        strength = _strength(ratio - factor, factor)
        if bursts and start <= bursts[-1].end_seconds:
            last = bursts[-1]
            bursts[-1] = Cue("cut_rate", last.start_seconds, max(end, last.end_seconds), max(strength, last.strength))
        else:
            bursts.append(Cue("cut_rate", start, end, strength))
    return bursts
