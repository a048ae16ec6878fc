"""Parametric pose NMS and OKS-NMS: hand-derived cases, a plain slow reference, golden outputs of the original."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from alphapose_kit.data import keypoints
from alphapose_kit.data.keypoints import COCO17, HALPE26, KeypointSet
from alphapose_kit.errors import AkitError
from alphapose_kit.ops import default_oks_sigmas, object_keypoint_similarity, oks_pose_nms, parametric_pose_nms
from alphapose_kit.ops.pnms import _exp, _tmean, _tsum
from tests.paths import GOLDEN as GOLDEN_DIR

GOLDEN = GOLDEN_DIR / "pose_nms_golden.npz"
F32 = np.float32
COCO17_SIGMAS, HALPE26_SIGMAS = COCO17.sigma_array, HALPE26.sigma_array


def grid_pose(k: int = 17, origin=(0.0, 0.0)) -> np.ndarray:
    """K joints on a 5-wide grid, 10 px apart in x and 12 px in y (spans 40 x 36 for K = 17)."""
    q = np.arange(k)
    return (np.stack([10.0 * (q % 5), 12.0 * (q // 5)], axis=1) + np.asarray(origin)).astype(F32)


def box(side: float, origin=(0.0, 0.0)) -> list[float]:
    """A square box: ref = 0.1 * side."""
    return [origin[0], origin[1], origin[0] + side, origin[1] + side]


def run(boxes, det, poses, scores, **kw):
    return parametric_pose_nms(
        np.array(boxes, F32), np.array(det, F32), np.array(poses, F32), np.array(scores, F32), **kw
    )


def person_score(merged_scores, det) -> float:
    s = np.asarray(merged_scores, np.float64)
    return s.mean() + det + 1.25 * s.max()


# --------------------------------------------------------------------------------------------------------------
# Hand-derived parametric NMS cases
# --------------------------------------------------------------------------------------------------------------


def test_identical_poses_merge_into_the_higher_scored_one():
    # Same joints (d = 0): sim = sum tanh(Sa) tanh(Sb) + 1.7 * 17 >= 28.9 > 22.48, so one cluster {0, 1}.
    # H_0 = mean(0.3..0.8) = 0.55 < H_1 = mean(0.5..0.9) = 0.7, so candidate 1 is picked although it comes second.
    # Per joint all members are within the merge radius: pose = (Sa P + Sb P) / (Sa + Sb) = P and
    # score = (Sa^2 + Sb^2) / (Sa + Sb).
    pose = grid_pose()
    sa, sb = np.linspace(0.3, 0.8, 17), np.linspace(0.5, 0.9, 17)
    res = run([box(100), box(100)], [0.6, 0.9], [pose, pose], [sa, sb])
    assert res.picked.tolist() == [1]
    assert [c.tolist() for c in res.clusters] == [[0, 1]]
    np.testing.assert_allclose(res.keypoints[0], pose, rtol=1e-6)
    expected = (sa**2 + sb**2) / (sa + sb)
    np.testing.assert_allclose(res.keypoint_scores[0], expected, rtol=1e-6)
    assert res.scores[0] == pytest.approx(person_score(expected, 0.9), rel=1e-6)
    np.testing.assert_array_equal(res.boxes[0], box(100))
    assert res.box_scores[0] == F32(0.9)


def test_far_apart_people_are_picked_in_descending_mean_score():
    # 500 px apart: d >> 1 and >> 7, so sim ~ 0 and no match; each is its own cluster. A single member merges to
    # itself exactly (w = S / S = 1). Order: H = 0.8 (index 1) before H = 0.6 (index 0).
    a, b = grid_pose(), grid_pose(origin=(500, 400))
    sa, sb = np.full(17, 0.6), np.full(17, 0.8)
    sa[3], sb[5] = 0.9, 1.0
    sa[4] -= 0.3  # mean 0.6 + (0.3 - 0.3) / 17 = 0.6 exactly in reals
    sb[6] -= 0.2
    res = run([box(100), box(100, (500, 400))], [0.5, 0.7], [a, b], [sa, sb])
    assert res.picked.tolist() == [1, 0]
    assert [c.tolist() for c in res.clusters] == [[1], [0]]
    np.testing.assert_array_equal(res.keypoints, np.stack([b, a]))
    np.testing.assert_array_equal(res.keypoint_scores, np.stack([sb, sa]).astype(F32))
    np.testing.assert_allclose(res.scores, [person_score(sb, 0.7), person_score(sa, 0.5)], rtol=1e-6)


def test_pick_below_score_threshold_is_skipped_and_its_cluster_not_restored():
    # C (index 2) is far away with H = 0.5 and is picked first. A (index 0, all 0.29, H = 0.29) beats B
    # (index 1, same joints, H = (0.6 + 16 * 0.1) / 17 = 0.129) and absorbs it (d = 0). A's best joint is 0.29 < 0.3,
    # so A is dropped; B, although its best joint is 0.6, was absorbed and never comes back.
    pose = grid_pose()
    sb = np.full(17, 0.1)
    sb[0] = 0.6
    res = run(
        [box(100), box(100), box(100, (600, 0))],
        [0.9, 0.9, 0.5],
        [pose, pose, grid_pose(origin=(600, 0))],
        [np.full(17, 0.29), sb, np.full(17, 0.5)],
    )
    assert res.picked.tolist() == [2]
    assert [c.tolist() for c in res.clusters] == [[2]]


def test_pick_whose_merged_scores_fall_below_threshold_is_skipped():
    # A = [0.3, 0.29 x 16] (H = 0.2906) picks and absorbs B = [0.1, 0.29 x 16] at the same joints. A passes the
    # first test (0.3 is not < 0.3) but its merged joint 0 is (0.3^2 + 0.1^2) / 0.4 = 0.25 and the others stay
    # 0.29: max 0.29 < 0.3, so nothing is emitted.
    pose = grid_pose()
    sa, sb = np.full(17, 0.29), np.full(17, 0.29)
    sa[0], sb[0] = 0.3, 0.1
    assert len(run([box(100), box(100)], [0.9, 0.9], [pose, pose], [sa, sb])) == 0
    sb[0] = 0.35  # merged joint 0 = (0.09 + 0.1225) / 0.65 = 0.3269 >= 0.3: emitted
    res = run([box(100), box(100)], [0.9, 0.9], [pose, pose], [sa, sb])
    assert res.picked.tolist() == [1]  # H_B = (0.35 + 16 * 0.29) / 17 > H_A now
    assert res.keypoint_scores[0, 0] == pytest.approx((0.09 + 0.1225) / 0.65, rel=1e-6)


@pytest.mark.parametrize(
    ("side", "far", "near"),
    [(300.0, 16.0, 14.0), (100.0, 12.0, 9.0)],  # ref 30 -> merge radius min(30, 15) = 15; ref 10 -> radius 10
)
def test_merge_radius_is_min_of_ref_and_15(side, far, near):
    # B repeats A except joint 0 (shifted by `far`, beyond the radius) and joint 1 (shifted by `near`, inside).
    # 15 joints at d = 0 give sim > 1.7 * 15 = 25.5 > 22.48: one cluster. Joint 0 merges A alone: A's joint and
    # score exactly. Joint 1: x = (0.9 x + 0.6 (x + near)) / 1.5 = x + 0.4 near, score (0.81 + 0.36) / 1.5 = 0.78.
    a = grid_pose()
    b = a.copy()
    b[0, 0] += far
    b[1, 0] += near
    res = run([box(side), box(side)], [0.9, 0.9], [a, b], [np.full(17, 0.9), np.full(17, 0.6)])
    assert res.picked.tolist() == [0]
    assert [c.tolist() for c in res.clusters] == [[0, 1]]
    np.testing.assert_array_equal(res.keypoints[0, 0], a[0])
    assert res.keypoint_scores[0, 0] == F32(0.9)
    np.testing.assert_allclose(res.keypoints[0, 1], [a[1, 0] + 0.4 * near, a[1, 1]], rtol=1e-6)
    assert res.keypoint_scores[0, 1] == pytest.approx(0.78, rel=1e-6)
    np.testing.assert_allclose(res.keypoints[0, 2:], a[2:], rtol=1e-6)


@pytest.mark.parametrize(
    ("side", "n_close", "d", "merged"),
    [
        (300.0, 5, 6.0, True),  # ref 30, match radius min(30, 7) = 7: 5 joints at 6 px match -> cluster
        (300.0, 4, 6.0, False),  # only 4 matches < 5
        (300.0, 5, 8.0, False),  # 8 px <= ref 30 but > the cap 7
        (50.0, 5, 6.0, False),  # ref 5: 6 px > 5
        (50.0, 5, 4.5, True),  # ref 5: 4.5 px matches
    ],
)
def test_match_count_uses_min_of_ref_and_7(side, n_close, d, merged):
    # B has n_close joints d px from A's and the rest 100 px away. Similarity stays far below gamma:
    # sim <= 1.7 * (5 exp(-4.5 / 2.65) + 12 exp(-100 / 2.65)) = 1.56 (no joint within 1 px, so no score term).
    # Only the match count can put B in A's cluster.
    a = grid_pose()
    b = a.copy()
    b[:, 0] += 100.0
    b[:n_close, 0] = a[:n_close, 0] + d
    res = run([box(side), box(side)], [0.9, 0.9], [a, b], [np.full(17, 0.5), np.full(17, 0.4)])
    if merged:
        assert res.picked.tolist() == [0] and res.clusters[0].tolist() == [0, 1]
    else:
        assert res.picked.tolist() == [0, 1]


@pytest.mark.parametrize(("d", "merged"), [(1.05, True), (1.065, False)])
def test_similarity_threshold_gamma(d, merged):
    # Box side 5 -> ref 0.5, so matches need d <= 0.5. A and B score 0.5 everywhere (tie: A, index 0, picks).
    # B: joints 0-3 at d = 0 (4 matches < 5) and joints 4-16 shifted by d (d > 1: no score term).
    #   sim = 4 tanh(0.5)^2 + 1.7 * 4 + 1.7 * 13 * exp(-d / 2.65)
    #       = 0.854209 + 6.8 + 22.1 * exp(-d / 2.65)
    #   d = 1.05:  22.1 * 0.672854 = 14.870081 -> sim = 22.524290 > 22.48 (one cluster)
    #   d = 1.065: 22.1 * 0.669056 = 14.786148 -> sim = 22.440357 < 22.48 (two picks)
    #   (the crossing is at d = 1.0579)
    sim = 4 * math.tanh(0.5) ** 2 + 1.7 * 4 + 1.7 * 13 * math.exp(-d / 2.65)
    assert (sim > 22.48) == merged
    a = grid_pose()
    b = a.copy()
    b[4:, 0] += d
    res = run([box(5), box(5)], [0.9, 0.9], [a, b], [np.full(17, 0.5), np.full(17, 0.5)])
    assert res.picked.tolist() == ([0] if merged else [0, 1])


def test_zero_scores_become_1e5():
    # A = [0.5 x 16, 0] and B = [0.5 x 16, 1e-5] at the same joints. With the replacement both have the same H
    # and A (first) picks; without it B's mean would be higher. Joint 16 merges to (2 * 1e-10) / (2e-5) = 1e-5
    # instead of 0/0.
    pose = grid_pose()
    sa, sb = np.full(17, 0.5), np.full(17, 0.5)
    sa[16], sb[16] = 0.0, 1e-5
    res = run([box(100), box(100)], [0.9, 0.9], [pose, pose], [sa, sb])
    assert res.picked.tolist() == [0] and res.clusters[0].tolist() == [0, 1]
    assert res.keypoint_scores[0, 16] == F32(1e-5)
    single = run([box(100)], [0.9], [pose], [np.where(np.arange(17) == 2, -0.0, 0.5)])  # -0.0 == 0 too
    assert single.keypoint_scores[0, 2] == F32(1e-5)
    negative = run([box(100)], [0.9], [pose], [np.where(np.arange(17) == 2, -0.01, 0.5)])  # negatives untouched
    assert negative.keypoint_scores[0, 2] == F32(-0.01)


@pytest.mark.parametrize(("min_box_area", "kept"), [(0.0, True), (449.0, True), (450.0, True), (450.5, False)])
def test_min_box_area_uses_keypoint_extent_times_1_5_squared(min_box_area, kept):
    # A's joints span x 100..120 and y 50..60: 1.5^2 * 20 * 10 = 450; dropped only when 450 < min_box_area.
    # Its exact duplicate B (same H, so A picks; the merge gives A's joints exactly) is in A's cluster (5 joints
    # within min(3, 7) px) and is not restored when A is dropped. C is large and stays.
    a = np.array([[100, 50], [120, 50], [100, 60], [120, 60], [110, 55]], F32)
    c = a * 10 + 1000
    res = run(
        [box(30, (100, 50)), box(30, (100, 50)), box(300, (1000, 1000))],
        [0.9, 0.9, 0.9],
        [a, a, c],
        [np.full(5, 0.8), np.full(5, 0.8), np.full(5, 0.6)],
        min_box_area=min_box_area,
    )
    assert res.picked.tolist() == ([0, 2] if kept else [2])


def test_ties_in_human_score_pick_the_earliest_detection():
    # Index 0 has H = 0.4; indices 1 and 2 both 0.7 and far apart: 1 picks before 2, then 0.
    # Index 3 duplicates index 2 exactly (same joints and scores): it joins 2's cluster, 2 stays the pick.
    p0, p1, p2 = grid_pose(), grid_pose(origin=(300, 0)), grid_pose(origin=(0, 300))
    res = run(
        [box(60), box(60, (300, 0)), box(60, (0, 300)), box(60, (0, 300))],
        [0.9, 0.1, 0.2, 0.9],
        [p0, p1, p2, p2],
        [np.full(17, 0.4), np.full(17, 0.7), np.full(17, 0.7), np.full(17, 0.7)],
    )
    assert res.picked.tolist() == [1, 2, 0]
    assert [c.tolist() for c in res.clusters] == [[1], [2, 3], [0]]
    assert res.box_scores.tolist() == [F32(0.1), F32(0.2), F32(0.9)]


def test_degenerate_pick_outside_its_own_cluster_is_picked_again():
    # Original behaviour for K <= 13 with a zero-size box (ref 0: no joint can match, d / 0 is nan or inf).
    # A = [0.3, -0.1 x 12] (H = -0.069) beats B = [0.35, -1 x 12] (H = -0.896); same joints (d = 0).
    #   self-sim(A) = tanh(0.3)^2 + 12 tanh(0.1)^2 + 1.7 * 13 = 0.0847 + 0.1192 + 22.1 = 22.304 < 22.48
    #   sim(B)      = tanh(0.3) tanh(0.35) + 12 tanh(0.1) tanh(1) + 22.1 = 0.0978 + 0.9113 + 22.1 = 23.109
    # so A's first cluster is {B} without A; A is picked again and then forms {A} (empty -> itself).
    # Merges: first pick -> B's joints and scores (only member, radius 0 keeps d = 0), second -> A itself.
    pose = grid_pose(13)
    sa = np.array([0.3] + [-0.1] * 12, F32)
    sb = np.array([0.35] + [-1.0] * 12, F32)
    res = run([[10, 10, 10, 10]] * 2, [0.5, 0.6], [pose, pose], [sa, sb])
    assert res.picked.tolist() == [0, 0]
    assert [c.tolist() for c in res.clusters] == [[1], [0]]
    np.testing.assert_array_equal(res.keypoint_scores, np.stack([sb, sa]))
    np.testing.assert_allclose(res.scores, [person_score(sb, 0.5), person_score(sa, 0.5)], atol=1e-6)


@pytest.mark.parametrize("k", [17, 26, 5])
def test_empty_input_gives_empty_result_with_shapes(k):
    for fn in (parametric_pose_nms, oks_pose_nms):
        if fn is oks_pose_nms and k == 5:
            continue
        res = fn(np.zeros((0, 4)), np.zeros(0), np.zeros((0, k, 2)), np.zeros((0, k)))
        assert len(res) == 0 and res.clusters == ()
        assert res.boxes.shape == (0, 4) and res.keypoints.shape == (0, k, 2) and res.keypoint_scores.shape == (0, k)
        assert res.picked.dtype == np.int64 and res.scores.shape == (0,)


def test_input_validation_and_score_shapes():
    pose = grid_pose()
    res = parametric_pose_nms([box(100)], [0.9], pose[None], np.full((1, 17, 1), 0.5))  # (N, K, 1) scores
    assert res.keypoint_scores.shape == (1, 17)
    with pytest.raises(ValueError, match="keypoint_scores"):
        parametric_pose_nms([box(100)], [0.9], pose[None], np.full((1, 16), 0.5))
    with pytest.raises(ValueError, match="boxes"):
        parametric_pose_nms([box(100)] * 2, [0.9], pose[None], np.full((1, 17), 0.5))


def test_negative_reference_distance_matches_at_any_distance():
    # A's box has both sides negative: ref = 0.1 * max(-10, -10) = -1, so its match radius is min(-1, 7) = -1 and
    # d / -1 <= 1 holds for every joint at any distance: A (higher H) absorbs B 500 px away, as in the original.
    # The merge radius min(-1, 15) keeps no member, so the merged pose is 0 / 0 (NaN), as in the original.
    a, b = grid_pose(), grid_pose(origin=(500, 500))
    res = run([[10, 10, 0, 0], box(60, (500, 500))], [0.9, 0.9], [a, b], [np.full(17, 0.8), np.full(17, 0.5)])
    assert res.picked.tolist() == [0] and res.clusters[0].tolist() == [0, 1]
    assert np.isnan(res.keypoints).all() and np.isnan(res.keypoint_scores).all()
    far = run([box(10, (10, 10)), box(60, (500, 500))], [0.9, 0.9], [a, b], [np.full(17, 0.8), np.full(17, 0.5)])
    assert far.picked.tolist() == [0, 1]  # the same scene with a normal box: two people


# --------------------------------------------------------------------------------------------------------------
# Independent slow reference, written plainly from the facts (float64, loops)
# --------------------------------------------------------------------------------------------------------------


def slow_parametric_nms(boxes, det, kps, scores, min_box_area=0.0):
    n, k = scores.shape
    s = [[1e-5 if float(v) == 0 else float(v) for v in row] for row in scores]
    pts = [[(float(x), float(y)) for x, y in pose] for pose in kps]
    ref = [0.1 * max(float(b[2] - b[0]), float(b[3] - b[1])) for b in boxes]
    human = [sum(row) / k for row in s]

    def dist(i, j, q):
        return math.hypot(pts[i][q][0] - pts[j][q][0], pts[i][q][1] - pts[j][q][1])

    remaining, picks = list(range(n)), []
    while remaining:
        p = max(remaining, key=lambda i: (human[i], -i))
        r, cluster = ref[p], []
        for j in remaining:
            sim, match = 0.0, 0
            for q in range(k):
                d = dist(p, j, q)
                if d <= 1:
                    sim += math.tanh(s[p][q]) * math.tanh(s[j][q])
                sim += 1.7 * math.exp(-d / 2.65)
                match += d / min(r, 7) <= 1
            if sim > 22.48 or match >= 5:
                cluster.append(j)
        cluster = cluster or [p]
        picks.append((p, cluster))
        remaining = [j for j in remaining if j not in cluster]

    out = []
    for p, cluster in picks:
        if max(s[p]) < 0.3:
            continue
        radius = min(ref[p], 15)
        pose, pose_s = [], []
        for q in range(k):
            members = [j for j in cluster if dist(p, j, q) <= radius]
            total = sum(s[j][q] for j in members)
            pose.append([sum(s[j][q] / total * pts[j][q][c] for j in members) for c in (0, 1)])
            pose_s.append(sum(s[j][q] ** 2 for j in members) / total)
        if max(pose_s) < 0.3:
            continue
        xs, ys = [x for x, _ in pose], [y for _, y in pose]
        if 2.25 * (max(xs) - min(xs)) * (max(ys) - min(ys)) < min_box_area:
            continue
        out.append((p, cluster, pose, pose_s, sum(pose_s) / k + float(det[p]) + 1.25 * max(pose_s)))
    return out


def random_scene(rng, people, k, dup_max=4, min_candidates=0):
    """People of mixed sizes, each with 1..dup_max jittered candidates; some exact duplicates and zero scores."""
    boxes, det, kps, scores = [], [], [], []
    while people > 0 or len(det) < min_candidates:
        people -= 1
        center = rng.uniform(0, 640, 2)
        size = rng.choice([rng.uniform(20, 70), rng.uniform(70, 160), rng.uniform(160, 400)])
        base = center + (rng.random((k, 2)) - 0.5) * size * np.array([0.6, 1.0])
        base_s = rng.uniform(0.0, 1.0, k) * rng.choice([1.0, 1.0, 0.25])
        for _ in range(rng.integers(1, dup_max + 1)):
            pose = base if rng.random() < 0.15 else base + rng.normal(0, rng.choice([0.3, 1.5, 4.0, 10.0]), (k, 2))
            s = base_s.copy() if rng.random() < 0.15 else np.clip(base_s + rng.normal(0, 0.08, k), -0.05, 1.0)
            s[rng.random(k) < 0.1] = 0.0
            boxes.append(np.concatenate([pose.min(0), pose.max(0)]) + rng.normal(0, size * 0.05, 4))
            det.append(rng.uniform(0.05, 1.0))
            kps.append(pose)
            scores.append(s)
    return (np.array(boxes, F32), np.array(det, F32), np.array(kps, F32), np.array(scores, F32))


@pytest.mark.parametrize("seed", range(50))
def test_matches_slow_reference_on_random_crowds(seed):
    rng = np.random.default_rng(seed)
    k = (17, 26)[seed % 2]
    boxes, det, kps, scores = random_scene(rng, int(rng.integers(2, 61)), k, dup_max=int(rng.integers(1, 4)))
    min_area = (0.0, 0.0, 2500.0)[seed % 3]
    res = parametric_pose_nms(boxes, det, kps, scores, min_box_area=min_area)
    ref = slow_parametric_nms(boxes, det, kps, scores, min_box_area=min_area)
    assert res.picked.tolist() == [p for p, *_ in ref]
    assert [c.tolist() for c in res.clusters] == [c for _, c, *_ in ref]
    if ref:
        np.testing.assert_allclose(res.keypoints, [pose for _, _, pose, _, _ in ref], rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(res.keypoint_scores, [s for *_, s, _ in ref], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(res.scores, [sc for *_, sc in ref], rtol=1e-5)


def test_crowd_of_200_matches_slow_reference():
    # 200 candidates: every pair block, torch call chunk and cluster-size group of the vectorised code is exercised.
    boxes, det, kps, scores = random_scene(np.random.default_rng(7), 60, 17, min_candidates=200)
    boxes, det, kps, scores = boxes[:200], det[:200], kps[:200], scores[:200]
    res = parametric_pose_nms(boxes, det, kps, scores)
    ref = slow_parametric_nms(boxes, det, kps, scores)
    assert res.picked.tolist() == [p for p, *_ in ref]
    assert [c.tolist() for c in res.clusters] == [c for _, c, *_ in ref]
    np.testing.assert_allclose(res.keypoints, [pose for _, _, pose, _, _ in ref], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(res.scores, [sc for *_, sc in ref], rtol=1e-5)


def test_float32_exp_below_the_normal_range_is_torchs():
    # _exp takes arguments below -87.5 (subnormal or zero results) from float64 exp rounded to float32 instead of
    # torch.exp, which is ~100x slower there. Every float32 in [-104.5, -86] (subnormal results, the limit, where exp
    # reaches 0) and a sample of the rest must give torch's value, or P-NMS would no longer sum the original's terms.
    lo, hi = np.array([-104.5, -86.0], F32).view(np.int32)
    args = np.arange(hi, lo + 1, dtype=np.int64).astype(np.int32).view(F32)  # negative floats: bits grow with size
    args = np.concatenate([args, np.array([-np.inf, -1e30, -300.0, -150.0, -105.0, -3.0, 0.0, np.nan], F32)])
    np.testing.assert_array_equal(_exp(args), torch.exp(torch.from_numpy(args)).numpy())


def test_chunked_torch_reductions_equal_one_call():
    # _tsum/_tmean split big arrays into serial chunks of whole rows; each row must come out as in one torch call.
    rng = np.random.default_rng(0)
    for shape in [(5000, 17), (300, 7, 34), (3, 2000, 17)]:
        a = rng.uniform(-1, 1, shape).astype(F32)
        np.testing.assert_array_equal(_tsum(a), torch.sum(torch.from_numpy(a), dim=1).numpy())
    a = rng.uniform(0, 1, (4000, 26)).astype(F32)
    np.testing.assert_array_equal(_tmean(a), torch.mean(torch.from_numpy(a), dim=1).numpy())


# --------------------------------------------------------------------------------------------------------------
# Golden outputs of the original AlphaPose code (tests/golden/README.md says how they were made)
# --------------------------------------------------------------------------------------------------------------


def golden_scenes(prefix: str):
    data = np.load(GOLDEN)
    names = sorted({key.split("__")[0] for key in data.files if key.startswith(prefix)})
    return [
        (name, {key.split("__")[1]: data[key] for key in data.files if key.startswith(name + "__")}) for name in names
    ]


@pytest.mark.parametrize(("name", "g"), golden_scenes("p"), ids=[name for name, _ in golden_scenes("p")])
def test_parametric_nms_equals_original_bit_for_bit(name, g):
    res = parametric_pose_nms(
        g["in_boxes"], g["in_det"], g["in_kps"], g["in_scores"], min_box_area=float(g["in_min_box_area"])
    )
    np.testing.assert_array_equal(res.picked, g["out_picked"])
    clusters = np.split(g["out_clusters"], np.cumsum(g["out_cluster_sizes"])[:-1]) if len(res) else []
    assert [c.tolist() for c in res.clusters] == [c.tolist() for c in clusters]
    np.testing.assert_array_equal(res.keypoints, g["out_keypoints"])
    np.testing.assert_array_equal(res.keypoint_scores, g["out_keypoint_scores"])
    np.testing.assert_array_equal(res.scores, g["out_scores"])
    np.testing.assert_array_equal(res.boxes, g["in_boxes"][g["out_picked"]])


@pytest.mark.parametrize(("name", "g"), golden_scenes("o"), ids=[name for name, _ in golden_scenes("o")])
def test_oks_nms_equals_original(name, g):
    res = oks_pose_nms(g["in_boxes"], g["in_det"], g["in_kps"], g["in_scores"])
    np.testing.assert_array_equal(res.picked, g["out_picked"])
    np.testing.assert_array_equal(res.scores, g["out_scores"])


# --------------------------------------------------------------------------------------------------------------
# OKS-NMS
# --------------------------------------------------------------------------------------------------------------


def test_oks_value_and_threshold_hand_derived():
    # B = A shifted by (3, 4): d = 5 at every joint; both areas 100 * 100; all sigmas 0.05 ((2 sigma)^2 = 0.01).
    # OKS = exp(-25 / (2 * 0.01 * 10000)) = exp(-0.125) = 0.882497.
    a = grid_pose()
    b = a + np.array([3, 4], F32)
    sig = np.full(17, 0.05)
    assert object_keypoint_similarity(a, b[None], 1e4, [1e4], sig)[0] == pytest.approx(math.exp(-0.125), rel=1e-12)
    args = ([box(100), box(100, (3, 4))], [0.9, 0.8], [a, b], [np.full(17, 0.8), np.full(17, 0.8)])
    kept = oks_pose_nms(*args, sigmas=sig)  # 0.8825 <= 0.9: both stay
    assert kept.picked.tolist() == [0, 1] and [c.tolist() for c in kept.clusters] == [[0], [1]]
    dropped = oks_pose_nms(*args, sigmas=sig, oks_threshold=0.88)  # 0.8825 > 0.88: B goes
    assert dropped.picked.tolist() == [0] and dropped.clusters[0].tolist() == [0, 1]
    np.testing.assert_array_equal(dropped.keypoints[0], a)  # kept poses are not merged


def test_oks_rescoring_hand_derived():
    # Scores 10 x 0.5 and 7 x 0.1, det 0.8: validate score = 0.8 + 5.7 / 17 + 1.25 * 0.5 = 1.760294;
    # mean of the joints above 0.2 = 0.5 -> 0.880147. A pose with no joint above 0.2 scores 0 (0.19 everywhere;
    # float32 0.2 itself would count, as it is 0.2000000030 > 0.2 in the original's float64 test).
    s = np.array([0.5] * 10 + [0.1] * 7)
    res = oks_pose_nms(
        [box(100), box(100, (500, 0))], [0.8, 0.9], [grid_pose(), grid_pose(origin=(500, 0))], [s, np.full(17, 0.19)]
    )
    assert res.picked.tolist() == [0, 1]
    np.testing.assert_allclose(res.scores, [0.5 * (0.8 + 5.7 / 17 + 0.625), 0.0], rtol=1e-6)
    assert res.scores.dtype == np.float64


def test_oks_matches_pycocotools_compute_oks():
    # pycocotools: vars = (2 sigma)^2, area = the gt's; with equal areas it is the same formula.
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    rng = np.random.default_rng(3)
    gt_pose = grid_pose(origin=(100, 100)) * 2
    dts = gt_pose[None] + rng.normal(0, 6, (5, 17, 2)).astype(F32)
    area = 5000.0
    gt = COCO()
    gt.dataset = {
        "images": [{"id": 1}],
        "categories": [{"id": 1, "name": "person"}],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "iscrowd": 0,
                "area": area,
                "bbox": [100, 100, 100, 100],
                "num_keypoints": 17,
                "keypoints": np.concatenate([gt_pose, np.full((17, 1), 2)], 1).reshape(-1).tolist(),
            }
        ],
    }
    gt.createIndex()
    dt = gt.loadRes(
        [
            {
                "image_id": 1,
                "category_id": 1,
                "score": 1.0 - 0.1 * i,
                "keypoints": np.concatenate([d, np.ones((17, 1))], 1).reshape(-1).tolist(),
            }
            for i, d in enumerate(dts)
        ]
    )
    ev = COCOeval(gt, dt, "keypoints")
    ev.params.imgIds = [1]
    ev._prepare()
    coco = ev.computeOks(1, 1)[:, 0]
    ours = object_keypoint_similarity(gt_pose, dts, area, np.full(5, area), COCO17_SIGMAS)
    np.testing.assert_allclose(ours, coco, rtol=1e-12)
    np.testing.assert_allclose(ev.params.kpt_oks_sigmas, COCO17_SIGMAS)


def slow_oks_nms(boxes, det, kps, scores, sigmas, thr=0.9):
    n, k = scores.shape
    rescored = []
    for i in range(n):
        s = [float(v) for v in scores[i]]
        visible = [v for v in s if v > 0.2]
        base = float(det[i]) + sum(s) / k + 1.25 * max(s)
        rescored.append(base * (sum(visible) / len(visible) if visible else 0.0))
    areas = [float(b[2] - b[0]) * float(b[3] - b[1]) for b in boxes]
    order = sorted(range(n), key=lambda i: -rescored[i])
    kept = []
    while order:
        i, rest = order[0], order[1:]
        kept.append(i)
        order = []
        for j in rest:
            a = (areas[i] + areas[j]) / 2
            terms = [
                math.exp(
                    -((kps[i][q][0] - kps[j][q][0]) ** 2 + (kps[i][q][1] - kps[j][q][1]) ** 2) / (2 * (2 * sg) ** 2 * a)
                )
                for q, sg in enumerate(sigmas)
            ]
            if sum(terms) / k <= thr:
                order.append(j)
    return kept, [rescored[i] for i in kept]


@pytest.mark.parametrize("seed", range(20))
def test_oks_nms_matches_slow_reference(seed):
    rng = np.random.default_rng(100 + seed)
    k = (17, 26)[seed % 2]
    boxes, det, kps, scores = random_scene(rng, int(rng.integers(2, 30)), k)
    res = oks_pose_nms(boxes, det, kps, scores)
    kept, rescored = slow_oks_nms(boxes, det, kps.astype(np.float64), scores, (COCO17_SIGMAS, HALPE26_SIGMAS)[seed % 2])
    assert res.picked.tolist() == kept
    np.testing.assert_allclose(res.scores, rescored, rtol=1e-6)
    assert sorted(np.concatenate(res.clusters).tolist()) == list(range(len(det)))  # every input in one group


def test_oks_sigmas_come_from_the_keypoint_sets(monkeypatch):
    np.testing.assert_array_equal(default_oks_sigmas(17), COCO17.sigma_array)
    np.testing.assert_array_equal(default_oks_sigmas(26), HALPE26.sigma_array)
    three = KeypointSet("three", ("a", "b", "c"), (), (), (0.1, 0.2, 0.3))
    monkeypatch.setitem(keypoints._REGISTRY, "three", three)  # a registered custom set serves its own joint count
    np.testing.assert_array_equal(default_oks_sigmas(3), [0.1, 0.2, 0.3])


def test_oks_sigmas_defaults_and_errors():
    assert len(HALPE26_SIGMAS) == 26 and HALPE26_SIGMAS[17] == pytest.approx(0.08)
    pose = grid_pose(5)
    with pytest.raises(AkitError, match="sigmas"):
        oks_pose_nms([box(10)], [0.9], pose[None], np.full((1, 5), 0.5))
    res = oks_pose_nms([box(10)], [0.9], pose[None], np.zeros((1, 5)), sigmas=np.full(5, 0.1))
    assert res.keypoint_scores[0].tolist() == [0.0] * 5  # OKS-NMS keeps raw scores (no 1e-5 replacement)
    with pytest.raises(AkitError, match="one value per joint"):
        oks_pose_nms([box(10)], [0.9], pose[None], np.full((1, 5), 0.5), sigmas=np.full(4, 0.1))
