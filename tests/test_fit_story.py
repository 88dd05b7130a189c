"""The dev sets under data/eval/ and `motiflens fit-story`: no leakage between the dev sets, the definitions and
the bundled samples; the held-out figures the README quotes; the config defaults equal what the fit gives."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from motiflens.cli.main import cli
from motiflens.cli.support import EXIT_OK
from motiflens.core.config import MentionsConfig, StoryConfig
from motiflens.dialogue.text import similarity
from motiflens.story.definitions import EVENT_TYPE_IDS, load_builtin
from motiflens.story.devset import ROLES, load_event_lines, load_role_scenes
from motiflens.story.text_model import TextEncoder, resolve_text_model

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def definition_lines() -> list[str]:
    events = load_builtin("events")
    lines = [*events.neutral_en, *events.neutral_zh]
    for label in events.labels:
        lines += [*label.prototypes_en, *label.prototypes_zh, *label.counter_en, *label.counter_zh]
    return lines


def sample_lines() -> list[str]:
    manifest = json.loads((ROOT / "data" / "samples" / "samples.json").read_text(encoding="utf-8"))
    found = []
    for sample in manifest["samples"]:
        for line in sample["lines"]:
            found += [text for text in (line["text"], line.get("subtitle_zh"), line.get("subtitle_en")) if text]
    return found


def test_the_dev_sets_cover_what_the_issue_asks() -> None:
    lines = load_event_lines().lines
    assert len(lines) >= 200 and sum(line.language == "zh" for line in lines) * 2 >= len(lines)
    assert {line.type for line in lines} == {*EVENT_TYPE_IDS, "none"}
    tags = {tag for line in lines for tag in line.tags}
    assert {"negation", "question", "role_swap", "broken_vow", "refused_apology", "neutral"} <= tags
    scenes = load_role_scenes().scenes
    assert {gold.role for scene in scenes for gold in scene.gold} == set(ROLES)
    links = {gold.link for scene in scenes for gold in scene.gold if gold.role == "catalyst"}
    assert links == {"same_line", "anaphora", "semantic", "visual_focus"}


def test_no_dev_line_or_sample_line_is_a_prototype_or_close_to_one() -> None:
    """Neither the dev lines nor the bundled samples' lines appear among, or are near copies of, the lines the
    classifier is built from (character similarity; the embedding check is below)."""
    known = definition_lines()
    for text in [line.text for line in load_event_lines().lines] + sample_lines():
        closest = max(known, key=lambda other: similarity(text, other))
        assert similarity(text, closest) < 0.75, (text, closest)


def test_no_sample_line_paraphrases_a_prototype() -> None:
    # USE multilingual: paraphrase pairs average 0.63, translations 0.69, negation pairs 0.79
    # (scripts/probe_text_models.py); the closest sample line to any definition line is a negation pair.
    encoder = TextEncoder(resolve_text_model(StoryConfig()), "cpu", 64)
    known = encoder.encode(definition_lines())
    samples = encoder.encode(sample_lines())
    assert float((samples @ known.T).max()) < 0.8


def test_fit_story_reports_held_out_figures_and_the_defaults_are_the_fitted_values(tmp_path: Path) -> None:
    report_path = tmp_path / "fit.json"
    result = CliRunner().invoke(cli, ["fit-story", "--json", str(report_path)])
    assert result.exit_code == EXIT_OK, result.output
    assert "| confession |" in result.output and "Krippendorff's α" in result.output
    report = json.loads(report_path.read_text(encoding="utf-8"))
    events, roles = report["events"], report["roles"]
    assert set(events["per_type"]) == set(EVENT_TYPE_IDS)
    assert all(0 <= row["f1"] <= 1 for row in events["per_type"].values())
    # Floors a few points under the figures in the README: a regression in the judgement fails here.
    assert events["macro_f1"] >= 0.38 and events["type_agnostic"]["f1"] >= 0.75
    assert roles["cohen_kappa"] >= 0.55 and roles["krippendorff_alpha"] >= 0.55
    low, high = roles["krippendorff_alpha_ci95"]
    assert low < roles["krippendorff_alpha"] < high
    assert sum(sum(row.values()) for row in roles["confusion"].values()) == roles["coded_roles"]
    # The shipped default is the value fitted on all role scenes, not a hand-set one.
    assert report["fitted"]["semantic_threshold"] == pytest.approx(MentionsConfig().semantic_threshold)
    assert 0 < report["fitted"]["event_threshold"] < 1
    assert np.isfinite(events["typed_micro_f1"])
