"""Regenerate the README screenshots from a run of the samples (default runs/demo, made by `make demo`).

    .venv/bin/python docs/screenshots/make_screenshots.py [RUN_DIR]
    .venv/bin/python docs/screenshots/make_screenshots.py --series [SERIES_RUN_DIR]

The second form captures the series page (series-report.png) of the generated six-episode test series of
tests/series_helpers.py, running the pipeline on it first when SERIES_RUN_DIR (default runs/series-test) holds no
run yet.

Rebuilds the run's pages (`write_run_reports`), opens them in headless chromium (Debian's `chromium`) over the
DevTools pipe client of tests/test_report_browser.py, clicks the first symbol occurrence on the first video's
page (the video seeks there and the evidence tooltip opens) and captures both pages. PNGs are reduced to 256
colours so each stays well under 300 KB.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

import series_helpers  # noqa: E402
from motiflens.reports.run_reports import write_run_reports  # noqa: E402
from motiflens.reports.series import series_page_name  # noqa: E402
from test_report_browser import _READY, _TARGET, DevTools  # noqa: E402

OUT = Path(__file__).resolve().parent
WIDTH = 1240


def _capture(browser: DevTools, session: str, height: int | None = None) -> bytes:
    if height is None:
        height = int(browser.evaluate(session, "document.documentElement.scrollHeight"))
    browser.call("Emulation.setDeviceMetricsOverride",
                 {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False}, session)
    shot = browser.call("Page.captureScreenshot", {"format": "png"}, session)
    return base64.b64decode(shot["data"])


def _save(png: bytes, name: str) -> Path:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    small = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    target = OUT / name
    small.save(target, optimize=True)
    print(f"{target.relative_to(ROOT)}: {image.size[0]}x{image.size[1]}, {target.stat().st_size // 1024} KB")
    return target


def main(run_dir: Path) -> None:
    write_run_reports(run_dir)
    run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    first = next(entry for entry in run["videos"] if entry["status"] == "ok")
    video_page = run_dir / Path(first["timeline"]).parent / "report.html"
    executable = shutil.which("chromium") or sys.exit("needs Debian's chromium")
    with tempfile.TemporaryDirectory() as scratch:
        browser = DevTools(executable, Path(scratch) / "profile", Path(scratch) / "chromium.log")
        try:
            session = browser.open(video_page.as_uri())
            browser.call("Emulation.setDeviceMetricsOverride",
                         {"width": WIDTH, "height": 820, "deviceScaleFactor": 1, "mobile": False}, session)
            browser.evaluate(session, _READY)
            target = browser.evaluate(session, _TARGET % 0)
            for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
                browser.call("Input.dispatchMouseEvent", {"type": kind, "x": target["x"], "y": target["y"],
                                                          "button": "left", "clickCount": 1}, session)
            browser.evaluate(session, "window.__seeked.then(() => document.getElementById('player').pause())")
            _save(_capture(browser, session, 820), "video-report.png")

            browser.events.clear()  # open() waits for a load event; the first page's must not count
            session = browser.open((run_dir / "report.html").as_uri())
            _save(_capture(browser, session), "corpus-report.png")
        finally:
            browser.close()


def series_main(run_dir: Path) -> None:
    if not (run_dir / "run.json").is_file():
        inputs = series_helpers.make_series(run_dir.parent / f"{run_dir.name}-inputs")
        result = series_helpers.run_series(inputs, run_dir)
        if result["exit_code"] != 0:
            sys.exit(result["output"])
    write_run_reports(run_dir)
    executable = shutil.which("chromium") or sys.exit("needs Debian's chromium")
    with tempfile.TemporaryDirectory() as scratch:
        browser = DevTools(executable, Path(scratch) / "profile", Path(scratch) / "chromium.log")
        try:
            session = browser.open((run_dir / series_page_name(series_helpers.SERIES)).as_uri())
            _save(_capture(browser, session), "series-report.png")
        finally:
            browser.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--series"]:
        series_main(Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "runs" / "series-test")
    else:
        main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "runs" / "demo")
