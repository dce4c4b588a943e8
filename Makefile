VENV ?= .venv
PY := $(VENV)/bin/python
export PIRL_VENV := $(abspath $(VENV))

.PHONY: setup demo test lint

# Idempotent: creates the venv, installs the stack, builds/caches mmcv.
setup:
	bash tools/setup_env.sh

# The embedded demo: PIRL on a generated dataset, kNN vs random init.
demo: setup
	$(PY) tools/demo.py

# The whole test suite (CPU), slow end-to-end tests included.
test: setup
	$(PY) -m pytest tests

# The lint gate in MMPretrain's settings (flake8, isort, yapf, codespell).
lint: setup
	bash tools/lint.sh
