"""Which language each line speaks: first the episode's languages, then each line's.

Whisper detects the language of long speech well and that of a short line poorly: a one-second Mandarin
line between English ones comes out as Thai or Japanese, with English ranked above Chinese. So the
episode is heard first, on windows of its speech spread over the file: its dominant language, and the
languages it speaks (detected surely on a line or a window). A line whose own detection is sure keeps
it; an unsure line takes the episode language whose *detection profile* (how Whisper answers on this
episode's surely detected speech of that language) makes its own answer most likely. "Thai 0.48,
English 0.23, Chinese 0.08" is then read as Mandarin when the episode's Mandarin lines are answered with
Asian languages besides Chinese and its English lines almost never are.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Whisper hears 30 s at a time: a longer window adds nothing to one detection.
WINDOW_SECONDS = 30.0
#: Share of a profile spread evenly over every language, so that no answer is impossible under it.
SMOOTHING = 0.01


@dataclass(frozen=True)
class Detection:
    """Whisper's language probabilities for some speech: every language it knows, summing to 1."""

    seconds: float
    probabilities: Mapping[str, float]

    @property
    def top(self) -> tuple[str, float]:
        language = max(self.probabilities, key=lambda name: self.probabilities[name])
        return language, self.probabilities[language]

    def is_sure(self, allowed: Collection[str], threshold: float) -> bool:
        """Judged over all languages, not renormalised over the allowed ones: a line heard as Thai
        is unsure even where only Chinese and English are allowed."""
        language, probability = self.top
        return probability >= threshold and (not allowed or language in allowed)


@dataclass(frozen=True)
class EpisodeLanguages:
    """The languages an episode speaks, each with the detection profile its sure speech showed."""

    dominant: str
    shares: dict[str, float]  # the windows' probability mass per allowed language, weighted by seconds
    profiles: dict[str, dict[str, float]]  # spoken language → smoothed mean detection of its sure speech

    def match(self, detection: Detection) -> tuple[str, float]:
        """The spoken language under whose profile `detection` is most likely (its cross-entropy with
        the profile is lowest), and that language's posterior among the spoken ones. Ties: dominant."""
        scores = {language: log_likelihood(detection, profile) for language, profile in self.profiles.items()}
        best = max(scores, key=lambda language: (scores[language], language == self.dominant))
        total = sum(math.exp(score - scores[best]) for score in scores.values())
        return best, 1.0 / total

    def to_json(self) -> dict[str, Any]:
        return {
            "dominant": self.dominant,
            "spoken": sorted(self.profiles),
            "window_shares": {language: round(share, 3) for language, share in sorted(self.shares.items())},
        }


def log_likelihood(detection: Detection, profile: Mapping[str, float]) -> float:
    """Expected log-probability of the detection's answers under a profile (minus their cross-entropy);
    a language the profile never saw counts as its least likely one."""
    floor = min(profile.values())
    return sum(p * math.log(profile.get(name, floor)) for name, p in detection.probabilities.items())


def speech_windows(regions: Sequence[tuple[float, float]], count: int) -> list[list[tuple[float, float]]]:
    """Consecutive speech regions packed into windows of at most WINDOW_SECONDS of speech (pauses left
    out), then at most `count` of them evenly spread from the first to the last."""
    windows: list[list[tuple[float, float]]] = []
    seconds = 0.0
    for start, end in regions:
        if not windows or seconds + (end - start) > WINDOW_SECONDS:
            windows.append([])
            seconds = 0.0
        windows[-1].append((start, end))
        seconds += end - start
    if len(windows) <= count:
        return windows
    step = (len(windows) - 1) / max(count - 1, 1)
    return [windows[round(index * step)] for index in range(count)]


def window_shares(windows: Sequence[Detection], allowed: Collection[str]) -> dict[str, float]:
    """Each allowed language's share of the windows' probability mass, weighted by their seconds."""
    mass: dict[str, float] = {}
    for window in windows:
        for language, probability in window.probabilities.items():
            if not allowed or language in allowed:
                mass[language] = mass.get(language, 0.0) + window.seconds * probability
    total = sum(mass.values())
    return {language: value / total for language, value in mass.items()} if total > 0 else mass


def profile(detections: Sequence[Detection], names: Collection[str]) -> dict[str, float]:
    """Seconds-weighted mean of the detections over `names`, smoothed."""
    seconds = sum(detection.seconds for detection in detections)
    return {
        name: (1 - SMOOTHING) * sum(d.seconds * d.probabilities.get(name, 0.0) for d in detections) / seconds
        + SMOOTHING / len(names)
        for name in names
    }


def episode_languages(
    windows: Sequence[Detection], lines: Sequence[Detection], allowed: Collection[str], sure: float
) -> EpisodeLanguages:
    """Dominant: the largest window share. Spoken: the dominant and every allowed language detected
    surely on a line or a window. A language's profile comes from its sure lines (one language each),
    else its sure windows (which may mix in other lines), else it is that language alone."""
    shares = window_shares(windows, allowed)
    dominant = max(shares, key=lambda language: shares[language])
    names = {name for detection in [*windows, *lines] for name in detection.probabilities}
    sure_lines = [line for line in lines if line.is_sure(allowed, sure)]
    sure_windows = [window for window in windows if window.is_sure(allowed, sure)]
    spoken = {dominant} | {detection.top[0] for detection in [*sure_lines, *sure_windows]}
    profiles = {}
    for language in spoken:
        evidence = [line for line in sure_lines if line.top[0] == language] or [
            window for window in sure_windows if window.top[0] == language
        ]
        profiles[language] = profile(evidence or [Detection(1.0, {language: 1.0})], names | {language})
    return EpisodeLanguages(dominant=dominant, shares=shares, profiles=profiles)


def line_language(
    line: Detection, episode: EpisodeLanguages, allowed: Collection[str], sure: float
) -> tuple[str, float]:
    """A sure line keeps its own language (an English reply in Mandarin dialogue); an unsure one speaks
    the episode language that best explains its detection."""
    return line.top if line.is_sure(allowed, sure) else episode.match(line)
