"""Identity themes: label sentences by similarity to prototype lines, with confidences calibrated on the
definitions (plot events, which have a labelled dev set, use story/eventmodel.py instead).

Each theme has prototype lines and cue phrases (data/themes.yaml), and the definitions have neutral everyday
lines. A sentence's score for a label is its
best cosine to the label's prototypes minus its best cosine to the neutral lines: "closer to a vow than to
small talk". Nothing is hand-set: leave-one-out scores of the label's own prototypes are the positives,
the neutral lines and every other label's prototypes the negatives, and a class-balanced logistic fit
(Platt scaling) on them turns a score into a confidence; the threshold is where that confidence is 0.5.
A cue phrase alone gives `keyword_confidence`; both combine as independent evidence, 1 - (1 - a)(1 - b).

Only languages the text model understands are embedded (a card states them): with an English-only model a
Chinese line is read through its English subtitle, or labelled by cue phrases alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from motiflens.story.definitions import Definitions
from motiflens.story.lexicon import TermMatcher
from motiflens.story.text_model import TextEncoder
from motiflens.story.units import DialogueUnit

_NEWTON_STEPS = 50
_L2 = 1e-3


@dataclass(frozen=True)
class Calibration:
    """confidence = sigmoid(slope x (score - threshold)), fitted on the definitions."""

    threshold: float
    slope: float
    positives_mean: float
    negatives_mean: float
    balanced_accuracy: float

    def confidence(self, score: float) -> float:
        return float(1.0 / (1.0 + np.exp(-self.slope * (score - self.threshold))))

    def to_json(self) -> dict[str, float]:
        return {name: round(value, 4) for name, value in self.__dict__.items()}


@dataclass(frozen=True)
class LabelScore:
    label: str
    confidence: float
    #: Best cosine to the label's prototypes minus best cosine to the neutral lines.
    similarity: float | None
    embedding_confidence: float
    keyword_confidence: float
    terms: tuple[str, ...]


def calibrate(positives: np.ndarray, negatives: np.ndarray) -> Calibration | None:
    """Class-balanced logistic regression of label vs score (Newton's method, a little L2 for stability).
    None when the scores do not separate the classes in the right direction."""
    scores = np.concatenate([positives, negatives]).astype(np.float64)
    target = np.concatenate([np.ones(len(positives)), np.zeros(len(negatives))])
    weight = np.where(target == 1, 0.5 / len(positives), 0.5 / len(negatives))
    centre, scale = float(scores.mean()), float(scores.std()) or 1.0
    features = np.stack([(scores - centre) / scale, np.ones_like(scores)], axis=1)
    params = np.zeros(2)
    for _ in range(_NEWTON_STEPS):
        predicted = 1.0 / (1.0 + np.exp(-features @ params))
        gradient = features.T @ (weight * (predicted - target)) + _L2 * params * np.array([1.0, 0.0])
        hessian = (features * (weight * predicted * (1 - predicted))[:, None]).T @ features + _L2 * np.diag([1.0, 0.0])
        step = np.linalg.solve(hessian, gradient)
        params -= step
        if np.abs(step).max() < 1e-9:
            break
    slope = params[0] / scale
    if slope <= 0:
        return None
    threshold = centre - params[1] * scale / params[0]
    accuracy = 0.5 * (float(np.mean(positives >= threshold)) + float(np.mean(negatives < threshold)))
    return Calibration(
        threshold=float(threshold),
        slope=float(slope),
        positives_mean=float(positives.mean()),
        negatives_mean=float(negatives.mean()),
        balanced_accuracy=accuracy,
    )


class PrototypeClassifier:
    def __init__(
        self,
        definitions: Definitions,
        encoder: TextEncoder | None,
        keyword_confidence: float,
        min_substring_chars: int = 2,
    ) -> None:
        self.definitions = definitions
        self.encoder = encoder
        self.keyword_confidence = keyword_confidence
        self.labels = definitions.ids
        self.matchers = {
            label.id: TermMatcher(label.cues_en, label.cues_zh, min_substring_chars) for label in definitions.labels
        }
        self.prototypes: dict[str, np.ndarray] = {}
        self.neutral = np.zeros((0, 1), np.float32)
        self.calibrations: dict[str, Calibration] = {}
        if encoder is not None:
            self._fit(encoder)

    def _lines(self, encoder: TextEncoder, english: Sequence[str], chinese: Sequence[str]) -> list[str]:
        return [*(english if encoder.understands("en") else ()), *(chinese if encoder.understands("zh") else ())]

    def _fit(self, encoder: TextEncoder) -> None:
        definitions = self.definitions
        neutral_lines = self._lines(encoder, definitions.neutral_en, definitions.neutral_zh)
        for label in definitions.labels:
            lines = self._lines(encoder, label.prototypes_en, label.prototypes_zh)
            if len(lines) >= 2:
                self.prototypes[label.id] = encoder.encode(lines)
        if not self.prototypes or len(neutral_lines) < 2:
            return
        self.neutral = encoder.encode(neutral_lines)
        neutral_self = self.neutral @ self.neutral.T
        np.fill_diagonal(neutral_self, -np.inf)
        neutral_best = neutral_self.max(axis=1)  # each neutral line's closest other neutral line
        for label_id, vectors in self.prototypes.items():
            own = vectors @ vectors.T
            np.fill_diagonal(own, -np.inf)
            positives = own.max(axis=1) - (vectors @ self.neutral.T).max(axis=1)
            others = [v for name, v in self.prototypes.items() if name != label_id]
            negatives = [(self.neutral @ vectors.T).max(axis=1) - neutral_best]
            negatives += [(v @ vectors.T).max(axis=1) - (v @ self.neutral.T).max(axis=1) for v in others]
            calibration = calibrate(positives, np.concatenate(negatives))
            if calibration is not None:
                self.calibrations[label_id] = calibration

    def calibration_report(self) -> dict[str, dict[str, float]]:
        return {label: calibration.to_json() for label, calibration in sorted(self.calibrations.items())}

    def _embeddable(self, unit: DialogueUnit) -> str | None:
        if self.encoder is None or not self.calibrations:
            return None
        if self.encoder.understands(unit.language) and not (unit.language == "zh" and not unit.chinese):
            return unit.text
        return unit.english if self.encoder.understands("en") else None

    def score(self, units: Sequence[DialogueUnit]) -> list[list[LabelScore]]:
        """Every label's score for every unit, labels in definition order."""
        texts = [self._embeddable(unit) for unit in units]
        embedded = [text for text in texts if text]
        vectors = dict(zip(embedded, self.encoder.encode(embedded), strict=True)) if self.encoder and embedded else {}
        results = []
        for unit, text in zip(units, texts, strict=True):
            readings = [unit.text] + ([unit.text_en] if unit.text_en and unit.text_en != unit.text else [])
            row = []
            for label in self.labels:
                terms = tuple(sorted({hit.term for reading in readings for hit in self.matchers[label].find(reading)}))
                keyword = self.keyword_confidence if terms else 0.0
                similarity, embedding = None, 0.0
                if text and label in self.calibrations:
                    vector = vectors[text]
                    similarity = float((self.prototypes[label] @ vector).max() - (self.neutral @ vector).max())
                    embedding = self.calibrations[label].confidence(similarity)
                confidence = 1.0 - (1.0 - keyword) * (1.0 - embedding)
                row.append(LabelScore(label, confidence, similarity, embedding, keyword, terms))
            results.append(row)
        return results
