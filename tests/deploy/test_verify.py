"""Export checks: heatmap error and keypoint agreement on hand-built heatmaps, box agreement, tolerances."""

from __future__ import annotations

import numpy as np
import pytest

from alphapose_kit.codecs import render_gaussian_heatmaps
from alphapose_kit.deploy.verify import (
    TOLERANCES,
    Comparison,
    Tolerance,
    box_iou,
    check_tolerance,
    compare_heatmaps,
    detection_agreement,
)
from alphapose_kit.detectors import Detections
from alphapose_kit.errors import AkitError


def _maps(points: np.ndarray) -> np.ndarray:
    maps, _ = render_gaussian_heatmaps(points, np.ones(points.shape[:-1]), (32, 24), 2, subpixel=True)
    return maps.astype(np.float32)


def test_keypoint_agreement_counts_joints_within_one_heatmap_pixel() -> None:
    rng = np.random.default_rng(0)
    points = rng.uniform(4, 20, (3, 17, 2))
    moved = points.copy()
    moved[0, :5, 0] += 3.0  # 5 joints 3 px away: disagree
    moved[1, :4, 1] += 0.6  # 4 joints 0.6 px away: still agree
    reference, candidate = _maps(points), _maps(moved)
    result = compare_heatmaps(reference, candidate, "MSELoss", "sigmoid")
    assert result.samples == 3
    assert result.agreement == pytest.approx(1 - 5 / 51)
    assert result.max_abs_error == pytest.approx(float(np.abs(reference - candidate).max()))
    assert result.reference_max == pytest.approx(1.0, abs=0.05)  # Gaussian peaks of height 1
    identical = compare_heatmaps(reference, reference.copy(), "MSELoss", "sigmoid")
    assert identical.agreement == 1.0 and identical.max_abs_error == 0.0 and identical.mean_distance == 0.0


def test_shape_mismatch_is_one_line() -> None:
    with pytest.raises(AkitError, match="returns"):
        compare_heatmaps(np.zeros((1, 17, 32, 24), np.float32), np.zeros((1, 17, 16, 12), np.float32), "MSELoss", "")


def test_tolerance_limits() -> None:
    ok = Comparison(samples=4, max_abs_error=1e-6, reference_max=1.0, agreement=1.0, mean_distance=0.0)
    check_tolerance(ok, TOLERANCES["fp32"], "x")
    too_far = Comparison(samples=4, max_abs_error=2e-3, reference_max=1.0, agreement=1.0, mean_distance=0.0)
    with pytest.raises(AkitError, match="max abs error 0.002 > tolerance 0.00101"):
        check_tolerance(too_far, TOLERANCES["fp32"], "the onnx export")
    check_tolerance(too_far, TOLERANCES["fp16"], "x")  # 2e-3 <= 1e-3 + 2e-2
    disagree = Comparison(samples=4, max_abs_error=0.0, reference_max=1.0, agreement=0.85, mean_distance=1.0)
    with pytest.raises(AkitError, match="agreement 85.00 % < 90 %"):
        check_tolerance(disagree, TOLERANCES["int8"], "the INT8 model")
    check_tolerance(disagree, Tolerance(1, 1, 0.8), "x")


def test_box_iou_and_detection_agreement() -> None:
    a = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], np.float32)
    b = np.array([[0, 0, 10, 5], [20, 20, 30, 30], [50, 50, 60, 60]], np.float32)
    iou = box_iou(a, b)
    assert iou[0, 0] == pytest.approx(0.5) and iou[1, 1] == pytest.approx(1.0) and iou[0, 2] == 0.0
    ref = [Detections(a, np.ones(2), labels=[0, 0])]
    same = [Detections(a.copy(), np.ones(2), labels=[0, 0])]
    assert detection_agreement(ref, same) == (1.0, 0.0)
    # one of two boxes matches, and the candidate has a third: 1 matched of max(2, 3)
    other = [Detections(b, np.ones(3), labels=[0, 0, 0])]
    agreement, _ = detection_agreement(ref, other)
    assert agreement == pytest.approx(1 / 3)
    relabelled = [Detections(a.copy(), np.ones(2), labels=[0, 1])]  # same box, other class: no match
    assert detection_agreement(ref, relabelled)[0] == pytest.approx(0.5)
    assert detection_agreement([Detections.empty()], [Detections.empty()]) == (1.0, 0.0)
