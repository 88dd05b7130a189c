"""A generated test series: six short episodes in one series folder, and the pipeline run over them.

The script (SCRIPT): the jade teapot is on screen in every episode, unnamed in episodes 1-2 (decorative), named
without a plot event in 3-4 (referenced), and the object of a vow and a betrayal in 5-6 (catalyst): it `rises`,
first a catalyst in episode 5. The red lantern is on screen in every episode and never named: it
`stays_decorative`. The dialogue is burned-in subtitles (make_subtitle_video) that the OCR stage reads and the
story stage interprets; the clips have no audio, so there is no speech to transcribe.

"On screen" comes from the real visual stream with the test model (open_clip ViT-B-32 with random weights,
allowed in tests only) and a two-symbol taxonomy whose thresholds (0.001) every frame passes: random weights
detect nothing meaningful, so the test fixes what is shown and the pipeline does the rest (occurrences, links,
roles, indices). Semantic mentions are off so that only the scripted keywords name a symbol.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import media
import yaml
from click.testing import CliRunner
from motiflens.cli.main import cli
from motiflens.visual.weights import ALLOW_TEST_MODELS_ENV

ROOT = Path(__file__).resolve().parents[1]
SERIES = "玉壶传"
SECONDS = 4.0

# Episode by episode: (subtitle line, strongest role of the jade teapot). Files are named 第N集<suffix>.mp4.
SCRIPT: tuple[tuple[str, str], ...] = (
    ("今天天气不错。", "decorative"),
    ("外面下雨了，快进来。", "decorative"),
    ("这把玉壶很旧了。", "referenced"),
    ("桌上放着一把玉壶。", "referenced"),
    ("我发誓把这把玉壶传下去。", "catalyst"),
    ("你竟然把玉壶卖给了外人！", "catalyst"),
)

SETTINGS = (
    "visual.model=test",
    "visual.builtin_taxonomy=false",
    "visual.thumbnails=false",
    "story.mentions.semantic=false",
    "ocr.sample_fps=1",
    "tiles.overlap=0",
    "frames.shot_first_frames=false",
)


def _taxonomy(path: Path) -> Path:
    """The built-in jade teapot and red lantern, with a threshold every frame passes."""
    builtin = yaml.safe_load((ROOT / "data" / "taxonomy" / "cultural_symbols.yaml").read_text(encoding="utf-8"))
    symbols = [dict(s, threshold=0.001) for s in builtin["symbols"] if s["id"] in ("jade_teapot", "red_lantern")]
    document = {"version": "series-test", "background_prompts": builtin["background_prompts"][:3], "symbols": symbols}
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def make_series(folder: Path, series: str = SERIES, suffix: str = "") -> Path:
    """`folder/<series>/第N集<suffix>.mp4` for the six episodes of SCRIPT; returns `folder`."""
    (folder / series).mkdir(parents=True, exist_ok=True)
    for number, (line, _) in enumerate(SCRIPT, start=1):
        media.make_subtitle_video(folder / series / f"第{number}集{suffix}.mp4", cues=[(0.5, SECONDS - 0.5, (line,))],
                                  seconds=SECONDS, fps=2)
    return folder


def run_series(inputs: Path, out: Path, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """`motiflens run inputs --out out` with SETTINGS (and `extra` settings); returns the exit code and output."""
    taxonomy = _taxonomy(out.parent / f"{out.name}-taxonomy.yaml")
    args = ["run", "--quiet", str(inputs), "--out", str(out)]
    for setting in (*SETTINGS, f"visual.taxonomy=[{taxonomy}]", *extra):
        args += ["--set", setting]
    previous = os.environ.get(ALLOW_TEST_MODELS_ENV)
    os.environ[ALLOW_TEST_MODELS_ENV] = "1"
    try:
        result = CliRunner().invoke(cli, args)
    finally:
        if previous is None:
            os.environ.pop(ALLOW_TEST_MODELS_ENV, None)
        else:
            os.environ[ALLOW_TEST_MODELS_ENV] = previous
    return {"exit_code": result.exit_code, "output": result.output}
