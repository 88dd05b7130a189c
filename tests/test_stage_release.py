"""Freeing a stage's models is the executor's job, done one way for every stage; stream names come from the stages."""

from __future__ import annotations

import ast
import gc
import inspect
import sys
import textwrap
import types
import weakref
from typing import Any

import pytest
from motiflens.core import environment
from motiflens.core.config import Config, load_config
from motiflens.run import executor as executor_module
from motiflens.run.executor import StageExecutor
from motiflens.stages import STAGES, build_stages, stage_class, stream_names
from motiflens.stages.base import Stage
from pydantic import BaseModel

#: What a stage's `open` may keep besides its models: run-level facts for run.json, not memory worth freeing.
DATA_ATTRIBUTES = {"calibration"}


class Model:
    """Stands in for a loaded model: anything a weak reference can watch."""


@pytest.fixture
def releases(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(executor_module, "release_memory", lambda: calls.append("release"))
    return calls


@pytest.mark.parametrize("name", list(STAGES))
def test_the_executor_drops_every_stage_models_and_releases_memory(name: str, releases: list[str]) -> None:
    stage = stage_class(name)(Config())
    watched = {}
    for attribute in stage.loaded:
        model = Model()
        setattr(stage, attribute, model)
        watched[attribute] = weakref.ref(model)
        del model
    executor = StageExecutor(stage, stage.config, "cpu")
    executor.opened = True  # as after run() opened the stage for a video that needed it
    executor.close()
    gc.collect()
    assert all(getattr(stage, attribute) is None for attribute in stage.loaded)
    assert [attribute for attribute, ref in watched.items() if ref() is not None] == []
    assert releases == ["release"]
    executor.close()  # closing twice frees nothing twice
    assert releases == ["release"]


def test_an_executor_that_never_opened_its_stage_frees_nothing(releases: list[str]) -> None:
    stage = build_stages(Config())[0]
    StageExecutor(stage, stage.config, "cpu").close()
    assert releases == []


def assigned_in_open(cls: type[Stage]) -> set[str]:
    """Attributes `cls.open` sets on self (`self.x = ...`, also chained `self.a = self.b = ...`)."""
    if cls.open is Stage.open:
        return set()
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls.open)))
    names = set()
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign | ast.AugAssign) else []
        for target in targets:
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                names.add(target.attr)
    return names


@pytest.mark.parametrize("name", list(STAGES))
def test_every_model_a_stage_opens_is_declared_loaded(name: str) -> None:
    cls = stage_class(name)
    undeclared = assigned_in_open(cls) - set(cls.loaded) - DATA_ATTRIBUTES
    assert undeclared == set(), f"{cls.__name__}.open sets {sorted(undeclared)}: list them in `loaded`"
    assert set(cls.loaded) <= assigned_in_open(cls) | set(vars(cls(Config())))


def test_the_declaration_check_sees_an_undeclared_model() -> None:
    class Leaky(Stage):
        name = "leaky"
        loaded = ("encoder",)

        def open(self) -> None:
            self.encoder = Model()
            self.tokenizer = Model()

        def process(self, work: Any) -> None:
            pass

    assert assigned_in_open(Leaky) - set(Leaky.loaded) == {"tokenizer"}


def watch(value: Any) -> list[weakref.ref]:
    """Weak references to `value` and to what it holds (a model wrapper and its engines), but its settings: the
    config sections are the run's, shared with every stage."""
    refs = []
    for item in (value, *vars(value).values()):
        if isinstance(item, BaseModel):
            continue
        try:
            refs.append(weakref.ref(item))
        except TypeError:  # str, int, None, tuples: not models
            continue
    return refs


def test_a_real_model_is_freed_by_the_executor() -> None:
    """The OCR stage's ONNX engines (RapidOCR, shipped in its wheel) are gone once the executor closes the stage."""
    (stage,) = [s for s in build_stages(load_config(overrides=["device=cpu"])) if s.name == "ocr"]
    stage.prepare()
    executor = StageExecutor(stage, stage.config, "cpu")
    stage.open()
    executor.opened = True
    refs = [ref for attribute in stage.loaded for ref in watch(getattr(stage, attribute))]
    assert len(refs) >= 2  # the reader and its engine at least
    executor.close()
    assert [ref() for ref in refs if ref() is not None] == []


def test_release_memory_empties_the_cuda_cache_only_when_torch_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    emptied: list[bool] = []
    cuda = types.SimpleNamespace(is_available=lambda: True, empty_cache=lambda: emptied.append(True))
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=cuda))
    environment.release_memory()
    assert emptied == [True]
    monkeypatch.delitem(sys.modules, "torch")
    environment.release_memory()
    assert "torch" not in sys.modules  # not imported just to free memory
    assert emptied == [True]


def test_stream_names_come_from_the_stages() -> None:
    declared = {stage_class(name).stream for name in STAGES} - {None}
    assert set(stream_names()) == declared
    assert len(stream_names()) == len(declared)
    # The order the tables and the corpus page have always used.
    assert stream_names()[:5] == ("visual", "asr", "ocr", "shots", "story")


def test_a_new_stream_stage_is_listed_without_touching_any_list(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("motiflens_test_stage")

    class Gesture(Stage):
        name = "gesture"
        stream = "gesture"

        def process(self, work: Any) -> None:
            pass

    module.Gesture = Gesture  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(STAGES, "gesture", f"{module.__name__}:Gesture")
    stream_names.cache_clear()
    try:
        assert stream_names()[-1] == "gesture"
    finally:
        monkeypatch.undo()
        stream_names.cache_clear()
    assert "gesture" not in stream_names()
