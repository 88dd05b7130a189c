"""`motiflens fit-story`: fit the story stream's thresholds on the labelled dev sets and report how they hold
on data not used for fitting (k-fold cross-validation).

- Event typing (data/eval/event_lines.yaml): per fold, the per-type logistic models and the threshold are fitted
  on the other folds and the held-out lines are typed; precision, recall and F1 per type, macro F1 and a
  type-agnostic F1 (event vs no event) are computed over all held-out predictions.
- Roles (data/eval/role_scenes.yaml): every scene runs through the real story and align code (one reading,
  mentions, events, links, roles) with the event model fitted on the event lines; the semantic-mention
  threshold is chosen on the other folds (role accuracy) and the held-out scenes are judged with it. A coded
  symbol the pipeline does not find is predicted `missing`; a symbol it finds that was not coded is gold
  `missing`. Reported: role accuracy, Cohen's kappa and Krippendorff's alpha (nominal) with bootstrap
  intervals, a confusion matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from motiflens.core.agreement import bootstrap_ci, cohen_kappa, confusion, krippendorff_alpha_nominal, prf
from motiflens.core.config import AlignConfig, StoryConfig
from motiflens.core.records import PlotEvent, Segment, Shot, SymbolOccurrence
from motiflens.core.taxonomy import Taxonomy
from motiflens.story.align import RoleAssigner
from motiflens.story.definitions import Definitions
from motiflens.story.devset import NO_EVENT, ROLES, EventLines, RoleScenes, Scene
from motiflens.story.eventmodel import (
    EventClassifier,
    EventModel,
    FeatureExtractor,
    dev_inputs,
    fit_event_model,
    per_type_scores,
    stratified_folds,
)
from motiflens.story.events import EventDetector
from motiflens.story.links import link_events
from motiflens.story.mentions import MentionFinder
from motiflens.story.text_model import TextEncoder
from motiflens.story.units import DialogueUnit, dialogue_units

MISSING = "missing"
SEMANTIC_GRID = tuple(round(value, 2) for value in np.arange(0.20, 0.71, 0.02))
_ROLE_RANK = {"decorative": 0, "referenced": 1, "catalyst": 2}


def _round(scores: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {label: {key: round(value, 4) for key, value in row.items()} for label, row in scores.items()}


def cross_validate_events(
    extractor: FeatureExtractor, dev: EventLines, folds: int = 5, seed: int = 0
) -> dict[str, Any]:
    labels = extractor.labels
    gold = [line.type for line in dev.lines]
    features = extractor.extract(dev_inputs(dev.lines))
    predicted = [NO_EVENT] * len(gold)
    thresholds = []
    for held_out in stratified_folds(gold, folds, seed):
        train = [index for index in range(len(gold)) if index not in set(held_out.tolist())]
        model = fit_event_model([features[i] for i in train], [gold[i] for i in train], labels)
        thresholds.append(model.threshold)
        for index, label in zip(held_out, model.predict([features[i] for i in held_out]), strict=True):
            predicted[index] = label
    scores = per_type_scores(gold, predicted, labels)
    any_gold = ["event" if g != NO_EVENT else NO_EVENT for g in gold]
    any_predicted = ["event" if p != NO_EVENT else NO_EVENT for p in predicted]
    agnostic = per_type_scores(any_gold, any_predicted, ["event"])["event"]
    hard = [i for i, line in enumerate(dev.lines) if {"negation", "refused_apology", "broken_vow"} & set(line.tags)]
    return {
        "lines": len(gold),
        "folds": folds,
        "per_type": _round(scores),
        "macro_f1": round(float(np.mean([scores[label]["f1"] for label in labels])), 4),
        "typed_micro_f1": round(_micro_f1(gold, predicted), 4),
        "type_agnostic": {key: round(value, 4) for key, value in agnostic.items()},
        "hard_negatives_correct": f"{sum(1 for i in hard if predicted[i] == gold[i])}/{len(hard)}",
        "fold_thresholds": thresholds,
        "errors": [
            {"id": line.id, "text": line.text, "gold": g, "predicted": p}
            for line, g, p in zip(dev.lines, gold, predicted, strict=True)
            if g != p
        ],
    }


def _micro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p != NO_EVENT)
    fp = sum(1 for g, p in zip(gold, predicted, strict=True) if p != NO_EVENT and g != p)
    fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g != NO_EVENT and g != p)
    return prf(tp, fp, fn)[2] or 0.0


class SceneJudge:
    """Runs a coded scene through the real story and align code. The events of a scene do not depend on the
    semantic threshold, so they are typed once."""

    def __init__(
        self,
        taxonomy: Taxonomy,
        encoder: TextEncoder,
        classifier: EventClassifier,
        story: StoryConfig,
        align: AlignConfig,
    ) -> None:
        self.taxonomy = taxonomy
        self.encoder = encoder
        self.story = story
        self.assigner = RoleAssigner(align)
        self.detector = EventDetector(classifier, story.events)
        self.finders: dict[float, MentionFinder] = {}
        self.typed: dict[str, tuple[list[DialogueUnit], list[PlotEvent]]] = {}
        self.labels = {symbol.id: symbol.label for symbol in taxonomy.symbols}

    def _finder(self, threshold: float) -> MentionFinder:
        if threshold not in self.finders:
            settings = self.story.mentions.model_copy(update={"semantic_threshold": threshold})
            self.finders[threshold] = MentionFinder(self.taxonomy, settings, self.encoder)
        return self.finders[threshold]

    def _typed(self, scene: Scene) -> tuple[list[DialogueUnit], list[PlotEvent]]:
        if scene.id not in self.typed:
            segments = [
                Segment(f"ocr-{index:04d}", "ocr", line.start_seconds, line.end_seconds, line.text, scene.language)
                for index, line in enumerate(scene.lines, start=1)
            ]
            units = dialogue_units(segments)
            self.typed[scene.id] = (units, self.detector.detect(units, []))
        return self.typed[scene.id]

    def roles(self, scene: Scene, semantic_threshold: float) -> dict[str, str]:
        """The strongest role the pipeline gives each symbol it finds in the scene."""
        units, events = self._typed(scene)
        mentions = self._finder(semantic_threshold).find(units)
        events = link_events(events, units, mentions, scene.scene_changes, self.story.links)
        shown = [
            SymbolOccurrence(
                symbol_id=item.symbol_id,
                label=item.symbol_id,
                start_seconds=item.start_seconds,
                end_seconds=item.end_seconds,
                peak_seconds=item.start_seconds,
                peak_score=item.prominence,
                mean_score=item.prominence,
                screen_region=None,
                narrative_weight=0.0,
            )
            for item in scene.on_screen
        ]
        end = max([line.end_seconds for line in scene.lines] + [item.end_seconds for item in scene.on_screen])
        cuts = sorted({0.0, *scene.scene_changes})
        shots = [Shot(i, start, stop) for i, (start, stop) in enumerate(zip(cuts, [*cuts[1:], end], strict=True))]
        best: dict[str, str] = {}
        for occurrence in self.assigner.assign(shown, mentions, events, shots, self.labels):
            previous = best.get(occurrence.symbol_id)
            if previous is None or _ROLE_RANK[occurrence.role] > _ROLE_RANK[previous]:
                best[occurrence.symbol_id] = occurrence.role
        return best

    def judge(self, scenes: Sequence[Scene], semantic_threshold: float) -> tuple[list[str], list[str]]:
        gold, predicted = [], []
        for scene in scenes:
            found = self.roles(scene, semantic_threshold)
            for item in scene.gold:
                gold.append(item.role)
                predicted.append(found.get(item.symbol_id, MISSING))
            # A symbol the pipeline finds but the coder did not (a spurious mention) counts against it too.
            coded = {item.symbol_id for item in scene.gold}
            for symbol_id in sorted(set(found) - coded):
                gold.append(MISSING)
                predicted.append(found[symbol_id])
        return gold, predicted


def _accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    return sum(1 for g, p in zip(gold, predicted, strict=True) if g == p) / len(gold) if gold else 0.0


def best_semantic_threshold(judge: SceneJudge, scenes: Sequence[Scene]) -> float:
    """The grid value with the highest role accuracy; ties: the middle of the best plateau."""
    scores = [_accuracy(*judge.judge(scenes, value)) for value in SEMANTIC_GRID]
    best = max(scores)
    plateau = [value for value, score in zip(SEMANTIC_GRID, scores, strict=True) if score >= best - 1e-9]
    return plateau[len(plateau) // 2]


def cross_validate_roles(judge: SceneJudge, dev: RoleScenes, folds: int = 5, seed: int = 0) -> dict[str, Any]:
    scenes = dev.scenes
    # Stratify scenes by the strongest role they were coded with, so every fold holds catalysts.
    strata = [max((g.role for g in scene.gold), key=lambda role: _ROLE_RANK[role]) for scene in scenes]
    gold: list[str] = []
    predicted: list[str] = []
    thresholds = []
    for held_out in stratified_folds(strata, folds, seed):
        held = set(held_out.tolist())
        threshold = best_semantic_threshold(judge, [s for i, s in enumerate(scenes) if i not in held])
        thresholds.append(threshold)
        fold_gold, fold_predicted = judge.judge([scenes[i] for i in sorted(held)], threshold)
        gold += fold_gold
        predicted += fold_predicted
    categories = [*ROLES, MISSING]
    kappa_ci = bootstrap_ci(gold, predicted, cohen_kappa)
    alpha_ci = bootstrap_ci(gold, predicted, krippendorff_alpha_nominal)
    return {
        "scenes": len(scenes),
        "coded_roles": len(gold),
        "folds": folds,
        "accuracy": round(_accuracy(gold, predicted), 4),
        "cohen_kappa": _rounded(cohen_kappa(gold, predicted)),
        "cohen_kappa_ci95": [_rounded(value) for value in kappa_ci],
        "krippendorff_alpha": _rounded(krippendorff_alpha_nominal(gold, predicted)),
        "krippendorff_alpha_ci95": [_rounded(value) for value in alpha_ci],
        "per_role": _round(per_type_scores(gold, predicted, list(ROLES))),
        "confusion": confusion(gold, predicted, categories),
        "fold_semantic_thresholds": thresholds,
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def fit_story(
    definitions: Definitions,
    encoder: TextEncoder,
    taxonomy: Taxonomy,
    events: EventLines,
    scenes: RoleScenes,
    story: StoryConfig,
    align: AlignConfig,
    folds: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """Held-out figures for events and roles, and the values fitted on the whole dev sets."""
    classifier = EventClassifier(definitions, encoder, events, story.events.min_confidence)
    judge = SceneJudge(taxonomy, encoder, classifier, story, align)
    model: EventModel = classifier.model
    return {
        "text_model": encoder.files.to_json(),
        "event_lines": {"source": events.source, "hash": events.hash},
        "role_scenes": {"source": scenes.source, "hash": scenes.hash},
        "events": cross_validate_events(classifier.extractor, events, folds, seed),
        "roles": cross_validate_roles(judge, scenes, folds, seed),
        "fitted": {
            "event_threshold": model.threshold,
            "semantic_threshold": best_semantic_threshold(judge, scenes.scenes),
        },
    }


def markdown(report: dict[str, Any]) -> str:
    """The held-out figures as Markdown tables."""
    events = report["events"]
    lines = [
        f"Event typing, {events['lines']} dev lines, {events['folds']}-fold cross-validation (held-out folds)",
        "",
        "| type | precision | recall | F1 | support |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, row in events["per_type"].items():
        lines.append(
            f"| {label} | {row['precision']:.2f} | {row['recall']:.2f} | {row['f1']:.2f} | {int(row['support'])} |"
        )
    agnostic = events["type_agnostic"]
    lines += [
        f"| **macro** | | | **{events['macro_f1']:.2f}** | |",
        f"| typed micro | | | {events['typed_micro_f1']:.2f} | |",
        f"| any event (type-agnostic) | {agnostic['precision']:.2f} | {agnostic['recall']:.2f} "
        f"| {agnostic['f1']:.2f} | {int(agnostic['support'])} |",
        "",
        f"Hard negatives (negation, refused apology, broken vow) typed correctly: {events['hard_negatives_correct']}.",
        "",
    ]
    roles = report["roles"]
    kappa_ci = ", ".join("–" if v is None else f"{v:.2f}" for v in roles["cohen_kappa_ci95"])
    alpha_ci = ", ".join("–" if v is None else f"{v:.2f}" for v in roles["krippendorff_alpha_ci95"])

    def number(value: float | None) -> str:
        return "–" if value is None else f"{value:.2f}"

    lines += [
        f"Roles, {roles['coded_roles']} symbol-role units (coded, or found but not coded) in {roles['scenes']} dev "
        "scenes, "
        f"{roles['folds']}-fold cross-validation (held-out folds)",
        "",
        f"accuracy {roles['accuracy']:.2f}; Cohen's κ {number(roles['cohen_kappa'])} (95% CI {kappa_ci}); "
        f"Krippendorff's α {number(roles['krippendorff_alpha'])} (95% CI {alpha_ci})",
        "",
        "| gold \\ predicted | " + " | ".join(roles["confusion"][next(iter(roles["confusion"]))]) + " |",
        "| --- |" + " ---: |" * len(roles["confusion"][next(iter(roles["confusion"]))]),
    ]
    for gold, row in roles["confusion"].items():
        lines.append(f"| {gold} | " + " | ".join(str(value) for value in row.values()) + " |")
    fitted = report["fitted"]
    lines += [
        "",
        f"Fitted on all dev data: event threshold {fitted['event_threshold']:.2f}, "
        f"semantic-mention threshold {fitted['semantic_threshold']:.2f} (story.mentions.semantic_threshold).",
    ]
    return "\n".join(lines) + "\n"
