"""The corpus page: every symbol and video, the numbers behind its charts, escaping, the JSON island."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from motiflens.core.errors import InputError
from motiflens.reports.corpus.charts import nice_ticks
from motiflens.reports.corpus.data import corpus_data, parse_date
from motiflens.reports.corpus.page import write_corpus_page
from motiflens.reports.tables import write_tables
from motiflens.reports.video_page import write_video_page
from report_helpers import ALL_PAYLOADS, XSS_PAYLOADS, parse_page
from run_helpers import SKIP_REASON, VIDEOS, make_run, timelines

ISLAND = re.compile(r'<script type="application/json" id="corpus-data">(.*?)</script>', re.S)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus") / "run"
    make_run(folder, payload=ALL_PAYLOADS)
    return folder


@pytest.fixture(scope="module")
def page(run_dir: Path) -> str:
    return write_corpus_page(run_dir).read_text(encoding="utf-8")


def test_every_symbol_and_video_is_on_the_page(run_dir: Path, page: str) -> None:
    documents = timelines(run_dir)
    text = " ".join(parse_page(page).text)
    for video_id in VIDEOS:
        assert video_id in text
    for document in documents.values():
        for occurrence in document["symbols"]:
            assert occurrence["symbol_id"] in text
            assert occurrence["label"] in text  # escaped in the HTML, plain again in the parsed text
    assert "cannot open bad-05" in text  # the failed video's error


def test_the_numbers_match_the_timelines(run_dir: Path) -> None:
    data = corpus_data(run_dir)
    documents = timelines(run_dir)
    occurrences = [(video_id, o) for video_id, d in documents.items() for o in d["symbols"]]
    by_symbol = {s["symbol_id"]: s for s in data["symbols"]}
    assert set(by_symbol) == {o["symbol_id"] for _, o in occurrences}
    for symbol_id, stats in by_symbol.items():
        mine = [(v, o) for v, o in occurrences if o["symbol_id"] == symbol_id]
        assert stats["occurrences"] == len(mine)
        assert stats["videos"] == len({v for v, _ in mine})
        assert stats["role_counts"] == {r: sum(o["role"] == r for _, o in mine)
                                        for r in ("decorative", "referenced", "catalyst")}
        screen = sum(o["end_seconds"] - o["start_seconds"] for _, o in mine if o["origin"] == "visual")
        named = sum(o["end_seconds"] - o["start_seconds"] for _, o in mine if o["origin"] == "dialogue")
        assert stats["screen_seconds"] == pytest.approx(screen, abs=1e-3)
        assert stats["dialogue_seconds"] == pytest.approx(named, abs=1e-3)
    assert by_symbol["red_lantern"]["role_counts"] == {"decorative": 0, "referenced": 1, "catalyst": 2}
    assert data["event_counts"] == dict(Counter(e["type"] for d in documents.values() for e in d["events"]))

    # red_lantern's evidence names event-0001 (a vow) in ep-01 and ep-02; ep-04 has no event-0001 any more.
    co = data["cooccurrence"]
    assert co["symbols"] == ["red_lantern"] and co["event_types"] == ["vow"]
    assert co["counts"] == [[2]] and co["catalyst_counts"] == [[2]]

    index = {v["video_id"]: v["internalization_index"] for v in data["videos"]}
    assert index == {"bad-05": None, "ep-01": 0.449, "ep-02": 1.0, "ep-03": None, "ep-04": 0.0}
    assert data["run"]["counts"] == {"failed": 1, "ok": 4}


def test_over_time_and_by_series(run_dir: Path) -> None:
    data = corpus_data(run_dir)
    series = f"Jade Saga {ALL_PAYLOADS}"
    assert [(p["video_id"], p["date"], p["index"], p["series"]) for p in data["over_time"]["points"]] == [
        ("ep-01", "2024-01-05", 0.449, series), ("ep-02", "2024-02-10", 1.0, series),
    ]
    assert data["over_time"]["unparsed"] == ["ep-04"]  # "sometime in spring"
    groups = {g["series"]: g for g in data["by_series"]}
    assert groups[series]["mean_index"] == pytest.approx((0.449 + 1.0) / 2, abs=1e-3)
    thai = groups[f"Thai Romance {ALL_PAYLOADS}"]
    assert (thai["videos"], thai["with_index"], thai["mean_index"]) == (2, 1, 0.0)  # ep-03 has no symbols


def test_the_visual_stream_skip_is_said_plainly(run_dir: Path, page: str) -> None:
    text = " ".join(parse_page(page).text)
    assert "The visual stream did not run for 4 of 4 video(s)" in text
    assert SKIP_REASON in text and "come from the dialogue only" in text


def test_payloads_are_escaped_everywhere(page: str) -> None:
    for payload in (*XSS_PAYLOADS, "<!--"):
        assert payload not in page
    elements = parse_page(page)
    # Only the page's own two scripts; no element or attribute came out of the data.
    assert elements.tag_counts["script"] == 2 and elements.tag_counts["img"] == 0
    assert not [name for name in elements.attribute_names if name.startswith("on")]
    text = " ".join(elements.text)
    assert "<script>alert(1)</script>" in text  # shown as text: in file names, metadata, labels, reasons
    assert f"ep-01 {ALL_PAYLOADS}.mp4" in text and f"note {ALL_PAYLOADS}" in text


def test_the_json_island_parses_to_the_data(run_dir: Path, page: str) -> None:
    (island,) = ISLAND.findall(page)
    assert "<" not in island
    assert json.loads(island) == json.loads(json.dumps(corpus_data(run_dir)))
    assert parse_page(page).scripts[0] == island


def test_links_only_to_pages_that_exist(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    make_run(run_dir)
    assert 'href="videos/' not in write_corpus_page(run_dir).read_text(encoding="utf-8")
    write_video_page(timelines(run_dir)["ep-02"], run_dir / "videos" / "ep-02", None)
    page = write_corpus_page(run_dir).read_text(encoding="utf-8")
    assert re.findall(r'href="(videos/[^"]+)"', page) == ["videos/ep-02/report.html"]


def test_rerun_gives_the_same_bytes(run_dir: Path, page: str) -> None:
    assert write_corpus_page(run_dir).read_text(encoding="utf-8") == page


def test_an_empty_run_still_renders(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text(json.dumps({"videos": []}), encoding="utf-8")
    write_tables(tmp_path)
    page = write_corpus_page(tmp_path).read_text(encoding="utf-8")
    assert "0 video(s)" in page and "No symbol occurrences in this run." in page


def test_a_run_without_tables_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no corpus tables"):
        write_corpus_page(tmp_path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01", dt.date(2024, 5, 1)),
        ("2024/05/01", dt.date(2024, 5, 1)),
        ("2024-05-01T10:00:00", dt.date(2024, 5, 1)),
        ("2024-05", dt.date(2024, 5, 1)),
        ("2024", dt.date(2024, 1, 1)),
        ("2024-13-01", None),
        ("2024-05-01x", None),
        ("spring", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(text: Any, expected: dt.date | None) -> None:
    assert parse_date(text) == expected


def test_nice_ticks() -> None:
    assert nice_ticks(3, integer=True) == [0, 1, 2, 3]
    assert nice_ticks(1, integer=True) == [0, 1]
    assert nice_ticks(12.96) == [0, 5, 10, 15]
    assert nice_ticks(0) == [0, 1]
