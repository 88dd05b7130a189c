from pathlib import Path

import pytest
from click.testing import CliRunner
from motiflens.cli.main import cli
from motiflens.cli.support import EXIT_CONFIG
from motiflens.core.config import Config, load_config
from motiflens.core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["default.yaml", "cpu-fast.yaml", "gpu-quality.yaml"])
def test_shipped_configs_validate(name: str) -> None:
    assert isinstance(load_config(ROOT / "configs" / name), Config)


def test_unknown_key_names_its_dotted_path_and_the_known_keys(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("frames:\n  sampel_fps: 2\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert "frames.sampel_fps: unknown key" in str(error.value)
    assert "sample_fps" in str(error.value)


def test_bad_value_names_the_key_and_its_allowed_range(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("frames:\n  sample_fps: 0\ntiles:\n  overlap: 0.9\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert "frames.sample_fps" in message and "allowed: > 0 and <= 30" in message
    assert "tiles.overlap" in message and "<= 0.75" in message


def test_bad_choice_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match="device: Input should be 'auto', 'cpu' or 'cuda'"):
        load_config(overrides=["device=tpu"])


def test_set_overrides_reach_nested_keys_and_parse_yaml_scalars() -> None:
    config = load_config(overrides=["frames.sample_fps=2.5", "bands.detect_subtitles=false", "seed=7"])
    assert config.frames.sample_fps == 2.5
    assert config.bands.detect_subtitles is False
    assert config.seed == 7


def test_set_without_equals_and_into_a_value_are_errors() -> None:
    with pytest.raises(ConfigError, match="key=value"):
        load_config(overrides=["frames.sample_fps"])
    with pytest.raises(ConfigError, match="seed: Input should be a valid integer"):
        load_config(overrides=["seed.x=1"])
    with pytest.raises(ConfigError, match="seed is a value, not a section"):
        load_config(overrides=["seed=1", "seed.x=1"])


def test_non_mapping_and_invalid_yaml_files_are_config_errors(tmp_path: Path) -> None:
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(listing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("frames: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)


def test_yaml_is_read_with_the_safe_loader(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("seed: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)


def test_hash_is_stable_and_changes_with_any_value() -> None:
    assert load_config().hash() == load_config().hash()
    assert load_config().hash() != load_config(overrides=["frames.max_side=640"]).hash()


def test_cli_validate_and_show(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["config", "validate", str(ROOT / "configs" / "cpu-fast.yaml")])
    assert ok.exit_code == 0 and "ok:" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("run:\n  chunk_videos: 0\n")
    failed = runner.invoke(cli, ["config", "validate", str(bad)])
    assert failed.exit_code == EXIT_CONFIG
    assert "run.chunk_videos" in failed.output and ">= 1" in failed.output
    shown = runner.invoke(cli, ["config", "show", "--set", "frames.sample_fps=3"])
    assert shown.exit_code == 0
    reloaded = tmp_path / "shown.yaml"
    reloaded.write_text(shown.output)
    assert load_config(reloaded).frames.sample_fps == 3
    assert load_config(reloaded).hash() == load_config(overrides=["frames.sample_fps=3"]).hash()


def test_role_weights_cannot_all_be_zero() -> None:
    zeros = [f"align.weights.{name}=0" for name in ("prominence", "reference", "event_coupling", "recurrence")]
    with pytest.raises(ConfigError, match=r"align\.weights: .*at least one weight must be positive"):
        load_config(None, zeros)
