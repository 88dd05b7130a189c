"""Plot-event typing fitted on a labelled dev set: per-type features and the sentence embedding, one
multinomial logistic model over the ten types and `none`, one threshold.

Features of a line for each type (`FEATURES`):
- similarity: best cosine to the type's prototype lines minus best cosine to the neutral lines
  (data/events.yaml; the multilingual encoder reads Chinese lines in Chinese);
- counter: best cosine to the type's counter-examples (lines that look like it but are not) minus the best
  cosine to its prototypes;
- cue / negated_cue: one of the type's cue phrases occurs outside / only inside the scope of a negation;
- negation, question: the line negates something / asks;
- reply_refuses: the next line of the exchange only turns it down ("休想。", "Not a chance.").
The line's own sentence embedding is appended. A class-balanced multinomial logistic regression (L2,
`REGULARISATION`) turns them into probabilities of the ten types and of `none`; a line carries its most likely
type when that is not `none` and its probability reaches `threshold`, chosen by inner cross-validation on the
training lines. Everything is fitted on `data/eval/event_lines.yaml`, whose lines are never prototypes;
`motiflens fit-story` reports per-type precision, recall and F1 on held-out folds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from motiflens.core.agreement import prf
from motiflens.story.definitions import Definitions
from motiflens.story.devset import NO_EVENT, DevLine, EventLines
from motiflens.story.lexicon import TermMatcher
from motiflens.story.polarity import is_question, is_refusal, negated, negations
from motiflens.story.text_model import TextEncoder

FEATURES = ("similarity", "counter", "cue", "negated_cue", "negation", "question", "reply_refuses")
#: Inverse L2 strength on standardised features (scikit-learn's C): ~20 lines per type and ~600 features need
#: a strong ridge; chosen by cross-validation on the dev set.
REGULARISATION = 0.003
INNER_FOLDS = 4
THRESHOLD_GRID = tuple(round(value, 2) for value in np.arange(0.10, 0.91, 0.01))


@dataclass(frozen=True)
class LineInput:
    """What the classifier reads of a line: its text, another reading (an English subtitle row) for cue
    phrases, and the reply that follows it in the same exchange."""

    text: str
    language: str | None
    text_en: str | None = None
    reply: str | None = None


@dataclass(frozen=True)
class LineFeatures:
    values: np.ndarray  # (types, features)
    terms: tuple[tuple[str, ...], ...]  # cue phrases found per type, not negated
    negated_terms: tuple[tuple[str, ...], ...]
    embedding: np.ndarray  # zeros when the encoder cannot read the line
    #: Per type: why the polarity layer rules the type out for this line, or None.
    vetoes: tuple[str | None, ...] = ()

    @property
    def vector(self) -> np.ndarray:
        return np.concatenate([self.values.ravel(), self.embedding])


class FeatureExtractor:
    def __init__(self, definitions: Definitions, encoder: TextEncoder, min_substring_chars: int = 2) -> None:
        self.definitions = definitions
        self.encoder = encoder
        self.labels = definitions.ids
        self.matchers = [TermMatcher(label.cues_en, label.cues_zh, min_substring_chars) for label in definitions.labels]
        self.prototypes = [encoder.encode([*label.prototypes_en, *label.prototypes_zh]) for label in definitions.labels]
        self.counters = [
            encoder.encode([*label.counter_en, *label.counter_zh]) if (label.counter_en or label.counter_zh) else None
            for label in definitions.labels
        ]
        self.neutral = encoder.encode([*definitions.neutral_en, *definitions.neutral_zh])

    def _reading(self, line: LineInput) -> str | None:
        if self.encoder.understands(line.language):
            return line.text
        if line.text_en and self.encoder.understands("en"):
            return line.text_en
        return None

    def _cues(self, index: int, line: LineInput) -> tuple[tuple[str, ...], tuple[str, ...]]:
        plain: set[str] = set()
        negated_only: set[str] = set()
        for text in (line.text, line.text_en):
            if not text:
                continue
            scopes = negations(text)
            for hit in self.matchers[index].find(text):
                (negated_only if negated(scopes, hit.begin, hit.end) else plain).add(hit.term)
        return tuple(sorted(plain)), tuple(sorted(negated_only - plain))

    def _veto(self, index: int, line: LineInput, plain: tuple[str, ...], negated_only: tuple[str, ...]) -> str | None:
        """The polarity layer: a negatable type whose cues are all negated, or a type that needs acceptance whose
        reply turns it down, is not this line's beat."""
        label = self.definitions.labels[index]
        if label.negatable and negated_only and not plain:
            return f"{label.id} negated: {', '.join(negated_only)}"
        if label.needs_acceptance and line.reply:
            reply_plain, reply_negated = self._cues(index, LineInput(line.reply, line.language))
            if is_refusal(line.reply) or (reply_negated and not reply_plain):
                return f"{label.id} refused by the reply: {line.reply}"
        return None

    def extract(self, lines: Sequence[LineInput]) -> list[LineFeatures]:
        readings = [self._reading(line) for line in lines]
        texts = [text for text in readings if text]
        vectors = dict(zip(texts, self.encoder.encode(texts), strict=True)) if texts else {}
        found = []
        for line, reading in zip(lines, readings, strict=True):
            line_flags = (
                1.0 if negations(line.text) else 0.0,
                1.0 if is_question(line.text) else 0.0,
                1.0 if line.reply and is_refusal(line.reply) else 0.0,
            )
            values = np.zeros((len(self.labels), len(FEATURES)), dtype=np.float64)
            terms, negated_terms = [], []
            vector = vectors.get(reading) if reading else None
            neutral_best = float((self.neutral @ vector).max()) if vector is not None else 0.0
            for index in range(len(self.labels)):
                plain, negated_only = self._cues(index, line)
                terms.append(plain)
                negated_terms.append(negated_only)
                if vector is not None:
                    best = float((self.prototypes[index] @ vector).max())
                    values[index, 0] = best - neutral_best
                    counters = self.counters[index]
                    values[index, 1] = float((counters @ vector).max()) - best if counters is not None else 0.0
                values[index, 2] = 1.0 if plain else 0.0
                values[index, 3] = 1.0 if negated_only else 0.0
                values[index, 4:7] = line_flags
            embedding = vector if vector is not None else np.zeros(self.encoder.dimensions, np.float32)
            vetoes = tuple(
                self._veto(index, line, terms[index], negated_terms[index]) for index in range(len(self.labels))
            )
            found.append(LineFeatures(values, tuple(terms), tuple(negated_terms), embedding.astype(np.float64), vetoes))
        return found


@dataclass(frozen=True)
class EventModel:
    labels: tuple[str, ...]
    estimator: Any
    threshold: float

    @property
    def classes(self) -> tuple[str, ...]:
        return (*self.labels, NO_EVENT)

    def probabilities(self, features: Sequence[LineFeatures]) -> np.ndarray:
        """(lines, types + 1) probabilities, `none` last."""
        if not features:
            return np.zeros((0, len(self.classes)))
        found = self.estimator.predict_proba(np.stack([item.vector for item in features]))
        order = [list(self.estimator.classes_).index(name) for name in self.classes]
        found = found[:, order]
        for row, item in zip(found, features, strict=True):
            ruled_out = [index for index, veto in enumerate(item.vetoes) if veto is not None]
            if ruled_out:
                row[ruled_out] = 0.0
                row /= row.sum()
        return found

    def predict(self, features: Sequence[LineFeatures], threshold: float | None = None) -> list[str]:
        cut = self.threshold if threshold is None else threshold
        return [_decide(row, self.classes, cut) for row in self.probabilities(features)]

    def to_json(self) -> dict[str, object]:
        """Threshold and, per type, the weights of its own hand-made features (the embedding's are left out)."""
        coefficients = self.estimator.coef_
        rows = {name: coefficients[i] for i, name in enumerate(self.estimator.classes_)}
        width = len(FEATURES)
        return {
            "threshold": self.threshold,
            "types": {
                label: {
                    name: round(float(value), 4)
                    for name, value in zip(FEATURES, rows[label][index * width : (index + 1) * width], strict=True)
                }
                for index, label in enumerate(self.labels)
            },
        }


def _decide(row: np.ndarray, classes: Sequence[str], threshold: float) -> str:
    best = int(np.argmax(row))
    return classes[best] if classes[best] != NO_EVENT and row[best] >= threshold else NO_EVENT


def per_type_scores(
    gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support per type (`none` is the absence of an event, not a type)."""
    scores = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p != label)
        precision, recall, f1 = prf(tp, fp, fn)
        scores[label] = {"precision": precision or 0.0, "recall": recall or 0.0, "f1": f1 or 0.0, "support": tp + fn}
    return scores


def macro_f1(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    scores = per_type_scores(gold, predicted, labels)
    return float(np.mean([scores[label]["f1"] for label in labels]))


def _estimator(features: Sequence[LineFeatures], gold: Sequence[str]) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(
        StandardScaler(), LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=5000)
    )
    model.fit(np.stack([item.vector for item in features]), list(gold))
    estimator = model[-1]
    scaler = model[0]
    # Fold the scaling into the linear model, so its weights read per raw feature unit.
    estimator.coef_ = estimator.coef_ / scaler.scale_
    estimator.intercept_ = estimator.intercept_ - estimator.coef_ @ scaler.mean_
    return estimator


def fit_event_model(
    features: Sequence[LineFeatures], gold: Sequence[str], labels: Sequence[str], inner_folds: int = INNER_FOLDS
) -> EventModel:
    """The multinomial model on all given lines; the threshold maximises macro F1 over the types on inner
    cross-validation predictions of the same lines (ties: the middle of the best plateau, so a threshold never
    sits on the edge of what happened to work)."""
    classes = (*labels, NO_EVENT)
    held_out = np.zeros((len(gold), len(classes)))
    for part in stratified_folds(gold, inner_folds, seed=1):
        keep = np.setdiff1d(np.arange(len(gold)), part)
        inner = EventModel(tuple(labels), _estimator([features[i] for i in keep], [gold[i] for i in keep]), 0.0)
        held_out[part] = inner.probabilities([features[i] for i in part])
    scores = [macro_f1(gold, [_decide(row, classes, cut) for row in held_out], labels) for cut in THRESHOLD_GRID]
    best = max(scores)
    plateau = [cut for cut, score in zip(THRESHOLD_GRID, scores, strict=True) if score >= best - 1e-9]
    return EventModel(tuple(labels), _estimator(features, gold), float(plateau[len(plateau) // 2]))


def stratified_folds(labels: Sequence[str], folds: int, seed: int) -> list[np.ndarray]:
    """Indices of `folds` held-out parts, each label spread evenly over them (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[] for _ in range(folds)]
    offset = 0
    for label in sorted(set(labels)):
        members = [index for index, value in enumerate(labels) if value == label]
        rng.shuffle(members)
        for position, index in enumerate(members):
            parts[(position + offset) % folds].append(index)
        offset += len(members)
    return [np.array(sorted(part), dtype=int) for part in parts]


def dev_inputs(lines: Sequence[DevLine]) -> list[LineInput]:
    return [LineInput(line.text, line.language, None, line.reply) for line in lines]


@dataclass(frozen=True)
class TypeScore:
    """The most likely event type of a line, how likely, and the words that bore on it."""

    label: str
    confidence: float
    similarity: float
    terms: tuple[str, ...]
    negated_terms: tuple[str, ...]


class EventClassifier:
    """The event model fitted on the dev set at start-up (deterministic, a second or two of embedding)."""

    def __init__(
        self,
        definitions: Definitions,
        encoder: TextEncoder,
        dev: EventLines,
        threshold: float | None = None,
        min_substring_chars: int = 2,
    ) -> None:
        self.extractor = FeatureExtractor(definitions, encoder, min_substring_chars)
        self.dev = dev
        features = self.extractor.extract(dev_inputs(dev.lines))
        self.model = fit_event_model(features, [line.type for line in dev.lines], definitions.ids)
        self.threshold = self.model.threshold if threshold is None else threshold

    def score(self, lines: Sequence[LineInput]) -> list[TypeScore]:
        """Each line's most likely class, a type or `none`, whether or not it reaches the threshold."""
        features = self.extractor.extract(lines)
        found = []
        for item, row in zip(features, self.model.probabilities(features), strict=True):
            best = int(np.argmax(row))
            if best == len(self.model.labels):
                found.append(TypeScore(NO_EVENT, float(row[best]), 0.0, (), ()))
                continue
            found.append(
                TypeScore(
                    label=self.model.labels[best],
                    confidence=float(row[best]),
                    similarity=float(item.values[best, 0]),
                    terms=item.terms[best],
                    negated_terms=item.negated_terms[best],
                )
            )
        return found

    def is_event(self, score: TypeScore) -> bool:
        return score.label != NO_EVENT and score.confidence >= self.threshold

    def report(self) -> dict[str, object]:
        return {
            "dev_set": {"source": self.dev.source, "hash": self.dev.hash, "lines": len(self.dev.lines)},
            "fitted_threshold": self.model.threshold,
            "threshold": self.threshold,
            "types": self.model.to_json()["types"],
        }
