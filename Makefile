PYTHON ?= python3

.PHONY: install test lint format

install:
	$(PYTHON) -m pip install -e .[dev]

test:
	$(PYTHON) -m pytest -q

lint:
	ruff check alphapose_kit tests scripts
	ruff format --check alphapose_kit tests scripts

format:
	ruff format alphapose_kit tests scripts
	ruff check --fix alphapose_kit tests scripts
