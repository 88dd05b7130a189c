# Two commands from a fresh clone: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench samples clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (set PYTHON=...)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@# rapidocr-onnxruntime drags in GUI OpenCV (needs libGL); keep only the headless build of the same version.
	$(BIN)/pip uninstall --quiet -y opencv-python
	$(BIN)/pip install --quiet --force-reinstall --no-deps "opencv-python-headless==$$($(BIN)/python -c 'import importlib.metadata as m; print(m.version("opencv-python-headless"))')"
	$(BIN)/python -c 'import cv2, rapidocr_onnxruntime'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/motiflens run data/samples --config configs/default.yaml --out runs/demo

# Lint and type-check first: a type error fails within a minute or two (mypy from a cold cache), not after the suite.
test: lint
	$(BIN)/python -m pytest

# mypy reads its settings (the package, the pydantic plugin, strictness) from [tool.mypy] in pyproject.toml.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# The end-to-end benchmark (workloads drama and mixed, four 60 s 1080x1920 episodes each: pipeline, each stage alone,
# a Ray run; configs/cpu-fast.yaml with the random-weight test CLIP model: speed only); prints one JSON document.
# Options: `.venv/bin/python scripts/bench.py --help`.
bench: $(STAMP)
	$(BIN)/python scripts/bench.py

samples: $(STAMP)
	$(BIN)/python scripts/make_samples.py --out data/samples

clean:
	rm -rf runs/demo .pytest_cache .ruff_cache .mypy_cache
