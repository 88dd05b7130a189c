"""The cultural symbol taxonomy: content requirements, validation messages, merging, hashing, packaging."""

from pathlib import Path

import open_clip
import pytest
import yaml
from motiflens.core.errors import ConfigError
from motiflens.core.resources import project_resource
from motiflens.core.taxonomy import builtin_taxonomy_path, load_taxonomy, taxonomy_paths
from visual_helpers import DESIGN_IDS, symbol_entry, write_taxonomy

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def builtin():
    return load_taxonomy([builtin_taxonomy_path()])


def test_builtin_taxonomy_has_every_design_id_and_at_least_40_symbols(builtin) -> None:
    assert set(DESIGN_IDS) <= set(builtin.ids)
    assert len(builtin.symbols) >= 40
    assert len(builtin.background_prompts) >= 8
    assert builtin.version == "2026.2"


def test_every_symbol_is_complete_and_bilingual(builtin) -> None:
    for symbol in builtin.symbols:
        assert len(symbol.visual_prompts) >= 4, symbol.id
        assert symbol.dialogue_terms.en and symbol.dialogue_terms.zh, symbol.id
        assert symbol.label and symbol.zh and symbol.description, symbol.id
    dumplings = builtin.get("dumplings")
    assert {"dumpling", "dumplings", "jiaozi"} <= set(dumplings.dialogue_terms.en)
    assert {"饺子", "水饺"} <= set(dumplings.dialogue_terms.zh)


def test_prompts_fit_in_clip_context(builtin) -> None:
    """Prompts longer than 77 tokens would be cut silently."""
    tokenizer = open_clip.get_tokenizer("ViT-B-32")
    prompts = [p for s in builtin.symbols for p in s.visual_prompts] + list(builtin.background_prompts)
    lengths = (tokenizer(prompts) != 0).sum(dim=1)
    assert int(lengths.max()) < 77


def test_a_malformed_entry_fails_with_its_id_and_field(tmp_path: Path) -> None:
    bad = symbol_entry("broken_symbol", visual_prompts=["only", "three", "prompts"])
    path = write_taxonomy(tmp_path / "t.yaml", [symbol_entry("fine_symbol"), bad], background=["a room"])
    with pytest.raises(ConfigError, match=r"symbol 'broken_symbol': field visual_prompts"):
        load_taxonomy([path])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"dialogue_terms": {"en": ["x"]}}, "dialogue_terms.zh"),
        ({"threshold": 1.5}, "threshold"),
        ({"category": "Not Snake"}, "category"),
    ],
)
def test_unknown_keys_and_bad_values_are_named(tmp_path: Path, changes: dict, field: str) -> None:
    path = write_taxonomy(tmp_path / "t.yaml", [symbol_entry("odd_one", **changes)], background=["a room"])
    with pytest.raises(ConfigError, match=rf"symbol 'odd_one': field {field}"):
        load_taxonomy([path])


def test_duplicate_ids_and_entries_without_id_are_reported(tmp_path: Path) -> None:
    path = write_taxonomy(tmp_path / "d.yaml", [symbol_entry("twice"), symbol_entry("twice")], background=["a"])
    with pytest.raises(ConfigError, match="symbol 'twice': field id: duplicate"):
        load_taxonomy([path])
    entry = symbol_entry("x")
    del entry["id"]
    path = write_taxonomy(tmp_path / "n.yaml", [entry], background=["a"])
    with pytest.raises(ConfigError, match=r"symbol #1 \(no id\): field id"):
        load_taxonomy([path])


def test_later_files_replace_and_extend_by_id_and_overlays_patch_thresholds(builtin, tmp_path: Path) -> None:
    extra = write_taxonomy(
        tmp_path / "extra.yaml",
        [symbol_entry("dumplings", label="Boiled dumplings"), symbol_entry("new_symbol")],
        version="user-1",
    )
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(yaml.safe_dump({
        "kind": "overlay", "version": "cal-1", "symbols": {"red_lantern": {"threshold": 0.73}},
    }), encoding="utf-8")
    merged = load_taxonomy(taxonomy_paths(True, [extra, overlay]))
    assert merged.get("dumplings").label == "Boiled dumplings"
    assert merged.ids[-1] == "new_symbol" and len(merged.ids) == len(builtin.ids) + 1
    assert merged.get("red_lantern").threshold == 0.73
    assert merged.background_prompts == builtin.background_prompts  # not given again: kept
    assert merged.version == "2026.2+user-1+cal-1"
    assert merged.hash != builtin.hash
    # Thresholds do not change what the text encoder sees: cached embeddings stay valid.
    patched_only = load_taxonomy(taxonomy_paths(True, [overlay]))
    assert patched_only.prompt_hash == builtin.prompt_hash and patched_only.hash != builtin.hash


def test_an_overlay_for_an_unknown_symbol_is_refused(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(yaml.safe_dump({"kind": "overlay", "version": "1", "symbols": {"nope": {"threshold": 0.5}}}))
    with pytest.raises(ConfigError, match="symbol 'nope': field id"):
        load_taxonomy(taxonomy_paths(True, [overlay]))


def test_replacing_the_builtin_needs_background_prompts(tmp_path: Path) -> None:
    alone = write_taxonomy(tmp_path / "alone.yaml", [symbol_entry("solo")])
    with pytest.raises(ConfigError, match="no background_prompts"):
        load_taxonomy(taxonomy_paths(False, [alone]))


def test_the_content_hash_is_stable_and_follows_content(builtin, tmp_path: Path) -> None:
    assert load_taxonomy([builtin_taxonomy_path()]).hash == builtin.hash
    changed = yaml.safe_load(builtin_taxonomy_path().read_text(encoding="utf-8"))
    changed["symbols"][0]["visual_prompts"][0] += " on a table"
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(changed, allow_unicode=True), encoding="utf-8")
    assert load_taxonomy([path]).prompt_hash != builtin.prompt_hash


def test_the_taxonomy_is_found_from_the_source_tree_and_packed_into_wheels() -> None:
    assert builtin_taxonomy_path() == project_resource("data/taxonomy") / "cultural_symbols.yaml"
    assert builtin_taxonomy_path().is_file()
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"data/taxonomy" = "motiflens/resources/data/taxonomy"' in pyproject
