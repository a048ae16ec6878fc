"""scripts/gpu_check.py without a GPU: its comparisons on hand-made cases, CPU against CPU, its exit without CUDA."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from alphapose_kit.config import load_config
from tests.paths import COCO, REPO, SCRIPTS

SCRIPT = SCRIPTS / "gpu_check.py"
_spec = importlib.util.spec_from_file_location("akit_script_gpu_check", SCRIPT)
assert _spec is not None and _spec.loader is not None
gpu_check = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = gpu_check  # dataclasses look their module up there
_spec.loader.exec_module(gpu_check)

CPU = torch.device("cpu")


def test_without_cuda_one_line_and_exit_2() -> None:
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", PYTHONPATH=str(REPO))
    result = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gpu_check: no CUDA device here") and "Traceback" not in lines[0]


def test_decision_margin_hand_case() -> None:
    hm = np.zeros((1, 2, 5, 5), np.float32)
    # map 0: peak 1.0 at (x 2, y 2); runner-up 0.7; left/right 0.5/0.6 (|dx| 0.1); above/below 0.0/0.2 (|dy| 0.2)
    hm[0, 0, 2, 2], hm[0, 0, 4, 4] = 1.0, 0.7
    hm[0, 0, 2, 1], hm[0, 0, 2, 3], hm[0, 0, 3, 2] = 0.5, 0.6, 0.2
    # map 1: everything -0.5 except a peak of -0.05 at (x 0, y 0): |peak| 0.05 is the smallest distance (gap 0.45)
    hm[0, 1] = -0.5
    hm[0, 1, 0, 0] = -0.05
    hm[0, 1, 0, 1] = -0.4  # right of the peak: |dx| = |-0.4 - (-0.05)| = 0.35 (the left one is the peak itself)
    margin = gpu_check.decision_margin(hm)
    np.testing.assert_allclose(margin, [[0.1, 0.05]], rtol=1e-6)


def pose_output(hm: np.ndarray, keypoints: list[list[float]]) -> object:
    kps = np.asarray(keypoints, np.float32).reshape(1, -1, 2)
    return gpu_check.PoseOutput(hm, kps, hm.reshape(*hm.shape[:2], -1).max(-1))


def test_compare_pose_near_ties_and_moves() -> None:
    hm = np.zeros((1, 2, 5, 5), np.float32)
    hm[0, 0, 2, 2], hm[0, 0, 1, 1] = 1.0, 0.5  # decided: margin 0.2 (gap 0.5, |dx| 0.2, |dy| 0.2)
    hm[0, 0, 2, 1], hm[0, 0, 2, 3], hm[0, 0, 1, 2], hm[0, 0, 3, 2] = 0.2, 0.4, 0.1, 0.3  # |dx| 0.2, |dy| 0.2
    hm[0, 1, 1, 1], hm[0, 1, 3, 3] = 0.800, 0.799  # a near-tie: two peaks 0.001 apart
    ref = pose_output(hm, [[2.0, 2.0], [1.0, 1.0]])
    other_hm = hm.copy()
    other_hm[0, 1, 3, 3] += 0.002  # 0.002 of 1.0: the tie flips, map 0 keeps its decision
    flipped = pose_output(other_hm, [[2.0, 2.0], [3.0, 3.0]])
    passed, detail = gpu_check.compare_pose(ref, flipped, tolerance=1e-2)
    assert passed, detail
    assert "keypoints 1/2 decided, 0 of them moved; 1 near-ties, 1 moved (max 2.8 px)" in detail
    assert not gpu_check.compare_pose(ref, flipped, tolerance=1e-3)[0]  # 2e-3 of max|ref| is over 1e-3
    # the decided keypoint moving is a failure whatever the tolerance
    wrong = pose_output(other_hm, [[2.25, 2.0], [3.0, 3.0]])
    passed, detail = gpu_check.compare_pose(ref, wrong, tolerance=1.0)
    assert not passed and "1 of them moved" in detail


def test_compare_raw_detections_tolerances() -> None:
    ref = torch.tensor([[[100.0, 50.0, 20.0, 40.0, 0.5, 0.25]]])
    got = ref.clone()
    got[0, 0, 0] += 0.5  # 0.5 / 101 = 5.0e-3 of the box scale
    got[0, 0, 4] += 0.005
    assert gpu_check.compare_raw_detections(ref, ref.clone(), gpu_check.TOLERANCES["fp32"])[0]
    passed, detail = gpu_check.compare_raw_detections(ref, got, gpu_check.TOLERANCES["fp32"])
    assert not passed and "raw boxes 5.0e-03" in detail and "scores 5.0e-03" in detail
    assert gpu_check.compare_raw_detections(ref, got, gpu_check.TOLERANCES["fp16"])[0]


def test_precision_mode_sets_and_restores_tf32() -> None:
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    with gpu_check.precision_mode("tf32") as half:
        assert not half and torch.backends.cudnn.allow_tf32 and torch.backends.cuda.matmul.allow_tf32
    with gpu_check.precision_mode("fp16") as half:
        assert half and not torch.backends.cudnn.allow_tf32
    assert (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32) == saved
    with pytest.raises(ValueError, match="unknown precision"):
        gpu_check.precision_mode("bf16").__enter__()


def tiny_pose_network(seed: int = 0) -> torch.nn.Module:
    """A stride-4 convolution: 256 x 192 crops -> 17 x 64 x 48 maps, the shape of every COCO pose family."""
    torch.manual_seed(seed)
    return torch.nn.Conv2d(3, 17, 4, stride=4).eval()


def test_run_pose_cpu_against_cpu() -> None:
    cfg = load_config("coco/fastpose_res50_256x192")
    crops, boxes = gpu_check.pose_inputs(3, cfg.DATA_PRESET.IMAGE_SIZE)
    net = tiny_pose_network()
    reference = gpu_check.run_pose(net, cfg, CPU, crops, boxes, half=False)
    assert reference.heatmaps.shape == (3, 17, 64, 48) and reference.keypoints.shape == (3, 17, 2)
    passed, detail = gpu_check.compare_pose(reference, gpu_check.run_pose(net, cfg, CPU, crops, boxes, False), 1e-4)
    assert passed and "max|d|/max|ref| 0.0e+00" in detail and "51/51 decided" in detail
    scaled = tiny_pose_network()
    with torch.no_grad():
        scaled.weight.mul_(1.01)  # a 1 % error: far over fp32's tolerance
    assert not gpu_check.compare_pose(reference, gpu_check.run_pose(scaled, cfg, CPU, crops, boxes, False), 1e-4)[0]


def test_check_detector_cpu_against_cpu() -> None:
    frame = np.random.default_rng(0).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    (check,) = gpu_check.check_detector("yolov5n", [frame], CPU, CPU, ("fp32",), input_size=64)
    assert check.passed, check.line()
    assert "raw boxes 0.0e+00" in check.detail and "final boxes equal" in check.detail


def test_run_pipeline_rows_pair_heatmaps_with_people(tmp_path: Path) -> None:
    image = "000000000785.jpg"
    shutil.copy(COCO / image, tmp_path / image)
    detfile = COCO / "person_detections.json"
    boxes = sum(1 for d in json.loads(detfile.read_text()) if d["image_id"] == 785)
    cfg = load_config("coco/fastpose_res50_256x192")
    out = gpu_check.run_pipeline(tiny_pose_network(), cfg, CPU, False, tmp_path, detfile)
    assert boxes > 1 and out.heatmaps.shape == (boxes, 17, 64, 48) and out.keypoints.shape == (boxes, 17, 2)
    # AlphaPose's keypoint score is the raw heatmap peak: the hooked heatmaps belong to the same rows
    np.testing.assert_array_equal(out.scores, out.heatmaps.reshape(boxes, 17, -1).max(-1))
