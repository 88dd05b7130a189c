"""Headless Chromium opens a report, clicks a symbol occurrence and the video seeks to its start.

Chromium is driven over its DevTools protocol on a pipe (--remote-debugging-pipe: commands on fd 3, replies on
fd 4, NUL-terminated JSON), so no driver package is needed. Debian's `chromium` is what CI installs; without it
this module is skipped with the reason. The screenshot lands in the test's tmp folder, and is also copied to
$MOTIFLENS_TEST_ARTIFACTS when that is set (CI keeps that folder).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import queue
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from motiflens.reports.run_reports import write_run_reports
from motiflens.reports.video_page import write_video_page
from report_helpers import ALL_PAYLOADS, make_timeline, many_items_timeline
from run_helpers import make_run

TIMEOUT = 30.0


def _chromium() -> str:
    override = os.environ.get("MOTIFLENS_CHROMIUM")
    for name in (override, "chromium", "chromium-browser", "google-chrome"):
        if name and (found := shutil.which(name)):
            return found
    pytest.skip("chromium not installed: the report browser test needs Debian's `chromium` (apt-get install chromium)")


def _above_four(fd: int) -> int:
    """Move `fd` to 10 or above: were it 3 or 4 already, the shell's redirections below would close it."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class DevTools:
    """The smallest DevTools-protocol client that this test needs: commands, replies and recorded events."""

    def __init__(self, executable: str, profile: Path, log: Path) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        to_browser_r, from_browser_w = _above_four(to_browser_r), _above_four(from_browser_w)
        # bash (dash refuses fds above 9) puts our pipe ends on the fds 3 and 4 that --remote-debugging-pipe reads.
        script = f'exec "$@" 3<&{to_browser_r} 4>&{from_browser_w} {to_browser_r}<&- {from_browser_w}>&-'
        args = [
            "--headless", "--no-sandbox", "--disable-gpu", "--mute-audio", "--no-first-run",
            "--autoplay-policy=no-user-gesture-required", "--allow-file-access-from-files",
            f"--user-data-dir={profile}", "--window-size=1280,1000", "--remote-debugging-pipe",
        ]
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            ["bash", "-c", script, "bash", executable, *args],
            pass_fds=(to_browser_r, from_browser_w), stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buffer = b""
        with os.fdopen(self._from_browser, "rb", buffering=0) as stream:
            while chunk := stream.read(65536):
                buffer += chunk
                *messages, buffer = buffer.split(b"\0")
                for message in messages:
                    self._messages.put(json.loads(message))
        self._messages.put(None)

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._messages.get(timeout=TIMEOUT)
            assert reply is not None, f"chromium exited during {method}"
            if reply.get("id") == self._next_id:
                assert "error" not in reply, f"{method}: {reply['error']}"
                return reply["result"]
            # An open dialog blocks the page; fail now rather than at the timeout.
            assert reply.get("method") != "Page.javascriptDialogOpening", f"the page opened a dialog: {reply}"
            self.events.append(reply)

    def wait_event(self, method: str) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._messages.get(timeout=TIMEOUT)
            assert event is not None, f"chromium exited waiting for {method}"
            self.events.append(event)
            if event.get("method") == method:
                return event

    def evaluate(self, session: str, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True}, session
        )
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def open(self, url: str) -> str:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", session=session)
        self.call("Runtime.enable", session=session)
        self.call("Page.navigate", {"url": url}, session)
        self.wait_event("Page.loadEventFired")
        return session

    def close(self) -> None:
        with contextlib.suppress(AssertionError, OSError, queue.Empty):
            self.call("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        self._log.close()


@pytest.fixture
def browser(tmp_path: Path):
    client = DevTools(_chromium(), tmp_path / "profile", tmp_path / "chromium.log")
    yield client
    client.close()


def _keep(screenshot: Path) -> None:
    folder = os.environ.get("MOTIFLENS_TEST_ARTIFACTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy2(screenshot, Path(folder) / screenshot.name)


# Waits for the video's metadata so a seek is a real seek, not the "default playback start position" that a
# video with no loaded media reports back unchanged.
_READY = """new Promise((resolve, reject) => {
  const video = document.getElementById('player');
  const done = () => resolve({readyState: video.readyState, duration: video.duration});
  if (video.readyState >= 1) return done();
  video.addEventListener('loadedmetadata', done, {once: true});
  video.addEventListener('error', () => reject(new Error('video error ' + (video.error && video.error.code))));
  setTimeout(() => reject(new Error('no video metadata in 15 s')), 15000);
})"""

_TARGET = """(() => {
  const item = document.querySelectorAll('.lane-item.symbol')[%d];
  const box = item.getBoundingClientRect();
  window.__seeked = new Promise(resolve =>
    document.getElementById('player').addEventListener('seeked', e => resolve(e.target.currentTime), {once: true}));
  return {x: box.left + box.width / 2, y: box.top + box.height / 2, start: Number(item.dataset.start),
          kind: item.dataset.kind, classes: item.className};
})()"""


def test_click_on_symbol_seeks_video(tmp_path: Path, samples_dir: Path, browser: DevTools) -> None:
    # The video's own file name carries a payload too: it reaches the page as the src URL and the title text.
    video = tmp_path / "inputs" / 'lantern "><img src=x onerror=alert(1)>.mp4'
    video.parent.mkdir()
    shutil.copy2(samples_dir / "lantern_vow.mp4", video)
    folder = tmp_path / "out" / "videos" / "lantern-vow-test"
    page = write_video_page(make_timeline(ALL_PAYLOADS, video_path=video.name), folder, video)

    session = browser.open(page.as_uri())
    ready = browser.evaluate(session, _READY)
    assert ready["readyState"] >= 1 and ready["duration"] == pytest.approx(9.28, abs=0.1)

    # The second symbol item (Dumplings, 2.6 s) so that a seek to 0 could not pass by accident.
    target = browser.evaluate(session, _TARGET % 1)
    assert target["kind"] == "symbol" and "role-decorative" in target["classes"]
    assert target["start"] == pytest.approx(2.6)
    for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
        browser.call(
            "Input.dispatchMouseEvent",
            {"type": kind, "x": target["x"], "y": target["y"], "button": "left", "clickCount": 1},
            session,
        )
    seeked = browser.evaluate(session, "window.__seeked")
    tooltip = browser.evaluate(session, "document.getElementById('tooltip').textContent")
    assert tooltip.startswith("Dumplings [decorative]") and "peak 0.60 at 3.0 s" in tooltip
    assert seeked == pytest.approx(target["start"], abs=0.05)
    state = browser.evaluate(session, "({t: document.getElementById('player').currentTime, pwned: !!window.__pwned})")
    assert target["start"] - 0.05 <= state["t"] < target["start"] + 2.0

    shot = browser.call("Page.captureScreenshot", {"format": "png"}, session)
    screenshot = tmp_path / "report-after-symbol-click.png"
    screenshot.write_bytes(base64.b64decode(shot["data"]))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    _keep(screenshot)

    # Nothing from the payloads ran: no alert dialog opened, and the lanes hold the payload as plain text.
    assert not [e for e in browser.events if e.get("method") == "Page.javascriptDialogOpening"]
    texts = browser.evaluate(session, "Array.from(document.querySelectorAll('.lane-item')).map(e => e.textContent)")
    assert any("<script>alert(1)</script>" in text for text in texts)
    assert browser.evaluate(session, "document.querySelectorAll('img[src=x], #tracks script').length") == 0


def test_large_episode_builds_quickly(tmp_path: Path, browser: DevTools) -> None:
    document = many_items_timeline()
    expected = (
        len(document["shots"]) + len(document["transcript"]["segments"]) + len(document["mentions"])
        + len(document["symbols"]) + len(document["events"]) + len(document["themes"])
    )
    assert expected >= 1000
    page = write_video_page(document, tmp_path / "videos" / "long", None)

    session = browser.open(page.as_uri())
    measured = browser.evaluate(
        session,
        """({items: document.querySelectorAll('.lane-item').length,
            missing: document.getElementById('player-missing').textContent,
            loaded: performance.getEntriesByType('navigation')[0].loadEventEnd})""",
    )
    assert measured["items"] == expected
    assert "Video file not found" in measured["missing"]
    # The issue asks for under a second; a slow CI machine gets some slack, a quadratic layout would not pass.
    assert measured["loaded"] < 2000, f"page took {measured['loaded']:.0f} ms to load"


def _errors(browser: DevTools) -> list[dict[str, Any]]:
    """Uncaught exceptions and console.error calls the page produced so far."""
    return [
        e for e in browser.events
        if e.get("method") == "Runtime.exceptionThrown"
        or (e.get("method") == "Runtime.consoleAPICalled" and e["params"].get("type") == "error")
    ]


def test_corpus_page_opens_without_errors(tmp_path: Path, samples_dir: Path, browser: DevTools) -> None:
    run_dir = tmp_path / "run"
    make_run(run_dir, payload=ALL_PAYLOADS, video_file=samples_dir / "lantern_vow.mp4")
    write_run_reports(run_dir)

    session = browser.open((run_dir / "report.html").as_uri())
    state = browser.evaluate(
        session,
        """({charts: document.querySelectorAll('svg.chart').length,
            videos: window.motiflensCorpus.videos.length,
            symbols: window.motiflensCorpus.symbols.map(s => s.symbol_id),
            links: Array.from(document.querySelectorAll('a[href^="videos/"]')).map(a => a.textContent),
            width: document.documentElement.scrollWidth})""",
    )
    # how often, how long, role mix, index per video, over time, by series, events, co-occurrence, themes
    assert state["charts"] == 9
    assert state["videos"] == 5 and sorted(state["symbols"]) == ["dumplings", "red_lantern", "spring_couplets"]
    assert state["links"] == ["ep-01", "ep-02", "ep-03", "ep-04"]
    assert state["width"] <= 1280, "the page must not scroll sideways at 1280 px"

    # Sorting the videos table by index, twice: descending puts ep-02 (index 1.0) first.
    first = browser.evaluate(
        session,
        """(() => {
          const table = Array.from(document.querySelectorAll('table.sortable'))
            .find(t => t.querySelector('th').textContent === 'video');
          const th = Array.from(table.querySelectorAll('th')).find(h => h.textContent === 'index');
          th.click(); th.click();
          return [th.getAttribute('aria-sort'), table.tBodies[0].rows[0].cells[0].textContent];
        })()""",
    )
    assert first == ["descending", "ep-02"]

    shot = browser.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session)
    screenshot = tmp_path / "corpus-report.png"
    screenshot.write_bytes(base64.b64decode(shot["data"]))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    _keep(screenshot)

    assert not _errors(browser), _errors(browser)
    assert not [e for e in browser.events if e.get("method") == "Page.javascriptDialogOpening"]
    assert browser.evaluate(session, "document.querySelectorAll('img[src=x]').length") == 0
