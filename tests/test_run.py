"""End-to-end runs through the CLI on generated media: statuses, outputs, determinism."""

import json
import stat
from pathlib import Path

import media
import pytest
from click.testing import CliRunner
from motiflens.cli.main import cli
from motiflens.cli.support import EXIT_INPUT, EXIT_OK, EXIT_VIDEO_FAILED
from motiflens.run.timeline import validate_timeline


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["run", "--quiet", *args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def bad_batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder holding a good clip beside every kind of bad input."""
    folder = tmp_path_factory.mktemp("batch")
    media.make_clip(folder / "good.mp4", seconds=2.0)
    media.make_clip(folder / media.ODD_NAME, seconds=2.0)
    media.make_zero_byte(folder / "zero.mp4")
    media.make_not_video(folder / "notes.mp4")
    media.make_truncated(folder / "cut-index.mp4", faststart=False)
    media.make_truncated(folder / "cut-download.mp4", faststart=True)
    media.make_audio_only(folder / "song.mp4")
    media.make_no_audio(folder / "mute.mp4", seconds=2.0)
    media.make_silent(folder / "silent.mp4", seconds=2.0)
    media.make_short(folder / "blink.mp4")
    media.make_rotated(folder / "phone.mov", seconds=1.5)
    media.make_vfr(folder / "vfr.mp4", seconds=2)
    media.make_4k(folder / "uhd.mp4", seconds=1.2)
    media.make_corrupt(folder / "noise.mp4")
    return folder


@pytest.fixture(scope="module")
def bad_run(bad_batch: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, dict, Path]:
    out = tmp_path_factory.mktemp("out")
    code, output = run_cli(str(bad_batch), "--out", str(out))
    return code, output, json.loads((out / "run.json").read_text()), out


def by_path(run_json: dict) -> dict[str, dict]:
    return {video["path"]: video for video in run_json["videos"]}


def test_every_bad_input_gets_a_precise_status_and_the_batch_goes_on(bad_run: tuple) -> None:
    code, output, run_json, _ = bad_run
    videos = by_path(run_json)
    assert code == EXIT_VIDEO_FAILED
    expected = {
        "good.mp4": ("ok", None),
        media.ODD_NAME: ("ok", None),
        "zero.mp4": ("failed", "empty (0 bytes)"),
        "notes.mp4": ("failed", "Invalid data found"),
        "cut-index.mp4": ("failed", "moov atom not found"),
        "cut-download.mp4": ("ok", None),
        "song.mp4": ("skipped", "no video stream"),
        "mute.mp4": ("ok", None),
        "silent.mp4": ("ok", None),
        "blink.mp4": ("skipped", "too short: 0.32 s"),
        "phone.mov": ("ok", None),
        "vfr.mp4": ("ok", None),
        "uhd.mp4": ("ok", None),
        "noise.mp4": ("failed", "Invalid NAL unit size"),
    }
    assert sorted(videos) == sorted(expected)
    for path, (status, message) in expected.items():
        assert videos[path]["status"] == status, (path, videos[path])
        if message:
            assert message in videos[path]["error"], (path, videos[path]["error"])
    assert run_json["counts"] == {"ok": 8, "failed": 4, "skipped": 2}
    assert run_json["completed"] is True
    assert "14 videos: 8 ok, 4 failed, 2 skipped" in output


def test_partial_files_and_missing_audio_are_explained(bad_run: tuple) -> None:
    _, _, run_json, out = bad_run
    videos = by_path(run_json)
    assert any("truncated" in warning for warning in videos["cut-download.mp4"]["warnings"])
    mute = json.loads((out / videos["mute.mp4"]["timeline"]).read_text())
    assert mute["streams"]["audio"] == {"status": "skipped", "reason": "the file has no audio stream"}
    silent = json.loads((out / videos["silent.mp4"]["timeline"]).read_text())
    assert silent["streams"]["audio"]["reason"].startswith("silent track")


def test_ok_videos_have_schema_valid_timelines_and_nothing_is_half_written(bad_run: tuple) -> None:
    _, _, run_json, out = bad_run
    for video in run_json["videos"]:
        timeline_path = out / "videos" / video["video_id"] / "timeline.json"
        assert timeline_path.exists() == (video["status"] == "ok")
        if video["status"] == "ok":
            document = json.loads(timeline_path.read_text())
            validate_timeline(document)
            assert document["video"]["path"] == video["path"]
    assert not list(out.rglob("*.part"))


def test_rotated_vfr_and_4k_videos_are_described_as_displayed(bad_run: tuple) -> None:
    _, _, run_json, out = bad_run
    videos = by_path(run_json)
    phone = json.loads((out / videos["phone.mov"]["timeline"]).read_text())["video"]
    assert (phone["width"], phone["height"], phone["rotation"], phone["orientation"]) == (270, 480, 270, "vertical")
    assert json.loads((out / videos["vfr.mp4"]["timeline"]).read_text())["video"]["vfr"] is True
    uhd = json.loads((out / videos["uhd.mp4"]["timeline"]).read_text())
    assert (uhd["video"]["width"], uhd["video"]["height"]) == (2160, 3840)
    tiles = uhd["ingest"]["layout"]["tiles"]
    assert [tile["box"] for tile in tiles] == [[0, 0, 2160, 2160], [0, 840, 2160, 3000], [0, 1680, 2160, 3840]]


def test_unicode_names_get_safe_ids_inside_the_output_folder(bad_run: tuple) -> None:
    _, _, run_json, out = bad_run
    odd = by_path(run_json)[media.ODD_NAME]
    assert odd["video_id"].startswith("episode-1-final-")
    assert (out / "videos" / odd["video_id"] / "timeline.json").is_file()


def test_fail_fast_stops_at_the_first_failure(bad_batch: Path, tmp_path: Path) -> None:
    code, output = run_cli(str(bad_batch), "--out", str(tmp_path), "--fail-fast")
    assert code == EXIT_VIDEO_FAILED and "--fail-fast" in output
    run_json = json.loads((tmp_path / "run.json").read_text())
    assert run_json["completed"] is False


def test_two_runs_on_the_same_input_give_identical_timelines(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    media.make_cut_clip(folder / "a.mp4", cuts=(1.0, 2.0), seconds=3.0)
    media.make_rotated(folder / "b.mp4", seconds=1.5)
    outputs = []
    for name in ("first", "second"):
        code, _ = run_cli(str(folder), "--out", str(tmp_path / name))
        assert code == EXIT_OK
        outputs.append(sorted((tmp_path / name / "videos").rglob("timeline.json")))
    assert len(outputs[0]) == 2
    for first, second in zip(*outputs, strict=True):
        assert first.read_bytes() == second.read_bytes()


def test_an_empty_folder_is_an_input_error(tmp_path: Path) -> None:
    code, output = run_cli(str(tmp_path), "--out", str(tmp_path / "out"))
    assert code == EXIT_INPUT and "no videos found" in output


def test_probe_command_prints_json_lines(bad_batch: Path) -> None:
    result = CliRunner().invoke(cli, ["probe", str(bad_batch / "phone.mov"), str(bad_batch / "zero.mp4")])
    lines = [json.loads(line) for line in result.output.strip().splitlines()]
    assert lines[0]["rotation"] == 270 and lines[1]["status"] == "failed"
    assert result.exit_code == EXIT_VIDEO_FAILED


def test_outputs_stay_inside_the_output_folder(tmp_path: Path) -> None:
    from motiflens.core.atomic import inside

    with pytest.raises(ValueError, match="outside"):
        inside(tmp_path, "videos", "../../escape")
    assert inside(tmp_path, "videos", "ok-123") == (tmp_path / "videos" / "ok-123").resolve()


def test_atomic_writes_get_the_mode_a_plain_open_would(tmp_path: Path) -> None:
    from motiflens.core.atomic import write_text

    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    written = tmp_path / "atomic.txt"
    write_text(written, "x")
    # mkstemp alone would leave 0600: a web server or a colleague could not read the report.
    assert stat.S_IMODE(written.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
