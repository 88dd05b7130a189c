import os
from pathlib import Path

import pytest
from motiflens.core.config import InputConfig
from motiflens.core.errors import InputError
from motiflens.run.discovery import discover, video_id_for


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_recursive_scan_is_sorted_case_insensitive_and_skips_hidden(tmp_path: Path) -> None:
    touch(tmp_path / "b" / "EP2.MP4")
    touch(tmp_path / "a.mov")
    touch(tmp_path / "notes.txt")
    touch(tmp_path / ".hidden.mp4")
    touch(tmp_path / ".cache" / "c.mp4")
    found = discover([tmp_path], InputConfig())
    assert [source.relative_path for source in found] == ["a.mov", "b/EP2.MP4"]


def test_symlink_loops_terminate(tmp_path: Path) -> None:
    touch(tmp_path / "show" / "ep1.mp4")
    os.symlink(tmp_path, tmp_path / "show" / "loop")
    found = discover([tmp_path], InputConfig())
    assert [source.relative_path for source in found] == ["show/ep1.mp4"]


def test_video_ids_are_stable_safe_and_unique() -> None:
    odd = video_id_for("第一集 episode 1 (final).mp4")
    assert odd == video_id_for("第一集 episode 1 (final).mp4")
    assert odd.startswith("episode-1-final-")
    chinese_only = video_id_for("第一集.mp4")
    assert chinese_only.startswith("video-") and chinese_only != video_id_for("第二集.mp4")
    for hostile in ("../../etc/passwd", "a/../../b.mp4", "..", "con.mp4"):
        identifier = video_id_for(hostile)
        assert "/" not in identifier and "." not in identifier and identifier


def test_manifest_reads_paths_relative_to_itself_and_keeps_metadata(tmp_path: Path) -> None:
    touch(tmp_path / "clips" / "ep 1.mp4")
    manifest = tmp_path / "list.csv"
    manifest.write_text("path,series,date\nclips/ep 1.mp4,Dunhuang,2024-02-10\n", encoding="utf-8")
    (source,) = discover([manifest], InputConfig())
    assert source.path == (tmp_path / "clips" / "ep 1.mp4").resolve()
    assert source.metadata == {"series": "Dunhuang", "date": "2024-02-10", "episode": "1"}


def test_manifest_without_path_column_and_missing_inputs_are_errors(tmp_path: Path) -> None:
    manifest = tmp_path / "list.csv"
    manifest.write_text("file\na.mp4\n")
    with pytest.raises(InputError, match="'path' column"):
        discover([manifest], InputConfig())
    with pytest.raises(InputError, match="input not found"):
        discover([tmp_path / "nope.mp4"], InputConfig())


def test_the_same_file_given_twice_is_processed_once(tmp_path: Path) -> None:
    video = touch(tmp_path / "ep.mp4")
    assert len(discover([video, tmp_path], InputConfig())) == 1
