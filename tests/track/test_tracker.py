"""PoseTracker, IoU baseline, Kalman filter and matching: hand-derived cases and the synthetic crossing scenes."""

from __future__ import annotations

import numpy as np
import pytest

from alphapose_kit.data.keypoints import COCO17
from alphapose_kit.evaluation.posetrack import joint_accumulators, summarize
from alphapose_kit.ops.similarity import box_iou, pose_oks
from alphapose_kit.track import UNTRACKED, PoseTracker
from alphapose_kit.track.kalman import BoxKalman
from alphapose_kit.track.matching import assign
from tests.track.iou_tracker import IouTracker
from tests.track.synthetic import crossing_scenes, make_sequence, run_tracker


def test_box_iou_by_hand():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 10, 10]])
    np.testing.assert_allclose(box_iou(a, b), [[50 / 150, 0.0, 1.0]])
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 3)


def test_pose_oks_by_hand():
    sigmas = np.full(4, 0.1)
    ref = np.zeros((1, 4, 2))
    other = ref.copy()
    other[0, 0] = [3.0, 4.0]  # 5 px away at joint 0
    vis = np.array([[True, True, True, False]])
    area = 100.0
    expected = (2 + np.exp(-25 / (2 * area * 0.2**2))) / 3  # joint 3 is not visible in the reference
    np.testing.assert_allclose(pose_oks(ref, vis, other, np.ones((1, 4), bool), [area], sigmas), [[expected]])
    two_joints = np.array([[True, True, False, False]])
    assert np.isnan(pose_oks(ref, two_joints, other, two_joints, [area], sigmas)[0, 0])


def test_assign_is_optimal_and_gated():
    sim = np.array([[0.9, 0.8], [0.85, 0.1]])  # greedy takes (0, 0) first and is left with 0.1
    matches, free_rows, free_cols = assign(sim, 0.2)
    assert sorted(matches) == [(0, 1), (1, 0)] and free_rows == [] and free_cols == []
    matches, free_rows, free_cols = assign(np.array([[0.1]]), 0.2)
    assert matches == [] and free_rows == [0] and free_cols == [0]


def test_kalman_learns_constant_velocity():
    kf = BoxKalman(np.array([0, 0, 50, 100]))
    for f in range(1, 15):
        kf.predict()
        kf.update(np.array([10 * f, 0, 10 * f + 50, 100]))
    kf.predict()
    np.testing.assert_allclose(kf.box, [150, 0, 200, 100], atol=1.0)  # the next box, 10 px further


def _pose(cx: float, cy: float, h: float = 200.0) -> tuple[np.ndarray, np.ndarray]:
    """A COCO-17 pose of height ``h`` centred at (cx, cy) and its box."""
    rel = np.linspace(-0.5, 0.5, 17)
    kps = np.stack([cx + 0.2 * h * np.sin(np.arange(17)), cy + rel * h], axis=1)
    box = np.array([kps[:, 0].min(), cy - h / 2, kps[:, 0].max(), cy + h / 2])
    return kps, box


def _frame(people: list[tuple[float, float, float]]):
    """(boxes, box scores, keypoints, keypoint scores) for (cx, cy, score) people."""
    kps, boxes = zip(*(_pose(cx, cy) for cx, cy, _ in people), strict=True) if people else ((), ())
    return (
        np.array(boxes).reshape(-1, 4),
        np.array([s for _, _, s in people]),
        np.array(kps).reshape(-1, 17, 2),
        np.full((len(people), 17), 0.8),
    )


def test_short_occlusion_keeps_the_id_within_the_buffer():
    def run(buffer: int) -> list[int]:
        tracker = PoseTracker(track_buffer=buffer)
        seen = []
        for f in range(40):
            people = [] if 15 <= f < 25 else [(100 + 8 * f, 300, 0.9)]  # hidden for 10 frames, walking on
            ids = tracker.update(*_frame(people))
            seen.extend(ids.tolist())
        return seen

    assert set(run(30)) == {1}
    assert set(run(5)) == {1, 2}  # a buffer shorter than the gap: a new id


def test_low_score_second_pass_and_new_tracks():
    tracker = PoseTracker()
    assert tracker.update(*_frame([(100, 300, 0.9)])).tolist() == [1]
    assert tracker.update(*_frame([(104, 300, 0.9)])).tolist() == [1]
    # partly hidden: a low score still continues the track, but never starts one
    assert tracker.update(*_frame([(108, 300, 0.3), (900, 300, 0.3)])).tolist() == [1, UNTRACKED]
    # a pose between the low threshold and the new-track threshold is not a new track either
    assert tracker.update(*_frame([(112, 300, 0.9), (900, 300, 0.55)])).tolist() == [1, UNTRACKED]
    assert tracker.update(*_frame([(116, 300, 0.9), (900, 300, 0.65)])).tolist() == [1, 2]
    assert tracker.update(*_frame([])).tolist() == []


def test_bad_input_is_a_value_error():
    with pytest.raises(ValueError, match="one row per pose"):
        PoseTracker().update(np.zeros((2, 4)), np.zeros(3), np.zeros((2, 17, 2)), np.zeros((2, 17)))
    with pytest.raises(ValueError, match="track_buffer"):
        PoseTracker(track_buffer=-1)


def test_iou_tracker_baseline():
    tracker = IouTracker()
    boxes = np.array([[0, 0, 10, 10], [100, 100, 110, 110]])
    assert tracker.update(boxes, [0.9, 0.9]).tolist() == [1, 2]
    assert tracker.update(boxes[::-1] + 1, [0.9, 0.9]).tolist() == [2, 1]
    assert tracker.update(boxes[:1], [0.9]).tolist() == [1]
    assert tracker.update(boxes, [0.9, 0.9]).tolist() == [1, 3]  # no memory: the lost one comes back new


def test_crossing_people_fewer_id_switches_than_iou_tracker():
    """People walking past each other, hidden while behind, jitter and dropped detections (from PoseTrack18's
    annotated people): the pose tracker keeps identities the plain IoU tracker loses."""
    pose_accs, iou_accs = [], []
    for seed, (walkers, frames) in enumerate(crossing_scenes()):
        gt, detections = make_sequence(walkers, frames, seed)
        pose_accs.append(joint_accumulators(gt, run_tracker(PoseTracker(sigmas=COCO17.sigma_array), detections)))
        iou_accs.append(joint_accumulators(gt, run_tracker(IouTracker(), detections)))
    ours, baseline = summarize(pose_accs), summarize(iou_accs)
    assert baseline["num_switches"] > 100  # the scenes do hurt a plain tracker
    assert ours["num_switches"] <= baseline["num_switches"] / 10
    assert ours["idf1"] > baseline["idf1"] + 20
    assert ours["mota"] > baseline["mota"]
