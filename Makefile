PYTHON ?= python3
SRC = alphapose_kit tests scripts

.PHONY: install test lint lint-imports format typecheck wheel-check ci

install:
	$(PYTHON) -m pip install -e .[dev,ray,serve]
	# COCO-WholeBody's reference metric (the whole-body evaluation test): its wheels are built for NumPy 1, so build it here
	$(PYTHON) -m pip install --no-build-isolation --no-binary xtcocotools "xtcocotools>=1.14"
	$(PYTHON) -m pip install --no-deps ultralytics  # reference of tests/detectors/test_yolov8.py only; no deps: no opencv-python

test:
	$(PYTHON) -m pytest -q

lint:
	ruff check $(SRC)
	ruff format --check $(SRC)

lint-imports:
	lint-imports

typecheck:
	$(PYTHON) -m mypy

wheel-check:
	$(PYTHON) scripts/check_wheel.py

format:
	ruff format $(SRC)
	ruff check --fix $(SRC)

ci: lint lint-imports typecheck test wheel-check
