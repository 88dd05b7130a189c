"""Identity themes per transcript segment: the best calibrated confidence among its sentences."""

from __future__ import annotations

from collections.abc import Sequence

from motiflens.core.config import ThemesConfig
from motiflens.core.records import ThemeScore
from motiflens.story.classifier import PrototypeClassifier
from motiflens.story.units import DialogueUnit


class ThemeScorer:
    def __init__(self, classifier: PrototypeClassifier, settings: ThemesConfig) -> None:
        self.classifier = classifier
        self.settings = settings

    def score(self, units: Sequence[DialogueUnit]) -> list[ThemeScore]:
        best: dict[tuple[str, str], ThemeScore] = {}
        for unit, row in zip(units, self.classifier.score(units), strict=True):
            for label in row:
                if label.confidence < self.settings.min_confidence:
                    continue
                key = (unit.segment_id, label.label)
                previous = best.get(key)
                if previous is None or label.confidence > previous.score:
                    segment = unit.segment
                    best[key] = ThemeScore(
                        label.label, unit.segment_id, label.confidence, segment.start_seconds, segment.end_seconds
                    )
        return sorted(best.values(), key=lambda t: (t.start_seconds, t.segment_id, t.theme))
