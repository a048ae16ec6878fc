"""scripts/bench_infer.py: a cheap smoke run of the default detector (tiny sizes, 2 frames; no timing is asserted)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys

import pytest

from tests.paths import SCRIPTS

SCRIPT = SCRIPTS / "bench_infer.py"


def load_script():
    spec = importlib.util.spec_from_file_location("bench_infer", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_infer_default_detector_finds_people_and_prints_both_tables() -> None:
    # The default detector (YOLOv3-SPP, random weights) at a 64 px letterbox and a 64 x 64 pose input: the person
    # bias must make it find people, so the pose stages run and a ratio is printed.
    command = [sys.executable, str(SCRIPT), "--frames", "2", "--input-size", "64", "--max-det", "1", "--device",
               "cpu", "--det-batch", "1", "--batch", "2", "--repeats", "1", "--nms-repeats", "1",
               "--opts", "DATA_PRESET.IMAGE_SIZE", "[64,64]", "DATA_PRESET.HEATMAP_SIZE", "[16,16]"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "AKIT_ALPHAPOSE"} | {"OMP_NUM_THREADS": "1"}
    out = subprocess.run(command, capture_output=True, text=True, timeout=300, check=True, env=env).stdout
    header = re.search(r"2 frames of people_walking\.mp4, (\d+) people", out)
    assert header and int(header.group(1)) == 2, out  # one person per frame (--max-det 1) reached the pose stages
    assert "# detector yolov3-spp" in out
    for row in ("read (decode video)", "detect", "crop", "pose forward", "decode heatmaps", "pose NMS", "write JSON",
                "end to end", "networks only (detector + pose forward)"):  # fmt: skip
        assert re.search(rf"^\| {re.escape(row)} \| \d+ \| [0-9.]+ \| [0-9.]+ \|$", out, re.M), row
    assert re.search(r"^\| crop \| 2 \|", out, re.M)
    assert float(re.search(r"ratio: ([0-9.]+)", out).group(1)) > 0
    assert "| P-NMS candidates | akit ms | AlphaPose ms | speed-up | same output |" in out
    for n in (10, 50, 200):  # without a clone of AlphaPose the original's columns say so
        assert re.search(rf"^\| {n} \| [0-9.]+ \| n/a \| n/a \| n/a \|$", out, re.M), n
    assert "pass --alphapose DIR" in out


def test_no_ratio_without_a_pose_crop() -> None:
    bench = load_script()
    assert bench.ratio_line(2.0, 4.0, crops=3).startswith("end-to-end / networks-only ratio: 0.500")
    with pytest.raises(SystemExit, match="no pose crop ran"):
        bench.ratio_line(2.0, 4.0, crops=0)


def test_alphapose_flag_names_what_it_needs(tmp_path) -> None:
    bench = load_script()
    assert bench.load_original_pose_nms(None) is None
    with pytest.raises(SystemExit, match=r"pPose_nms\.py"):
        bench.load_original_pose_nms(tmp_path)
