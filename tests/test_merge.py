"""`motiflens merge`: an incomplete, duplicated or mixed shard set is refused (unless --allow-partial), and run
folders hold no absolute paths into themselves, so a moved or merged run resumes from its checkpoints."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import media
import pytest
from click.testing import CliRunner
from motiflens.cli.main import cli
from motiflens.cli.support import EXIT_INPUT, EXIT_OK
from motiflens.run.discovery import shard_of
from run_helpers import make_run, run_json

SHARDS = 3


def merge(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["merge", *map(str, args)])
    return result.exit_code, result.output


def write_run_json(folder: Path, document: dict) -> None:
    (folder / "run.json").write_text(json.dumps(document, indent=2), encoding="utf-8")


def as_shard(source: Path, target: Path, index: int, count: int) -> Path:
    """A copy of the synthetic run holding the videos of shard index/count, as `motiflens run --shard` records it."""
    shutil.copytree(source, target)
    document = run_json(target)
    document["videos"] = [video for video in document["videos"] if shard_of(video["video_id"], count) == index]
    document.update(shard={"index": index, "count": count}, completed=True)
    write_run_json(target, document)
    return target


@pytest.fixture
def shards(tmp_path: Path) -> list[Path]:
    source = tmp_path / "source"
    make_run(source)
    folders = [as_shard(source, tmp_path / f"shard-{index}", index, SHARDS) for index in range(SHARDS)]
    assert all(run_json(folder)["videos"] for folder in folders), "every shard should hold a video"
    return folders


def test_a_whole_shard_set_merges_and_names_its_shards_relatively(shards: list[Path], tmp_path: Path) -> None:
    code, output = merge(*shards, "--out", tmp_path / "merged")
    assert code == EXIT_OK, output
    assert "5 videos from 3 runs: 4 ok, 1 failed, 0 skipped" in output
    merged = run_json(tmp_path / "merged")
    assert merged["shards"] == {"count": 3, "indices": [0, 1, 2], "missing": []}
    assert merged["partial"] is False
    assert merged["merged_from"] == ["../shard-0", "../shard-1", "../shard-2"]


def test_a_missing_shard_is_refused_and_nothing_is_written(shards: list[Path], tmp_path: Path) -> None:
    code, output = merge(shards[0], shards[2], "--out", tmp_path / "merged")
    assert code == EXIT_INPUT
    assert "incomplete shard set: shard 1/3 missing (2 of 3 given)" in output
    assert "--allow-partial" in output
    assert not (tmp_path / "merged").exists()


def test_allow_partial_merges_what_is_there_and_says_so(shards: list[Path], tmp_path: Path) -> None:
    code, output = merge(shards[0], shards[2], "--out", tmp_path / "merged", "--allow-partial")
    assert code == EXIT_OK, output
    assert "warning: partial corpus, shard 1/3 missing" in output
    merged = run_json(tmp_path / "merged")
    assert merged["partial"] is True and merged["shards"]["missing"] == [1]
    expected = sorted(video["video_id"] for folder in (shards[0], shards[2]) for video in run_json(folder)["videos"])
    assert [video["video_id"] for video in merged["videos"]] == expected


def test_a_shard_given_twice_is_refused_even_with_allow_partial(shards: list[Path], tmp_path: Path) -> None:
    copy = shutil.copytree(shards[1], tmp_path / "elsewhere" / "shard-1")
    code, output = merge(*shards, copy, "--out", tmp_path / "merged", "--allow-partial")
    assert code == EXIT_INPUT
    assert re.search(r"shard 1/3 is given twice: \S+shard-1 and \S+elsewhere/shard-1", output), output


def test_shards_of_different_splits_are_refused(shards: list[Path], tmp_path: Path) -> None:
    other = as_shard(tmp_path / "source", tmp_path / "two-0", 0, 2)
    code, output = merge(shards[1], shards[2], other, "--out", tmp_path / "merged", "--allow-partial")
    assert code == EXIT_INPUT
    assert "shards of different splits (N = 2, 3)" in output


def test_a_plain_run_among_shards_and_an_unfinished_shard_are_refused(shards: list[Path], tmp_path: Path) -> None:
    plain = as_shard(tmp_path / "source", tmp_path / "plain", 0, 1)
    document = run_json(plain)
    document["shard"] = None
    write_run_json(plain, document)
    code, output = merge(plain, shards[1], "--out", tmp_path / "merged")
    assert code == EXIT_INPUT and "is not a shard" in output, output

    document = run_json(shards[2])
    document["completed"] = False
    write_run_json(shards[2], document)
    code, output = merge(*shards, "--out", tmp_path / "merged")
    assert code == EXIT_INPUT and "shard-2 did not finish" in output, output


# ------------------------------------------------------------------------- moved and merged real runs


QUICK = ("--set", "visual.enabled=false", "--set", "story.enabled=false")


def run_quick(videos: Path, out: Path, *extra: str) -> dict:
    result = CliRunner().invoke(cli, ["run", "--quiet", str(videos), "--out", str(out), *QUICK, *extra])
    assert result.exit_code == EXIT_OK, result.output
    return run_json(out)


def reader_files(out: Path) -> dict[str, bytes]:
    """The data files (the report page and ELAN file hold a path to the video relative to their folder)."""
    keep = ("timeline.json", ".vtt", ".srt", ".csv")
    return {
        path.relative_to(out).as_posix(): path.read_bytes()
        for path in sorted(out.rglob("*"))
        if path.is_file() and path.name.endswith(keep)
    }


def files_naming(folder: Path, text: str) -> list[str]:
    return sorted(
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and text.encode() in path.read_bytes()
    )


# Where a report page's video player and an ELAN file's relative media link point.
MEDIA_LINKS = {
    "videos/*/report.html": r'<video[^>]*\ssrc="([^"]+)"',
    "videos/*/*.eaf": r'RELATIVE_MEDIA_URL="([^"]+)"',
}


def media_sources(run: Path) -> set[Path]:
    """The files the run's report pages and ELAN files link to, resolved from their folders."""
    found = set()
    for pattern, link in MEDIA_LINKS.items():
        for page in run.glob(pattern):
            match = re.search(link, page.read_text(encoding="utf-8"))
            assert match, page
            found.add((page.parent / match.group(1)).resolve())
    return found


def test_a_moved_run_and_a_merge_of_it_resume_from_their_checkpoints(tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    media.make_clip(videos / "ep-01.mp4", seconds=2.0)
    first = tmp_path / "first"
    run_quick(videos, first, "--shard", "0/1")
    before = reader_files(first)
    assert files_naming(first, str(first)) == [], "outputs name their own run folder by absolute path"
    assert '"audio.wav"' in next(first.glob("videos/*/stages/ingest.json")).read_text(encoding="utf-8")

    moved = tmp_path / "elsewhere" / "deeper" / "moved"
    moved.parent.mkdir(parents=True)
    first.rename(moved)
    document = run_quick(videos, moved, "--shard", "0/1")
    assert [video.get("cached_stages") for video in document["videos"]] == [document["stages"]]
    assert reader_files(moved) == before
    assert media_sources(moved) == {(videos / "ep-01.mp4").resolve()}

    merged = tmp_path / "merged"
    code, output = merge(moved, "--out", merged)
    assert code == EXIT_OK, output
    assert run_json(merged)["merged_from"] == ["../elsewhere/deeper/moved"]
    assert files_naming(merged, str(moved)) == []
    assert media_sources(merged) == {(videos / "ep-01.mp4").resolve()}
    document = run_quick(videos, merged)
    assert [video.get("cached_stages") for video in document["videos"]] == [document["stages"]]
    assert reader_files(merged) == before
