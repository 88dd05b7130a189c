"""write_run_reports / `motiflens report`: every page and export of a run, idempotent to the byte."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from click.testing import CliRunner
from motiflens.cli.main import cli
from motiflens.cli.support import EXIT_INPUT, EXIT_OK
from motiflens.core.errors import InputError
from motiflens.reports.elan import DEFAULT_DATE
from motiflens.reports.labelstudio import labelstudio_config
from motiflens.reports.run_reports import write_run_reports
from run_helpers import make_run, timelines


@pytest.fixture
def video_file(tmp_path: Path, samples_dir: Path) -> Path:
    target = tmp_path / "inputs" / "lantern vow #1.mp4"
    target.parent.mkdir()
    shutil.copy2(samples_dir / "lantern_vow.mp4", target)
    return target


@pytest.fixture
def run_dir(tmp_path: Path, video_file: Path) -> Path:
    folder = tmp_path / "out" / "run"
    make_run(folder, video_file=video_file)
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_writes_every_page_and_export(run_dir: Path) -> None:
    written = write_run_reports(run_dir)
    ok = ["ep-01", "ep-02", "ep-03", "ep-04"]
    expected = {run_dir / "videos" / v / name for v in ok for name in ("report.html", f"{v}.eaf")}
    expected |= {run_dir / "labelstudio" / "tasks.json", run_dir / "labelstudio" / "config.xml"}
    expected |= {run_dir / "report.html"}
    assert set(written) == expected and len(written) == len(expected)
    assert all(path.is_file() for path in written)
    assert not (run_dir / "videos" / "bad-05").exists()  # the failed video has no timeline, so no pages
    assert (run_dir / "labelstudio" / "config.xml").read_text(encoding="utf-8") == labelstudio_config()
    assert not list(run_dir.rglob("*.part"))


def test_idempotent_to_the_byte(run_dir: Path) -> None:
    write_run_reports(run_dir)
    first = snapshot(run_dir)
    write_run_reports(run_dir)
    assert snapshot(run_dir) == first


def test_video_links_reach_the_video(run_dir: Path, video_file: Path) -> None:
    write_run_reports(run_dir)
    page = (run_dir / "videos" / "ep-01" / "report.html").read_text(encoding="utf-8")
    href = "../../../../inputs/" + quote(video_file.name)
    assert f'src="{href}"' in page
    assert (run_dir / "videos" / "ep-01" / unquote(href)).resolve() == video_file.resolve()
    eaf = ET.parse(run_dir / "videos" / "ep-01" / "ep-01.eaf").getroot()
    assert eaf.get("DATE") == DEFAULT_DATE  # not the wall clock: reruns stay identical
    media = eaf.find("HEADER/MEDIA_DESCRIPTOR")
    assert media is not None and media.get("MEDIA_URL") == video_file.resolve().as_uri()


def test_labelstudio_tasks_cover_every_occurrence(run_dir: Path, video_file: Path) -> None:
    write_run_reports(run_dir)
    tasks = json.loads((run_dir / "labelstudio" / "tasks.json").read_text(encoding="utf-8"))
    documents = timelines(run_dir)
    expected = [
        (video_id, o["symbol_id"], o["start_seconds"]) for video_id, d in documents.items() for o in d["symbols"]
    ]
    assert [(t["data"]["video_id"], t["data"]["symbol_id"], t["data"]["start_seconds"]) for t in tasks] == expected
    for task in tasks:
        url = task["data"]["video"]
        assert (run_dir / unquote(url)).resolve() == video_file.resolve()


def test_labelstudio_urls_from_a_base_url(run_dir: Path) -> None:
    for base, expected in (
        ("http://localhost:8081", "http://localhost:8081/ep-02.mp4"),
        ("/data/local-files/?d=samples/", "/data/local-files/?d=samples/ep-02.mp4"),
    ):
        write_run_reports(run_dir, video_base_url=base)
        tasks = json.loads((run_dir / "labelstudio" / "tasks.json").read_text(encoding="utf-8"))
        assert {t["data"]["video"] for t in tasks if t["data"]["video_id"] == "ep-02"} == {expected}
    make_run(run_dir, payload="#1 & ?")  # names with URL syntax are encoded
    write_run_reports(run_dir, video_base_url="http://localhost:8081/")
    tasks = json.loads((run_dir / "labelstudio" / "tasks.json").read_text(encoding="utf-8"))
    assert tasks[0]["data"]["video"] == "http://localhost:8081/ep-01%20%231%20%26%20%3F.mp4"


def test_rebuilds_missing_tables(run_dir: Path) -> None:
    shutil.rmtree(run_dir / "tables")
    written = write_run_reports(run_dir)
    assert run_dir / "tables" / "videos.parquet" in written
    assert "ep-04" in (run_dir / "report.html").read_text(encoding="utf-8")


def test_a_missing_timeline_or_run_is_an_input_error(run_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no run\.json"):
        write_run_reports(tmp_path / "nothing")
    (run_dir / "videos" / "ep-03" / "timeline.json").unlink()
    with pytest.raises(InputError, match=r"timeline\.json of ep-03"):
        write_run_reports(run_dir)


def test_the_report_command(run_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["report", str(run_dir)])
    assert result.exit_code == EXIT_OK, result.output
    assert "4 video page(s), 4 ELAN file(s)" in result.output
    assert (run_dir / "report.html").is_file()
    result = CliRunner().invoke(cli, ["report", str(tmp_path / "nothing")])
    assert result.exit_code == EXIT_INPUT and "no run.json" in result.output
