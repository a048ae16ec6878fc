"""AlphaPose's record fields: "idx" in both of its shapes, COCO ids from file names, the OpenPose layout."""

from __future__ import annotations

import numpy as np
import pytest

from alphapose_kit.io.results import FrameResult, alphapose_idx, alphapose_records, coco_image_id, openpose_people


def test_idx_detector_path_is_nested_float_zeros() -> None:
    assert alphapose_idx([4], None) == [0.0]
    assert alphapose_idx([1, 4, 6], None) == [[0.0], [0.0], [0.0]]


def test_idx_detfile_path_is_flat_ints() -> None:
    ids = np.array([10, 11, 12, 13])
    assert alphapose_idx([2], ids) == 12
    assert alphapose_idx([0, 3], ids) == [10, 13]


def test_coco_ids_from_file_names() -> None:
    assert coco_image_id("000000000785.jpg") == 785
    assert coco_image_id("COCO_val2014_000000000042.jpg") == 42
    assert coco_image_id("frame_a.png") is None and coco_image_id("a_b.jpg") is None


def one_person(k: int = 17) -> FrameResult:
    keypoints = np.stack([np.arange(k, dtype=np.float32) * 10, np.arange(k, dtype=np.float32) * 10 + 1], axis=1)
    scores = np.linspace(0.5, 1.0, k, dtype=np.float32)
    return FrameResult(
        3, "3.jpg", np.float32([[10, 20, 110, 220]]), np.float32([0.9]), keypoints[None], scores[None],
        np.float32([2.5]), [[0.0]], (480, 640),
    )  # fmt: skip


def test_alphapose_record_by_hand() -> None:
    (record,) = alphapose_records(one_person())
    assert record["box"] == [10.0, 20.0, 100.0, 200.0]  # x, y, w, h
    assert record["keypoints"][:6] == pytest.approx([0.0, 1.0, 0.5, 10.0, 11.0, 0.53125])
    assert record["score"] == 2.5 and record["image_id"] == "3.jpg"


def test_openpose_order_and_neck() -> None:
    (person,) = openpose_people(one_person())
    flat = np.asarray(person["pose_keypoints_2d"]).reshape(18, 3)
    # slot 1 = neck = mean of COCO joints 5 and 6: x (50 + 60) / 2 = 55, y 56, score (s5 + s6) / 2
    s = np.linspace(0.5, 1.0, 17, dtype=np.float32)
    assert flat[1] == pytest.approx([55.0, 56.0, (s[5] + s[6]) / 2])
    # slot 2 = RShoulder = COCO 6; slot 14 = REye = COCO 2; slot 17 = LEar = COCO 3
    assert flat[2][:2] == pytest.approx([60.0, 61.0]) and flat[14][:2] == pytest.approx([20.0, 21.0])
    assert flat[17][:2] == pytest.approx([30.0, 31.0])


def test_openpose_neck_slot_reads_joint_17_for_halpe26() -> None:
    # AlphaPose QUIRK (reproduced): the neck slot holds flat joint 17, i.e. Halpe's "head" for 26-joint models
    (person,) = openpose_people(one_person(26))
    flat = np.asarray(person["pose_keypoints_2d"]).reshape(18, 3)
    assert flat[1][:2] == pytest.approx([170.0, 171.0])
