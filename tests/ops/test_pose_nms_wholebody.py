"""Whole-body parametric pose NMS: golden outputs of AlphaPose's own ``pose_nms`` (133/136 joints, heatmap and
regression constants) and hand-derived cases of its match-count normalisation."""

from __future__ import annotations

import numpy as np
import pytest

from alphapose_kit.ops import parametric_pose_nms
from alphapose_kit.ops.pnms_wholebody import parametric_nms_for, wholebody_pose_nms
from tests.paths import GOLDEN

WHOLEBODY_GOLDEN = np.load(GOLDEN / "pose_nms_wholebody_golden.npz")
SCENES = sorted({key.split("__")[0] for key in WHOLEBODY_GOLDEN.files})


@pytest.mark.parametrize("name", SCENES)
def test_equals_alphaposes_pose_nms_bit_for_bit(name: str) -> None:
    """Made by tests/golden/make_pose_nms_wholebody_golden.py from the original's pPose_nms.py (README there)."""
    g = {key.split("__", 1)[1]: WHOLEBODY_GOLDEN[key] for key in WHOLEBODY_GOLDEN.files if key.startswith(name + "__")}
    out = wholebody_pose_nms(
        g["in_boxes"], g["in_det"], g["in_kps"], g["in_scores"], float(g["in_min_box_area"]), not bool(g["in_heatmap"])
    )
    assert np.array_equal(out.picked, g["out_picked"])
    assert np.array_equal([len(c) for c in out.clusters], g["out_cluster_sizes"])
    assert np.array_equal(np.concatenate(out.clusters), g["out_clusters"])
    assert np.array_equal(out.keypoints, g["out_keypoints"])
    assert np.array_equal(out.keypoint_scores, g["out_keypoint_scores"])
    assert np.array_equal(out.scores, g["out_scores"])


def _person(x0: float, k: int = 136) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(int(x0))
    pose = np.column_stack([x0 + rng.uniform(0, 100, k), rng.uniform(0, 200, k)]).astype(np.float32)
    return pose, np.full(k, 0.9, np.float32)


def _scene(people: list[tuple[np.ndarray, np.ndarray]]):
    kps = np.stack([p for p, _ in people])
    scores = np.stack([s for _, s in people])
    boxes = np.concatenate([kps.min(1), kps.max(1)], axis=1)
    return boxes, np.full(len(people), 0.9, np.float32), kps, scores


def test_identical_duplicates_merge_when_few_candidates_remain() -> None:
    """Two identical 136-joint poses, every joint scoring 0.9: the match count is 136 matches / (2 candidates * 2 *
    136 confident joints) / 2 * 136 = 17 >= 5, so the second is absorbed."""
    pose = _person(0)
    out = wholebody_pose_nms(*_scene([pose, pose]))
    assert len(out) == 1 and out.clusters[0].tolist() == [0, 1]


def test_identical_duplicates_stay_apart_among_many_people() -> None:
    """The same pair among 30 distant people: 136 / (32 * 2 * 136) / 2 * 136 = 1.0625 < 5, and the similarity
    (at most 1 + 1 + 0.1 + 1.7 * 3.5 = 8.05) never reaches 22.48: AlphaPose keeps both duplicates."""
    pose = _person(0)
    others = [_person(1000 + 300 * i) for i in range(30)]
    for _, s in others:
        s[:] = 0.5  # lower than the duplicates: they are picked first, with all 32 candidates in play
    out = wholebody_pose_nms(*_scene([pose, pose, *others]))
    assert len(out) == 32 and {0, 1} <= set(out.picked.tolist())


def test_dispatch_follows_alphaposes_pose_nms() -> None:
    assert parametric_nms_for(17) is parametric_pose_nms and parametric_nms_for(68) is parametric_pose_nms
    assert parametric_nms_for(136).keywords == {"regression": False}
    assert parametric_nms_for(133, heatmap_loss=False).keywords == {"regression": True}
    with pytest.raises(ValueError, match="133 or 136"):
        wholebody_pose_nms(*_scene([_person(0, k=26)]))
