"""scripts/bench_train.py: a cheap smoke run (tiny network, a few batches; no speed is asserted)."""

from __future__ import annotations

import importlib.util
import re

import pytest

import tests.engine.tiny_model  # noqa: F401  (registers TinyPoseTest)
from tests.engine.tiny_model import TINY_OPTS
from tests.paths import SCRIPTS


def test_bench_train_prints_both_rates_and_their_ratio() -> None:
    spec = importlib.util.spec_from_file_location("bench_train", SCRIPTS / "bench_train.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    report = bench.main(
        ["--batch", "4", "--batches", "2", "--steps", "1", "--workers", "0", "--device", "cpu",
         "--opts", *TINY_OPTS, "DATA_PRESET.IMAGE_SIZE", "[64, 64]", "DATA_PRESET.HEATMAP_SIZE", "[16, 16]"]
    )  # fmt: skip
    data = float(re.search(r"^data loading: ([0-9.]+) samples/s \(0 workers", report, re.M).group(1))
    model = float(re.search(r"^model step: +([0-9.]+) samples/s", report, re.M).group(1))
    ratio = float(re.search(r"^ratio data / model: ([0-9.]+)", report, re.M).group(1))
    assert data > 0 and model > 0
    assert ratio == pytest.approx(data / model, rel=0.05)  # the printed rates are rounded
