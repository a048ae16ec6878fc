"""Export checks: heatmap error and keypoint agreement on hand-built heatmaps, detector candidate agreement on
hand-built YOLO rows, tolerances."""

from __future__ import annotations

import numpy as np
import pytest

from alphapose_kit.codecs import render_gaussian_heatmaps
from alphapose_kit.deploy.verify import (
    TOLERANCES,
    Comparison,
    Tolerance,
    candidate_agreement,
    check_tolerance,
    compare_heatmaps,
    paired_iou,
)
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


def _prediction(rows: list[list[float]]) -> np.ndarray:
    """YOLO rows (cx, cy, w, h, objectness, person score, other class score) as a (1, anchors, 7) tensor."""
    return np.asarray([rows], np.float32)


def test_paired_iou() -> None:
    a = np.array([[0, 0, 10, 10], [20, 20, 30, 30], [0, 0, 1, 1]], np.float32)
    b = np.array([[0, 0, 10, 5], [20, 20, 30, 30], [5, 5, 6, 6]], np.float32)
    np.testing.assert_allclose(paired_iou(a, b), [0.5, 1.0, 0.0])


def test_candidate_agreement_anchor_by_anchor() -> None:
    ref = _prediction(
        [
            [50, 50, 20, 20, 0.9, 0.9, 0.1],  # confident person
            [80, 80, 20, 20, 0.8, 0.9, 0.1],  # confident person
            [10, 10, 4, 4, 0.12, 0.9, 0.1],  # at the threshold (0.1): not counted
            [30, 30, 10, 10, 0.9, 0.1, 0.9],  # another class: not counted
            [90, 90, 10, 10, 0.05, 0.9, 0.1],  # dropped by both
        ]
    )
    same = ref.copy()
    same[0, :, :4] += 0.01
    assert candidate_agreement(ref, same, conf=0.1)[::2] == (1.0, 2)
    moved = ref.copy()
    moved[0, 1, 0] += 10  # second box shifted by half its width: IoU 1/3
    moved[0, 2, 4] = 0.09  # the threshold box flips: still not counted
    agreement, distance, counted = candidate_agreement(ref, moved, conf=0.1)
    assert (agreement, counted) == (0.5, 2) and distance == pytest.approx((1 - 1 / 3) / 2)
    relabelled = ref.copy()
    relabelled[0, 0, 5], relabelled[0, 0, 6] = 0.1, 0.9  # the first anchor now says 'other class'
    assert candidate_agreement(ref, relabelled, conf=0.1)[0] == 0.5
    # with objectness x class scores the second anchor (0.8 x 0.9 = 0.72) still counts; nothing confident: 1.0
    assert candidate_agreement(ref, ref, conf=0.1, score="objectness*class")[2] == 2
    assert candidate_agreement(ref, ref, conf=0.95) == (1.0, 0.0, 0)
