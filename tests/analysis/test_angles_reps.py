"""Angles and repetition counting on signals and stick figures whose answers follow from their construction."""

from __future__ import annotations

import numpy as np
import pytest

from alphapose_kit.analysis.angles import (
    AngleSpec,
    angle_at,
    angle_from_vertical,
    angles_csv,
    compute_angles,
    default_specs,
    parse_specs,
)
from alphapose_kit.analysis.reps import count_reps, make_plan, track_reps
from alphapose_kit.data.keypoints import COCO17, HALPE26, KeypointSet
from alphapose_kit.errors import AkitError
from tests.analysis.synthetic import figure, track_of


def test_right_angle_and_triangle():
    p = lambda *xy: np.array([xy], float)  # noqa: E731
    assert angle_at(p(1, 0), p(0, 0), p(0, 1))[0] == pytest.approx(90.0)
    assert angle_at(p(3, 0), p(0, 0), p(3, 4))[0] == pytest.approx(np.degrees(np.arctan2(4, 3)))
    assert angle_at(p(-1, 0), p(0, 0), p(1, 0))[0] == pytest.approx(180.0)
    assert np.isnan(angle_at(p(0, 0), p(0, 0), p(1, 0))[0])  # no segment, no angle
    assert angle_from_vertical(p(0, 0), p(0, -5))[0] == pytest.approx(0.0)  # image y grows downwards
    assert angle_from_vertical(p(0, 0), p(2, -2))[0] == pytest.approx(45.0)
    assert angle_from_vertical(p(0, 0), p(-3, 0))[0] == pytest.approx(90.0)


def test_stick_figure_angles():
    knee = np.array([170.0, 120.0, 90.0, 60.0])
    kps = figure(np.tile([300.0, 300.0], (4, 1)), 20.0, (180 - knee) / 2, -(180 - knee) / 2, 10.0, 100.0)
    angles = compute_angles(track_of(kps), default_specs(COCO17))
    np.testing.assert_allclose(angles["left_knee"], knee, atol=1e-9)
    np.testing.assert_allclose(angles["right_knee"], knee, atol=1e-9)
    np.testing.assert_allclose(angles["left_elbow"], 180 - 90, atol=1e-9)
    np.testing.assert_allclose(angles["trunk_lean"], 20.0, atol=1e-9)


def test_missing_joints_give_nan_cells_not_a_crash():
    kps = figure(np.tile([300.0, 300.0], (3, 1)), 0.0, 30.0, -30.0, 0.0, 0.0)
    scores = np.full((3, 17), 0.9)
    scores[1, 13] = 0.1  # left knee unsure in frame 1
    scores[2] = 0.0  # nobody sure of anything in frame 2
    track = track_of(kps, track_id=4, scores=scores)
    specs = default_specs(COCO17)
    angles = compute_angles(track, specs)
    assert np.isnan(angles["left_knee"][1]) and angles["right_knee"][1] == pytest.approx(120.0)
    assert all(np.isnan(v[2]) for v in angles.values())
    lines = angles_csv([(track, angles)], [s.name for s in specs], fps=10.0).splitlines()
    assert lines[0].startswith("track_id,frame,time_s,left_knee,right_knee")
    assert lines[2].split(",")[:5] == ["4", "1", "0.1000", "", "120.00"]
    assert lines[3] == "4,2,0.2000" + "," * len(specs)
    assert angles_csv([(track, angles)], ["left_knee"], fps=None).splitlines()[1] == "4,0,,120.00"


def test_angle_specs():
    spec = AngleSpec.parse("lean=left_hip+right_hip,nose", COCO17)
    assert spec.points == ((11, 12), (0,))
    with pytest.raises(AkitError, match="no joint 'left_toe'"):
        AngleSpec.parse("x=left_hip,left_knee,left_toe", COCO17)
    with pytest.raises(AkitError, match="bad angle"):
        AngleSpec.parse("left_knee", COCO17)
    with pytest.raises(AkitError, match="unique"):
        parse_specs(["a=nose,left_hip", "a=nose,right_hip"], COCO17)
    assert [s.name for s in default_specs(HALPE26)] == [s.name for s in default_specs(COCO17)]
    arms = KeypointSet("arms", ("left_shoulder", "left_elbow", "left_wrist", "left_hip"), (), (), (0.05,) * 4)
    assert [s.name for s in default_specs(arms)] == ["left_elbow", "left_shoulder"]  # only what the set can measure


def test_count_reps_by_hand():
    signal = np.array([170, 170, 100, 90, 100, 170, 170], float)
    (rep,) = count_reps(signal, np.arange(7.0), low=120, high=155, target=90)
    assert (rep["start_index"], rep["bottom_index"], rep["end_index"]) == (1, 3, 5)
    assert (rep["down_s"], rep["up_s"], rep["duration_s"]) == (2.0, 2.0, 4.0)
    assert (rep["bottom_angle"], rep["top_angle"], rep["range_of_motion"], rep["form_score"]) == (90, 170, 80, 1.0)
    signal[3] = np.nan  # a missing bottom frame: the rep is still there, its bottom the lowest seen
    (rep,) = count_reps(signal, np.arange(7.0), low=120, high=155, target=90)
    assert rep["bottom_angle"] == 100 and rep["form_score"] == pytest.approx(1 - 10 / 90)


def test_jitter_half_moves_and_glitches_are_not_reps():
    t = np.arange(300) / 30
    assert count_reps(150 + 8 * np.sin(2 * np.pi * t), t, 120, 155, 90) == []  # wobbles around the top threshold
    assert count_reps(145 - 20 * np.sin(2 * np.pi * t), t, 120, 155, 90) == []  # 125-165: never down
    glitch = np.full(300, 170.0)
    glitch[100] = 60.0  # a one-frame keypoint error
    assert count_reps(glitch, t, 120, 155, 90) == []


def _squats(depths: list[float], fps: float = 30.0, seed: int = 0):
    """Standing 170 deg, then per squat 1 s down to the depth, 1 s up, 0.5 s standing; the arms swing throughout;
    keypoints jitter by 0.5 % of the body height. Returns the track and each squat's bottom time."""
    knee = [np.full(15, 170.0)]
    bottoms = []
    t0 = 0.5
    for d in depths:
        knee += [170 + (d - 170) * (1 - np.cos(2 * np.pi * np.arange(60) / 60)) / 2, np.full(15, 170.0)]
        bottoms.append(t0 + 1.0)
        t0 += 2.5
    knee = np.concatenate(knee)
    n = knee.size
    swing = 60 * np.sin(2 * np.pi * 1.3 * np.arange(n) / fps)  # arms swinging at 1.3 Hz, through the elbow angles
    hip = np.stack([np.full(n, 300.0), 200 + 100 * (170 - knee) / 80], axis=1)
    kps = figure(hip, 15.0, (180 - knee) / 2, -(180 - knee) / 2, swing, swing + 50)
    kps += np.random.default_rng(seed).normal(0, 1.5, kps.shape)
    return track_of(kps), bottoms


def test_seven_squats_with_noise_and_swinging_arms():
    depths = [90, 85, 100, 95, 110, 88, 92]
    track, bottoms = _squats(depths)
    plan = make_plan("squat", COCO17)
    reps = track_reps(track, plan, fps=30.0, min_score=0.4)
    assert len(reps) == 7
    for rep, depth, bottom in zip(reps, depths, bottoms, strict=True):
        assert rep["bottom_angle"] == pytest.approx(depth, abs=3.0)
        assert rep["bottom_s"] == pytest.approx(bottom, abs=0.15)
        assert rep["form_score"] == pytest.approx(1 - abs(depth - 90) / 90, abs=0.04)
        assert rep["range_of_motion"] == pytest.approx(170 - depth, abs=6.0)
        assert rep["down_s"] > 0.5 and rep["up_s"] > 0.5 and rep["track_id"] == 1
    # the swinging arms alone are no curls: the elbow never closes below 70 degrees
    assert track_reps(track, make_plan("curl", COCO17), fps=30.0, min_score=0.4) == []


def test_rep_plans():
    with pytest.raises(AkitError, match="custom needs"):
        make_plan("custom", COCO17)
    with pytest.raises(AkitError, match="unknown exercise"):
        make_plan("yoga", COCO17)
    with pytest.raises(AkitError, match="below --high"):
        make_plan("squat", COCO17, low=160)
    plan = make_plan("custom", COCO17, ["arm=left_hip,left_shoulder,left_wrist"], low=40, high=120)
    assert plan.target == 40 and [s.name for s in plan.specs] == ["arm"]
