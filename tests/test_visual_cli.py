"""The visual stream through the CLI: missing weights both ways, the test model's gate, a full run, calibrate."""

import json
from pathlib import Path

import media
import pytest
import yaml
from click.testing import CliRunner
from motiflens.cli.main import cli
from motiflens.cli.support import EXIT_CONFIG, EXIT_MODEL, EXIT_OK
from motiflens.core.taxonomy import load_taxonomy, taxonomy_paths
from motiflens.run.timeline import validate_timeline
from motiflens.visual.weights import ALLOW_TEST_MODELS_ENV
from PIL import Image
from visual_helpers import small_taxonomy

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = str(ROOT / "configs" / "default.yaml")
# The dialogue stream has its own tests; keep these runs about the visual stream.
VISUAL_ONLY = ("--set", "asr.enabled=false", "--set", "ocr.enabled=false")


@pytest.fixture(autouse=True)
def offline(empty_cache: Path) -> Path:
    return empty_cache


@pytest.fixture(scope="module")
def clip(media_dir: Path) -> Path:
    return media.make_clip(media_dir / "visual-clip.mp4", seconds=3.0)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["run", "--quiet", *args])
    return result.exit_code, result.output


def timelines(out: Path) -> list[dict]:
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(out.rglob("timeline.json"))]


def test_missing_weights_with_skip_runs_on_and_says_why(clip: Path, tmp_path: Path, caplog) -> None:
    out = tmp_path / "out"
    code, output = run(str(clip), "--config", DEFAULT_CONFIG, *VISUAL_ONLY, "--out", str(out))
    assert code == EXIT_OK, output
    (timeline,) = timelines(out)
    visual = timeline["streams"]["visual"]
    assert visual["status"] == "skipped"
    for fix in ("visual.weights", "motiflens models import", "visual.allow_download"):
        assert fix in visual["reason"]
    assert timeline["symbols"] == [] and "visual" not in timeline["run"]["models"]
    warnings = [r for r in caplog.records if r.name == "motiflens.visual" and "SKIPPED" in r.getMessage()]
    assert len(warnings) == 1


def test_missing_weights_with_error_stops_before_any_video_work(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, output = run(str(clip), "--config", DEFAULT_CONFIG, *VISUAL_ONLY,
                       "--set", "visual.on_missing_weights=error", "--out", str(out))
    assert code == EXIT_MODEL, output
    assert "visual.weights" in output and "allow_download" in output
    assert not list(out.rglob("timeline.json")) and not (out / "videos").exists()


def test_the_research_configs_refuse_to_run_without_weights() -> None:
    for name in ("cpu-fast.yaml", "gpu-quality.yaml"):
        assert yaml.safe_load((ROOT / "configs" / name).read_text())["visual"]["on_missing_weights"] == "error"


def test_the_random_weight_test_model_is_refused_outside_tests(clip: Path, tmp_path: Path) -> None:
    code, output = run(str(clip), *VISUAL_ONLY, "--set", "visual.model=test", "--out", str(tmp_path / "out"))
    assert code == EXIT_CONFIG, output
    assert "test suite only" in output and ALLOW_TEST_MODELS_ENV in output
    assert not list((tmp_path / "out").rglob("timeline.json"))


def test_a_run_with_the_test_model_fills_symbols_and_names_its_random_weights(
    clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOW_TEST_MODELS_ENV, "1")
    taxonomy = small_taxonomy(tmp_path / "small.yaml")
    out = tmp_path / "out"
    # Random weights give flat scores near 1 / (1 + backgrounds): a low threshold makes every symbol "present".
    code, output = run(
        str(clip), *VISUAL_ONLY, "--out", str(out), "--set", "visual.model=test",
        "--set", "visual.builtin_taxonomy=false", "--set", f"visual.taxonomy=[{taxonomy}]",
        "--set", "visual.threshold=0.01", "--set", "visual.hysteresis=0.005",
    )
    assert code == EXIT_OK, output
    (timeline,) = timelines(out)
    validate_timeline(timeline)
    assert timeline["streams"]["visual"] == {"status": "ok"}
    visual_model = timeline["run"]["models"]["visual"]
    assert visual_model["weights"] == "random" and "not a detector" in visual_model["id"]
    assert visual_model["sha256"] is None
    run_json = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run_json["models"]["visual"] == visual_model
    stats = run_json["videos"][0]["stats"]["visual"]
    assert stats["frames"] == 3 and stats["tiles_per_frame"] == 3

    # Same start: taxonomy order.
    assert [s["symbol_id"] for s in timeline["symbols"]] == ["red_lantern", "porcelain", "calligraphy"]
    folder = out / run_json["videos"][0]["timeline"].rsplit("/", 1)[0]
    for symbol in timeline["symbols"]:
        assert (symbol["start_seconds"], symbol["end_seconds"]) == (0.0, 3.0)
        assert symbol["role"] == "decorative" and 0 <= symbol["narrative_weight"] <= 1
        assert symbol["screen_region"]["tile"] in (0, 1, 2)
        assert symbol["origin"] == "visual"
        role, evidence = symbol["evidence"]
        assert role["kind"] == "role" and role["text"].startswith("decorative: never named")
        assert evidence["kind"] == "visual"
        thumbnail = folder / evidence["ref"]
        with Image.open(thumbnail) as image:
            assert image.format == "JPEG" and max(image.size) == 384
    assert timeline["summary"]["symbol_screen_seconds"] == {
        "calligraphy": 3.0, "porcelain": 3.0, "red_lantern": 3.0}


def test_calibrate_fits_thresholds_and_writes_an_overlay_a_run_can_use(
    clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOW_TEST_MODELS_ENV, "1")
    taxonomy = small_taxonomy(tmp_path / "small.yaml")
    frames = tmp_path / "frames"
    frames.mkdir()
    for name, colour in (("red.png", (200, 20, 20)), ("blue.png", (20, 20, 200)), ("grey.png", (90, 90, 90))):
        Image.new("RGB", (90, 160), colour).save(frames / name)
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "image,video,time_seconds,symbol_id,label\n"
        "frames/red.png,,,red_lantern,1\n"
        "frames/blue.png,,,red_lantern,0\n"
        "frames/grey.png,,,red_lantern,0\n"
        f",{clip},1.0,red_lantern,1\n"
        "frames/blue.png,,,porcelain,1\n",
        encoding="utf-8",
    )
    overlay = tmp_path / "overlay.yaml"
    settings = ["--set", "visual.model=test", "--set", "visual.builtin_taxonomy=false",
                "--set", f"visual.taxonomy=[{taxonomy}]"]
    result = CliRunner().invoke(cli, ["calibrate", str(labels), "--out", str(overlay), *settings])
    assert result.exit_code == EXIT_OK, result.output
    assert "porcelain" in result.output and "not fitted" in result.output
    document = yaml.safe_load(overlay.read_text(encoding="utf-8"))
    assert document["kind"] == "overlay" and document["fitted_with"]["model"] == "test"
    fitted = document["symbols"]["red_lantern"]
    assert 0 < fitted["threshold"] < 1
    assert fitted["calibration"]["positives"] == 2 and fitted["calibration"]["negatives"] == 2
    merged = load_taxonomy(taxonomy_paths(False, [taxonomy, overlay]))
    assert merged.get("red_lantern").threshold == fitted["threshold"]


def test_calibrate_names_the_bad_line(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("image,symbol_id,label\nx.png,not_a_symbol,1\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["calibrate", str(labels), "--out", str(tmp_path / "o.yaml")])
    assert result.exit_code == 3 and "labels.csv:2" in result.output and "not_a_symbol" in result.output


def test_a_disabled_visual_stream_is_reported_as_skipped(tmp_path: Path) -> None:
    from motiflens.core.config import load_config
    from motiflens.core.records import VideoSource
    from motiflens.stages.base import VideoWork
    from motiflens.stages.visual import VisualStage

    stage = VisualStage(load_config(None, ["visual.enabled=false"]))
    stage.prepare()
    stage.open()
    work = VideoWork(VideoSource(tmp_path / "x.mp4", "x.mp4", "x"), tmp_path)
    stage.process(work)
    stage.close()
    assert work.streams["visual"].to_json() == {"status": "skipped", "reason": "visual.enabled is false"}
    assert stage.models() == {}
