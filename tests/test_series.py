"""Series arcs: episode numbers from real-world file names, series from folders and manifests, the trajectory
rules, and one pipeline run of the generated six-episode series of tests/series_helpers.py checked against its
script: the series tables, `motiflens query`, and the series page in headless Chromium (a grid cell opens the
episode at the occurrence; hostile series and file names stay text)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import series_helpers
from motiflens.core.config import InputConfig
from motiflens.reports.query import run_query
from motiflens.reports.series import series_page_name, series_rows, trajectory
from motiflens.run.discovery import discover, episode_number
from test_report_browser import DevTools, _chromium

# Neither a folder nor a file name may hold "/", so the payloads do without closing tags.
PAYLOAD = "<img src=x onerror=\"window.__pwned=1\"> ' & <svg onload=window.__pwned=2>"
HOSTILE_SERIES = f"玉壶传 {PAYLOAD}"


@pytest.mark.parametrize(
    ("name", "episode"),
    [
        ("第12集.mp4", 12),
        ("逃出大英博物馆 第3集.mp4", 3),
        ("【短剧】家乡旅行社 第十二集 高清.mp4", 12),
        ("第一百零五集.mp4", 105),
        ("第二十集.mp4", 20),
        ("第两百集.mp4", 200),
        ("家乡旅行社_第05话.mp4", 5),
        ("重生之玉壶 第7話.mkv", 7),
        ("第1季第7集.mp4", 7),
        ("12集.mp4", 12),
        ("第12集 (1).mp4", 12),
        ("逃出大英博物馆3.mp4", 3),
        ("１２.mp4", 12),
        ("EP12.mp4", 12),
        ("ep_012.mp4", 12),
        ("E12.mp4", 12),
        ("Ep.07 The Teapot.mp4", 7),
        ("Episode 3 - Homecoming.mkv", 3),
        ("ep1v2.mp4", 1),
        ("Escape.from.the.British.Museum.S01E04.1080p.WEB-DL.x264.mp4", 4),
        ("hometown_travel_agency_e07_1080p.mp4", 7),
        ("玉壶传.EP03.H.265.mp4", 3),
        ("Drama 2024 EP1.mp4", 1),
        ("[Sub] Jade Saga - 05 [1080p].mkv", 5),
        ("Qiang Pottery (2023) - 08 [4K HEVC 10bit].mp4", 8),
        ("12.mp4", 12),
        ("012.mp4", 12),
        ("trailer.mp4", None),
        ("花絮.mp4", None),
        ("4K.mp4", None),
        ("第〇集.mp4", None),
        ("Jade Saga 2 - 05.mp4", None),
    ],
)
def test_episode_numbers_from_real_world_names(name: str, episode: int | None) -> None:
    assert episode_number(name) == episode


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def placed(sources: list) -> list[tuple[str, str | None, str | None]]:
    return [(s.relative_path, s.metadata.get("series"), s.metadata.get("episode")) for s in sources]


def test_series_come_from_folders_and_unclear_names_fall_back_to_file_order(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("第10集.mp4", "第2集.mp4", "第1集.mp4"):
        touch(tmp_path / "玉壶传" / name)
    for name in ("EP2.mp4", "ep10.mp4", "trailer.mp4"):
        touch(tmp_path / "Jade Saga" / "season 1" / name)
    touch(tmp_path / "loose 3.mp4")
    with caplog.at_level(logging.WARNING, logger="motiflens"):
        found = placed(discover([tmp_path], InputConfig()))
    assert sorted(found) == sorted([
        ("玉壶传/第1集.mp4", "玉壶传", "1"),
        ("玉壶传/第2集.mp4", "玉壶传", "2"),
        ("玉壶传/第10集.mp4", "玉壶传", "10"),
        # trailer.mp4 has no number: the whole series goes by file order, numbers compared as numbers.
        ("Jade Saga/season 1/EP2.mp4", "Jade Saga/season 1", "1"),
        ("Jade Saga/season 1/ep10.mp4", "Jade Saga/season 1", "2"),
        ("Jade Saga/season 1/trailer.mp4", "Jade Saga/season 1", "3"),
        ("loose 3.mp4", None, None),  # directly in the input folder: no series
    ])
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "Jade Saga/season 1" in warning and "trailer.mp4" in warning and "file order" in warning


def test_manifest_series_and_episode_columns_win(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    for name in ("a/第1集.mp4", "a/第2集.mp4", "b/x.mp4", "b/y.mp4", "c/EP1.mp4", "c/EP1 (copy).mp4", "d/第9集.mp4"):
        touch(tmp_path / name)
    manifest = tmp_path / "list.csv"
    manifest.write_text(
        "path,series,episode\n"
        "a/第1集.mp4,Museum,7\n"  # the column beats the name
        "a/第2集.mp4,Museum,\n"  # an empty cell: the name says 2
        "b/x.mp4,,EP03\n"  # no series in the manifest: the folder is the series
        "b/y.mp4,,4\n"
        "c/EP1.mp4,Dup,\n"
        "c/EP1 (copy).mp4,Dup,\n"  # the same number twice: file order
        f"{tmp_path / 'd' / '第9集.mp4'},,\n",  # an absolute path: its last folder is the series
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING, logger="motiflens"):
        found = placed(discover([manifest], InputConfig()))
    assert found == [
        ("a/第1集.mp4", "Museum", "7"),
        ("a/第2集.mp4", "Museum", "2"),
        ("b/x.mp4", "b", "3"),
        ("b/y.mp4", "b", "4"),
        ("c/EP1.mp4", "Dup", "1"),
        ("c/EP1 (copy).mp4", "Dup", "2"),
        (str(tmp_path / "d" / "第9集.mp4"), "d", "9"),
    ]
    assert any("'Dup'" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (["catalyst"], ("episodic", 0)),
        (["decorative"], ("episodic", None)),
        (["decorative", "decorative", "decorative"], ("stays_decorative", None)),
        (["decorative", "referenced", "decorative"], ("stays_referenced", None)),
        (["decorative", "referenced", "catalyst"], ("rises", 2)),
        (["referenced", "catalyst", "decorative", "catalyst"], ("rises", 1)),
        (["catalyst", "referenced", "decorative"], ("falls", 0)),
        (["catalyst", "decorative", "catalyst"], ("stays_catalyst", 0)),
        (["decorative", "catalyst", "referenced"], ("episodic", 1)),
    ],
)
def test_trajectory_rules(roles: list[str], expected: tuple[str, int | None]) -> None:
    assert trajectory(roles) == expected


def _video(video_id: str, episode: int, status: str = "ok", index: float | None = None) -> dict[str, Any]:
    return {"video_id": video_id, "series": "S", "episode": episode, "status": status, "path": f"S/{episode}.mp4",
            "internalization_index": index, "dialogue_internalization": None}


def _occurrence(video_id: str, symbol_id: str, role: str, start: float, end: float, origin: str = "visual") -> dict:
    return {"video_id": video_id, "symbol_id": symbol_id, "label": symbol_id.title(), "role": role, "origin": origin,
            "start_seconds": start, "end_seconds": end}


def test_series_rows_aggregate_ok_episodes_in_episode_order() -> None:
    tables = {
        "videos": [_video("c", 3, index=1.0), _video("a", 1, index=0.0), _video("b", 2, status="failed"),
                   {**_video("x", 1), "series": None}],
        "symbols": [
            _occurrence("a", "qipao", "decorative", 0, 4), _occurrence("a", "qipao", "catalyst", 5, 6),
            _occurrence("c", "qipao", "referenced", 0, 2.5),
            _occurrence("c", "mooncake", "referenced", 1, 2, origin="dialogue"),
            _occurrence("x", "qipao", "catalyst", 0, 9),  # no series: not counted
        ],
        "mentions": [{"video_id": "c", "symbol_id": "mooncake", "start_seconds": 1.0, "end_seconds": 2.25}],
        "events": [{"video_id": "a", "type": "vow"}, {"video_id": "a", "type": "vow"},
                   {"video_id": "c", "type": "loss"}],
        "themes": [{"video_id": "c", "theme": "home_belonging"}],
    }
    rows = series_rows(tables)
    qipao, mooncake = sorted(rows["series_symbols"], key=lambda row: row["symbol_id"], reverse=True)
    assert (qipao["episodes"], qipao["roles"], qipao["trajectory"]) == ("1,3", "catalyst,referenced", "falls")
    assert (qipao["n_episodes"], qipao["episode_share"], qipao["first_catalyst_episode"]) == (2, 1.0, 1)
    assert (qipao["screen_seconds_by_episode"], qipao["screen_seconds"]) == ("5.0,2.5", 7.5)
    assert (mooncake["trajectory"], mooncake["episode_share"], mooncake["named_seconds"]) == ("episodic", 0.5, 1.25)
    assert mooncake["screen_seconds"] == 0.0  # named, never shown
    assert [(r["episode"], r["n_events"], r["event_counts"], r["theme_counts"]) for r in rows["series_episodes"]] == [
        (1, 2, "vow:2", ""), (3, 1, "loss:1", "home_belonging:1")
    ]


@pytest.mark.parametrize("name", ["../../etc/passwd", "玉壶传", PAYLOAD, "..", ""])
def test_series_page_names_stay_in_the_series_folder(name: str) -> None:
    page = series_page_name(name)
    folder, file = page.split("/")
    assert folder == "series" and file.endswith(".html") and ".." not in file and "<" not in file
    assert series_page_name(name) == page and page != series_page_name(name + " ")


@pytest.fixture(scope="session")
def series_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated series, hostile names and all, through the whole pipeline once."""
    inputs = series_helpers.make_series(
        tmp_path_factory.mktemp("series-in"), series=HOSTILE_SERIES, suffix=f" {PAYLOAD}"
    )
    out = tmp_path_factory.mktemp("series-run") / "run"
    result = series_helpers.run_series(inputs, out)
    assert result["exit_code"] == 0, result["output"]
    return out


def _table(run_dir: Path, name: str) -> list[dict[str, Any]]:
    return pq.read_table(run_dir / "tables" / f"{name}.parquet").to_pylist()


def test_the_episodes_are_placed_in_their_series(series_run: Path) -> None:
    videos = sorted(_table(series_run, "videos"), key=lambda row: row["episode"])
    assert [(row["series"], row["episode"], row["status"]) for row in videos] == [
        (HOSTILE_SERIES, number, "ok") for number in range(1, 7)
    ]
    assert all(row["path"].startswith(f"{HOSTILE_SERIES}/第{row['episode']}集") for row in videos)


def test_trajectories_match_the_script(series_run: Path) -> None:
    symbols = {row["symbol_id"]: row for row in _table(series_run, "series_symbols")}
    assert sorted(symbols) == ["jade_teapot", "red_lantern"]
    teapot, lantern = symbols["jade_teapot"], symbols["red_lantern"]
    assert teapot["roles"].split(",") == [role for _, role in series_helpers.SCRIPT]
    assert (teapot["trajectory"], teapot["first_catalyst_episode"], teapot["catalyst_episodes"]) == ("rises", 5, 2)
    assert (teapot["first_episode"], teapot["last_episode"], teapot["episodes_present"]) == (1, 6, 6)
    assert teapot["episode_share"] == 1.0 and teapot["episodes"] == "1,2,3,4,5,6"
    named = [float(value) for value in teapot["named_seconds_by_episode"].split(",")]
    assert named[:2] == [0.0, 0.0] and all(value > 0 for value in named[2:])
    assert lantern["trajectory"] == "stays_decorative" and lantern["first_catalyst_episode"] is None
    assert set(lantern["roles"].split(",")) == {"decorative"} and lantern["named_seconds"] == 0.0
    episodes = _table(series_run, "series_episodes")
    assert [row["episode"] for row in episodes] == [1, 2, 3, 4, 5, 6]
    # Both symbols fill every episode, so the index is the teapot's catalyst share: 0 until episode 5, then 1/2.
    assert [row["internalization_index"] for row in episodes] == pytest.approx([0, 0, 0, 0, 0.5, 0.5], abs=0.01)
    assert [row["n_catalyst_symbols"] for row in episodes] == [0, 0, 0, 0, 1, 1]


def test_query_answers_the_series_questions(series_run: Path) -> None:
    rises = run_query(series_run, "SELECT symbol_id, first_catalyst_episode FROM series_symbols "
                                  "WHERE trajectory = 'rises' ORDER BY symbol_id")
    assert rises.rows == [("jade_teapot", 5)]
    trend = run_query(series_run, "SELECT regr_slope(internalization_index, episode) > 0 FROM series_episodes")
    assert trend.rows == [(True,)]


@pytest.fixture
def browser(tmp_path: Path):
    client = DevTools(_chromium(), tmp_path / "profile", tmp_path / "chromium.log")
    yield client
    client.close()


def _errors(browser: DevTools) -> list[dict[str, Any]]:
    return [
        e for e in browser.events
        if e.get("method") == "Runtime.exceptionThrown"
        or (e.get("method") == "Runtime.consoleAPICalled" and e["params"].get("type") == "error")
    ]


# Resolves with the player's time once the deep link has been applied (or after 15 s, whatever it is then).
_SETTLED = """new Promise(resolve => {
  const video = document.getElementById('player');
  const started = Date.now();
  const check = () => (video.readyState >= 1 && video.currentTime > 0) || Date.now() - started > 15000
    ? resolve({time: video.currentTime, hash: location.hash, path: decodeURIComponent(location.pathname)})
    : setTimeout(check, 50);
  check();
})"""


def test_series_page_grid_opens_the_episode_at_the_occurrence(series_run: Path, browser: DevTools) -> None:
    page = series_run / series_page_name(HOSTILE_SERIES)
    session = browser.open(page.as_uri())
    state = browser.evaluate(session, """({
      title: document.querySelector('h1').textContent,
      rows: Array.from(document.querySelectorAll('table.grid tbody tr')).map(r => r.dataset.symbol),
      cells: Array.from(document.querySelectorAll('tr[data-symbol=jade_teapot] td.cell')).map(c => c.className),
      files: Array.from(document.querySelectorAll('table.data td:nth-child(2)')).map(td => td.textContent),
      charts: document.querySelectorAll('svg.chart').length,
      pwned: window.__pwned === undefined ? null : window.__pwned,
      injected: document.querySelectorAll('img[src=x], svg[onload]').length})""")
    assert state["title"] == HOSTILE_SERIES
    assert state["rows"] == ["jade_teapot", "red_lantern"]  # the catalyst first
    assert state["cells"] == [f"cell {role}" for _, role in series_helpers.SCRIPT]
    assert state["files"][0] == f"{HOSTILE_SERIES}/第1集 {PAYLOAD}.mp4"
    lanes = [bool(_table(series_run, name)) for name in ("themes", "events")]
    assert state["charts"] == 1 + sum(lanes)  # the index, then theme and event lanes when there are any
    assert state["pwned"] is None and state["injected"] == 0

    target = browser.evaluate(session, """(() => {
      const link = document.querySelector('tr[data-symbol=jade_teapot] td.cell[data-episode="5"] a');
      const box = link.getBoundingClientRect();
      return {x: box.left + box.width / 2, y: box.top + box.height / 2, href: link.href};
    })()""")
    assert target["href"].endswith("/report.html#t=0.50")  # episode 5's vow, the line that makes it a catalyst
    events = series_run / "tables" / "events.parquet"
    videos = {row["episode"]: row["video_id"] for row in _table(series_run, "videos")}
    vow = [row for row in pq.read_table(events).to_pylist() if row["video_id"] == videos[5]]
    assert [row["start_seconds"] for row in vow] == [0.5]

    browser.events.clear()
    for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
        browser.call("Input.dispatchMouseEvent", {"type": kind, "x": target["x"], "y": target["y"],
                                                  "button": "left", "clickCount": 1}, session)
    browser.wait_event("Page.loadEventFired")
    landed = browser.evaluate(session, _SETTLED)
    assert landed["path"].endswith(f"/videos/{videos[5]}/report.html") and landed["hash"] == "#t=0.50"
    assert landed["time"] == pytest.approx(0.5, abs=0.05)
    assert not _errors(browser), _errors(browser)


def test_corpus_page_links_each_series_as_text(series_run: Path, browser: DevTools) -> None:
    session = browser.open((series_run / "report.html").as_uri())
    links = browser.evaluate(session, """Array.from(document.querySelectorAll('a[href^="series/"]'))
      .map(a => [a.textContent, a.getAttribute('href')])""")
    assert links == [[HOSTILE_SERIES, series_page_name(HOSTILE_SERIES)]]
    assert browser.evaluate(session, "window.__pwned === undefined && !document.querySelector('img[src=x]')")
    assert not _errors(browser), _errors(browser)
