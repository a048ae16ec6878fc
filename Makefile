PYTHON ?= python3
SRC = alphapose_kit tests scripts

.PHONY: install test lint format typecheck wheel-check ci

install:
	$(PYTHON) -m pip install -e .[dev]
	$(PYTHON) -m pip install --no-deps ultralytics  # reference of tests/detectors/test_yolov8.py only; no deps: no opencv-python

test:
	$(PYTHON) -m pytest -q

lint:
	ruff check $(SRC)
	ruff format --check $(SRC)

typecheck:
	$(PYTHON) -m mypy

wheel-check:
	$(PYTHON) scripts/check_wheel.py

format:
	ruff format $(SRC)
	ruff check --fix $(SRC)

ci: lint typecheck test wheel-check
