"""The per-video report page: escaping of video-sourced text, the JSON island, the relative video link, summary."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from motiflens.reports.video_page import json_for_script, render_video_page, write_video_page
from report_helpers import ALL_PAYLOADS, XSS_PAYLOADS, make_timeline, many_items_timeline, parse_page

ISLAND = re.compile(r'<script type="application/json" id="timeline-data">(.*?)</script>', re.DOTALL)
# Every tag the page itself writes; a payload that became markup would add one (img) or an attribute (onerror).
PAGE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "p", "div", "video", "section", "table",
    "caption", "tr", "th", "td", "ul", "li", "label", "input", "span", "b", "noscript", "script",
}


def _island(page: str) -> str:
    found = ISLAND.findall(page)
    assert len(found) == 1
    return found[0]


@pytest.fixture
def payload_video(tmp_path: Path, samples_dir: Path) -> Path:
    # The sample itself is not needed here, only a real file under a hostile name.
    video = tmp_path / "inputs" / 'ep "><img src=x onerror=alert(1)> #1?.mp4'
    video.parent.mkdir()
    video.write_bytes((samples_dir / "lantern_vow.mp4").read_bytes()[:1024])
    return video


def test_payloads_stay_text(tmp_path: Path, payload_video: Path) -> None:
    document = make_timeline(ALL_PAYLOADS, video_path=payload_video.name)
    page = write_video_page(document, tmp_path / "out" / "videos" / "v", payload_video).read_text(encoding="utf-8")

    assert "<script>alert" not in page
    assert "<img" not in page
    # onerror= may appear only where its "<img" was escaped: in HTML text as &lt;img, in the src URL encoded.
    for match in re.finditer("onerror=", page):
        before = page[max(0, match.start() - 40) : match.start()]
        assert "&lt;img" in before or "\\u003cimg" in before, before
    parsed = parse_page(page)
    assert {tag for tag, _ in parsed.tags} <= PAGE_TAGS
    assert [tag for tag, _ in parsed.tags].count("script") == 2
    assert not [name for _, attrs in parsed.tags for name in attrs if name.startswith("on")]
    text = "".join(parsed.text)
    for payload in XSS_PAYLOADS:
        assert payload in text  # shown to the reader as the literal text it was
    assert page.count("</script>") == 2


def test_json_island_parses_back_to_the_document(payload_video: Path, tmp_path: Path) -> None:
    document = make_timeline(ALL_PAYLOADS, video_path=payload_video.name)
    page = render_video_page(document, "video.mp4")
    island = _island(page)
    assert not set(island) & {"<", ">", "&", "\u2028", "\u2029"}
    assert json.loads(island) == document


def test_json_for_script_refuses_nan() -> None:
    with pytest.raises(ValueError):
        json_for_script({"x": float("nan")})


def test_video_link_is_relative_and_encoded(tmp_path: Path, payload_video: Path) -> None:
    folder = tmp_path / "out" / "videos" / "v"
    page = write_video_page(make_timeline(video_path=payload_video.name), folder, payload_video)
    assert page == folder / "report.html"
    videos = [attrs for tag, attrs in parse_page(page.read_text(encoding="utf-8")).tags if tag == "video"]
    assert len(videos) == 1
    src = videos[0]["src"]
    assert src is not None and src.startswith("../../../inputs/")
    assert not set(src) & set(' "<>#?')
    assert (folder / unquote(src)).resolve() == payload_video.resolve()
    assert not list(folder.glob("*.part"))


def test_missing_video_is_said_plainly(tmp_path: Path) -> None:
    document = make_timeline(video_path="<b>gone</b>.mp4")
    page = write_video_page(document, tmp_path / "v", tmp_path / "gone.mp4").read_text(encoding="utf-8")
    parsed = parse_page(page)
    assert "video" not in {tag for tag, _ in parsed.tags}
    assert "Video file not found: <b>gone</b>.mp4" in "".join(parsed.text)
    no_file = render_video_page(document, None)
    assert no_file == page


def test_summary_box(tmp_path: Path) -> None:
    text = " ".join(parse_page(render_video_page(make_timeline(), "v.mp4")).text)
    assert "visual stream skipped: no weights for visual model 'clip-vit-b-32'" in text
    assert "asr stream ok" in text
    assert re.search(r"Internalization index\s*0\.45", text)
    assert re.search(r"Language\s*en", text)
    assert re.search(r"Duration\s*0:09\.3", text)
    assert re.search(r"red_lantern\s*4\.32 s", text)
    assert re.search(r"vow\s*1", text) and re.search(r"reconciliation\s*1", text)

    empty = make_timeline()
    empty["summary"] = {"symbol_screen_seconds": {}, "internalization_index": None, "event_counts": {}}
    text = " ".join(parse_page(render_video_page(empty, "v.mp4")).text)
    assert "n/a (no symbol on screen)" in text and "n/a (no symbol named)" in text
    assert re.search(r"Plot events:\s*none", text)


def test_rerun_gives_the_same_page(tmp_path: Path, payload_video: Path) -> None:
    first = write_video_page(make_timeline(), tmp_path / "v", payload_video).read_bytes()
    second = write_video_page(make_timeline(), tmp_path / "v", payload_video).read_bytes()
    assert first == second


def test_long_episode_page_stays_small(tmp_path: Path) -> None:
    document = many_items_timeline()
    page = render_video_page(document, None)
    assert json.loads(_island(page)) == document
    # The lanes are built in the browser from the island; the page is the data plus a fixed script.
    assert len(page.encode()) < len(json.dumps(document).encode()) + 40_000
