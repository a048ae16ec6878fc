"""Box IoU and keypoint OKS: one home (ops/similarity.py) for NMS, tracking, evaluation and export checks; values
derived by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

import alphapose_kit.ops as ops
from alphapose_kit.ops import similarity


def test_box_iou_and_paired_iou_by_hand() -> None:
    # [0, 0, 10, 10] and [5, 0, 15, 10]: intersection 50, union 150; identical boxes 1; disjoint 0; empty boxes 0
    a = np.array([[0, 0, 10, 10], [0, 0, 4, 4], [0, 0, 1, 1], [3, 3, 3, 3]], np.float32)
    b = np.array([[5, 0, 15, 10], [0, 0, 4, 4], [5, 5, 6, 6], [3, 3, 3, 3]], np.float32)
    np.testing.assert_allclose(similarity.paired_iou(a, b), [1 / 3, 1, 0, 0])
    # [0, 0, 10, 10] against all of b: 1/3; the 4 x 4 box inside it 16 / 100; the 1 x 1 box 1 / 100; the empty box 0
    np.testing.assert_allclose(similarity.box_iou(a[:1], b), [[1 / 3, 0.16, 0.01, 0]])
    np.testing.assert_array_equal(np.diag(similarity.box_iou(a, b)), similarity.paired_iou(a, b))


def test_keypoint_similarity_is_cocos_per_joint_formula() -> None:
    # d = 3 px, sigma 0.025 -> variance (2 sigma)^2 = 0.0025, area 1800: exp(-9 / 0.0025 / 1800 / 2) = exp(-1)
    assert similarity.keypoint_similarity(9.0, 0.0025, 1800.0) == pytest.approx(math.exp(-1), rel=1e-12)


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("alphapose_kit.track.pose_tracker", "box_iou"),
        ("alphapose_kit.track.pose_tracker", "pose_oks"),
        ("alphapose_kit.deploy.verify", "paired_iou"),
        ("alphapose_kit.evaluation.diagnostics", "keypoint_similarity"),
        ("alphapose_kit.ops.oks_nms", "object_keypoint_similarity"),
    ],
)
def test_every_user_imports_the_one_definition(module: str, name: str) -> None:
    import importlib

    assert getattr(importlib.import_module(module), name) is getattr(similarity, name)


def test_pose_nms_variants_live_in_their_own_modules_and_the_package_exports_them() -> None:
    import alphapose_kit

    assert ops.parametric_pose_nms.__module__ == "alphapose_kit.ops.pnms"
    assert ops.oks_pose_nms.__module__ == "alphapose_kit.ops.oks_nms"
    assert alphapose_kit.parametric_pose_nms is ops.parametric_pose_nms
    assert alphapose_kit.oks_pose_nms is ops.oks_pose_nms
