"""The side-by-side benchmark: alternation, percentiles, ratios (on networks of known speed), files, end to end."""

from __future__ import annotations

import json
import time

import pytest
import torch

from alphapose_kit.deploy.benchmark import plot, run_bench
from alphapose_kit.deploy.timing import Backend, measure, table, with_ratios
from alphapose_kit.detectors import load_detector
from alphapose_kit.errors import AkitError
from tests.deploy.nets import COCO_CFG, TINY, random_checkpoint
from tests.paths import COCO


class _Sleeper:
    """A 'network' that takes ``ms_per_item`` per crop and logs its calls."""

    def __init__(self, name: str, ms_per_item: float, log: list) -> None:
        self.name, self.ms, self.log = name, ms_per_item, log

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        self.log.append((self.name, batch.shape[0]))
        time.sleep(self.ms * batch.shape[0] / 1000)
        return batch


def test_measure_alternates_and_ratios_follow_speed() -> None:
    log: list = []
    backends = [Backend("torch", _Sleeper("torch", 6, log)), Backend("fast", _Sleeper("fast", 2, log))]
    timings = measure(backends, [1, 2], (3, 4, 4), rounds=6, warmup=1)
    assert log[:4] == [("torch", 1), ("fast", 1), ("torch", 2), ("fast", 2)]  # one warm-up call per pair first
    rounds = [log[4 + 4 * r : 8 + 4 * r] for r in range(6)]
    assert all(sorted(r) == sorted(log[:4]) for r in rounds)  # every round times each pair once...
    assert len({tuple(r) for r in rounds}) > 1  # ...in a rotating order
    rows = {(r["backend"], r["batch"]): r for r in with_ratios(timings)}
    for batch in (1, 2):
        assert rows["torch", batch]["x_torch"] == 1.0
        assert rows["fast", batch]["x_torch"] == pytest.approx(3.0, rel=0.35)  # 6 ms vs 2 ms per crop
        assert rows["fast", batch]["p50_ms"] == pytest.approx(2 * batch, rel=0.5, abs=1.5)
        assert rows["torch", batch]["p50_ms"] <= rows["torch", batch]["p90_ms"] <= rows["torch", batch]["p99_ms"]
    text = table(list(rows.values()))
    assert "p50 ms" in text and "x_torch" in text and f"{rows['fast', 2]['x_torch']:.2f}x" in text


def test_plot_writes_a_png(tmp_path) -> None:
    rows = [
        {"backend": "torch", "batch": 1, "p50_ms": 10.0},
        {"backend": "torch", "batch": 8, "p50_ms": 60.0},
        {"backend": "int8", "batch": 1, "p50_ms": 4.0},
        {"backend": "int8", "batch": 8, "p50_ms": 20.0},
    ]
    plot(rows, tmp_path / "b.png", "title")
    assert (tmp_path / "b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_bench_end_to_end(tmp_path) -> None:
    ckpt = random_checkpoint(tmp_path / "tiny.pth")
    records = [r for r in json.loads((COCO / "person_detections.json").read_text()) if r["score"] >= 0.5]
    detfile = tmp_path / "dets.json"
    detfile.write_text(json.dumps(records))
    result = run_bench(
        COCO_CFG, ckpt, backends=["torch", "onnxruntime", "pruned"], batches=[1, 2], rounds=2, warmup=1,
        output=tmp_path / "out" / "bench.json", calib=COCO / "person_keypoints.json", source=COCO, frames=4,
        detector=load_detector("detfile", weights=detfile), opts=TINY,
    )  # fmt: skip
    assert result.json_path == tmp_path / "out" / "bench.json" and result.png_path.suffix == ".png"
    saved = json.loads(result.json_path.read_text())
    assert {(r["backend"], r["batch"]) for r in saved["rows"]} == {
        (b, n) for b in ("torch", "onnxruntime", "pruned") for n in (1, 2)
    }
    assert [r["backend"] for r in saved["end_to_end"]] == ["torch", "onnxruntime", "pruned"]
    assert all(r["frames"] == 4 and r["fps"] > 0 for r in saved["end_to_end"])
    assert saved["machine"] and saved["input_size"] == [128, 96]


def test_bad_requests(tmp_path) -> None:
    with pytest.raises(AkitError, match="unknown backend 'tensorrt'"):
        run_bench(COCO_CFG, backends=["torch", "tensorrt"], output=tmp_path / "b.json", opts=TINY)
    with pytest.raises(AkitError, match="batch sizes must be at least 1"):
        run_bench(COCO_CFG, batches=[0], output=tmp_path / "b.json", opts=TINY)
    assert list(tmp_path.iterdir()) == []
