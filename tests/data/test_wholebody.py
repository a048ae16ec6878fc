"""Whole-body keypoint sets: layouts, flip pairs and sigmas against AlphaPose's own tables, names mirrored."""

from __future__ import annotations

import numpy as np
import pytest

from alphapose_kit.data.keypoints import get_keypoint_set, keypoint_set_for
from alphapose_kit.data.wholebody import COCO_WHOLEBODY133, HALPE68, HALPE136, HAND21, WHOLEBODY_SETS

# AlphaPose's ``joint_pairs`` class attributes (alphapose/datasets/halpe_136.py, coco_wholebody.py,
# halpe_68_noface.py at MVIG-SJTU/AlphaPose c60106d), transcribed as data: akit derives its pairs from the parts.
# fmt: off
ALPHAPOSE_PAIRS = {
    "halpe136": [
        [1, 2], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14], [15, 16], [20, 21], [22, 23], [24, 25],
        [26, 42], [27, 41], [28, 40], [29, 39], [30, 38], [31, 37], [32, 36], [33, 35], [43, 52], [44, 51],
        [45, 50], [46, 49], [47, 48], [62, 71], [63, 70], [64, 69], [65, 68], [66, 73], [67, 72], [57, 61],
        [58, 60], [74, 80], [75, 79], [76, 78], [87, 89], [93, 91], [86, 90], [85, 81], [84, 82],
        *([94 + i, 115 + i] for i in range(21)),
    ],
    "coco_wholebody133": [
        [1, 2], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14], [15, 16], [17, 20], [18, 21], [19, 22],
        [23, 39], [24, 38], [25, 37], [26, 36], [27, 35], [28, 34], [29, 33], [30, 32], [40, 49], [41, 48],
        [42, 47], [43, 46], [44, 45], [59, 68], [60, 67], [61, 66], [62, 65], [63, 70], [64, 69], [54, 58],
        [55, 57], [71, 77], [72, 76], [73, 75], [84, 86], [90, 88], [83, 87], [82, 78], [81, 79],
        *([91 + i, 112 + i] for i in range(21)),
    ],
    "halpe68": [
        [1, 2], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14], [15, 16], [20, 21], [22, 23], [24, 25],
        *([26 + i, 47 + i] for i in range(21)),
    ],
}
# fmt: on


def _unordered(pairs) -> set[frozenset[int]]:
    return {frozenset(map(int, p)) for p in pairs}


@pytest.mark.parametrize("name", sorted(ALPHAPOSE_PAIRS))
def test_flip_pairs_are_alphaposes(name: str) -> None:
    keypoint_set = get_keypoint_set(name)
    assert _unordered(keypoint_set.flip_pairs) == _unordered(ALPHAPOSE_PAIRS[name])


@pytest.mark.parametrize("keypoint_set", WHOLEBODY_SETS, ids=lambda s: s.name)
def test_named_pairs_mirror_left_and_right(keypoint_set) -> None:
    """Every pair whose names carry a side swaps exactly left and right; the flip is an involution."""
    perm = keypoint_set.flip_permutation()
    assert np.array_equal(perm[perm], np.arange(keypoint_set.num_joints))
    for a, b in keypoint_set.flip_pairs:
        left, right = keypoint_set.names[a], keypoint_set.names[b]
        if left.startswith(("left", "right")):
            assert left.replace("left", "#").replace("right", "left").replace("#", "right") == right


@pytest.mark.parametrize("keypoint_set", WHOLEBODY_SETS, ids=lambda s: s.name)
def test_skeleton_reaches_every_joint_and_parts_tile_the_set(keypoint_set) -> None:
    drawn = {j for edge in keypoint_set.skeleton for j in edge}
    assert drawn == set(range(keypoint_set.num_joints))
    ids = sorted(j for _, part in keypoint_set.parts for j in part)
    assert ids == list(range(keypoint_set.num_joints))


def test_sigmas_are_alphaposes_and_coco_wholebodys() -> None:
    """Halpe: the COCO body sigmas, 0.08/0.089 for head/neck/hip/feet, 0.025 for face and hands (pPose_nms.oks_iou);
    COCO-WholeBody: its per-part official values (spot checks on each part's first and last joint)."""
    s136 = HALPE136.sigma_array
    assert s136[0] == pytest.approx(0.026) and s136[17] == pytest.approx(0.08) and s136[25] == pytest.approx(0.089)
    assert np.all(s136[26:] == 0.025)
    s133 = COCO_WHOLEBODY133.sigma_array
    part = {name: s133[list(ids)] for name, ids in COCO_WHOLEBODY133.parts}
    assert part["foot"][0] == 0.068 and part["foot"][-1] == 0.094
    assert part["face"][0] == 0.042 and part["face"][-1] == 0.008 and len(part["face"]) == 68
    assert np.array_equal(part["left_hand"], part["right_hand"]) and part["left_hand"][0] == 0.029
    assert HAND21.sigma_array[-1] == 0.031 and len(HALPE68.sigmas) == 68


def test_sets_resolve_from_the_original_configs_dataset_types() -> None:
    assert keypoint_set_for(136, dataset_type="Halpe_coco_wholebody_136") is HALPE136
    assert keypoint_set_for(133, dataset_type="coco_wholebody") is COCO_WHOLEBODY133
    assert keypoint_set_for(68, dataset_type="Halpe_68_noface") is HALPE68
    assert keypoint_set_for(21, dataset_type="SingleHand") is HAND21
    assert keypoint_set_for(26, dataset_type="Halpe_coco_wholebody_26").name == "halpe26"
    assert get_keypoint_set(136) is HALPE136 and get_keypoint_set(21) is HAND21
