"""Segment and joint angles (hand-derived from the stick figure's construction), unwrapping through full turns,
angular velocity, joint speed, the pixel scale and person selection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from alphapose_kit.analysis.people import select_person
from alphapose_kit.analysis.segments import (
    angular_velocity,
    facing_direction,
    joint_angles,
    joint_speed,
    metres_per_pixel,
    segment_angles,
    unwrap,
)
from alphapose_kit.analysis.series import Recording, Track
from alphapose_kit.data.keypoints import COCO17, HALPE26
from alphapose_kit.errors import AkitError
from tests.analysis.synthetic import SHIN, THIGH, TORSO, figure, track_of

T = 60
PHASE = np.linspace(0, 2 * np.pi, T)
ANGLES = {  # the figure's segment directions (degrees, from the vertical, positive towards +x)
    "trunk": 10 + 5 * np.sin(PHASE),
    "thigh": 30 * np.sin(PHASE),
    "shin": 30 * np.sin(PHASE) - 40 * (1 - np.cos(PHASE)) / 2,
    "upper": 20 * np.sin(PHASE),
    "fore": 20 * np.sin(PHASE) + 60,
}


def moving_figure() -> np.ndarray:
    hip = np.stack([np.linspace(300, 390, T), np.full(T, 250.0)], axis=1)
    return figure(hip, **ANGLES)


def test_joint_angles_follow_the_stated_conventions():
    track = track_of(moving_figure())
    out = joint_angles(track, COCO17, facing=1)
    a = ANGLES
    # hip: trunk-down to thigh; knee: thigh to shank, backwards; shoulder: trunk-down to arm; elbow: arm to forearm
    np.testing.assert_allclose(out["left_hip"], a["thigh"] + a["trunk"], atol=1e-9)
    np.testing.assert_allclose(out["right_knee"], a["thigh"] - a["shin"], atol=1e-9)
    np.testing.assert_allclose(out["left_shoulder"], a["upper"] + a["trunk"], atol=1e-9)
    np.testing.assert_allclose(out["right_elbow"], a["fore"] - a["upper"], atol=1e-9)
    assert "left_ankle" not in out  # COCO-17 has no feet


def test_mirrored_person_facing_left_reads_the_same_angles():
    kps = moving_figure()
    mirrored = kps.copy()
    mirrored[..., 0] = 1000 - mirrored[..., 0]
    right = joint_angles(track_of(kps), COCO17, facing=1)
    left = joint_angles(track_of(mirrored), COCO17, facing=-1)
    for name, values in right.items():
        np.testing.assert_allclose(left[name], values, atol=1e-9)


def test_standing_upright_is_anatomical_zero_and_segments_read_ninety():
    kps = figure(np.tile([300.0, 250.0], (5, 1)), 0.0, 0.0, 0.0, 0.0, 0.0)
    track = track_of(kps)
    for values in joint_angles(track, COCO17, facing=1).values():
        np.testing.assert_allclose(values, 0.0, atol=1e-9)
    segs = segment_angles(track, COCO17)
    for name in ("trunk", "left_shank", "right_thigh", "left_arm", "right_forearm"):
        np.testing.assert_allclose(segs[name], 90.0, atol=1e-9)
    np.testing.assert_allclose(segs["pelvis"], 0.0, atol=1e-9)  # right hip -> left hip points +x (left sits at +x)


def test_ankle_dorsiflexion_from_the_feet_of_halpe26():
    kps = np.zeros((3, 26, 2))
    names = HALPE26.names
    for side in ("left", "right"):
        kps[:, names.index(f"{side}_knee")] = [100, 100]
        kps[:, names.index(f"{side}_ankle")] = [100, 150]
        kps[:, names.index(f"{side}_heel")] = [95, 155]
        kps[:, names.index(f"{side}_hip")] = [100, 50]
        kps[:, names.index(f"{side}_shoulder")] = [100, 0]
    toe = names.index("left_big_toe")
    kps[:, toe] = [[120, 155], [95 + 20 * np.cos(np.radians(15)), 155 - 20 * np.sin(np.radians(15))], [95, 135]]
    kps[:, names.index("right_big_toe")] = [120, 155]
    track = Track(1, np.arange(3), kps, np.ones((3, 26)), np.zeros((3, 4)))
    out = joint_angles(track, HALPE26)  # facing from the toes: +x
    np.testing.assert_allclose(out["left_ankle"], [0, 15, 90], atol=1e-9)  # foot flat, toes 15 deg up, toes up
    np.testing.assert_allclose(segment_angles(track, HALPE26)["left_foot"], [0, 15, 90], atol=1e-9)
    np.testing.assert_array_equal(facing_direction(track, HALPE26), [1, 1, 1])


def test_facing_from_nose_and_ears_survives_a_bad_frame():
    kps = figure(np.tile([300.0, 250.0], (40, 1)), 0.0, 0.0, 0.0, 0.0, 0.0)
    kps[:, 0, 0] += np.where(np.arange(40) < 20, 8.0, -8.0)  # nose ahead of the ears: right, then left
    kps[10, 0, 0] -= 30.0  # one frame where the nose lands behind the ears
    kps[30:33, 0] = np.nan  # unknown: the last value holds
    facing = facing_direction(track_of(kps), COCO17)
    np.testing.assert_array_equal(facing[:18], 1)
    np.testing.assert_array_equal(facing[23:], -1)


def test_a_runner_turning_through_720_degrees_gives_a_continuous_angle():
    turn = np.linspace(0, 720, 181)  # two full turns, 4 degrees a frame
    r = np.radians(turn)
    kps = np.zeros((turn.size, 17, 2))
    centre = np.array([300.0, 200.0])
    kps[:, 11] = centre + 20 * np.stack([np.cos(r), -np.sin(r)], axis=1)  # left hip, anticlockwise on screen
    kps[:, 12] = centre - 20 * np.stack([np.cos(r), -np.sin(r)], axis=1)
    kps[:, [5, 6]] = kps[:, [11, 12]] - [0, 100]
    kps[50:53] = np.nan  # a gap while turning
    track = Track(1, np.arange(turn.size), kps, np.ones(kps.shape[:2]), np.zeros((turn.size, 4)))
    segs = segment_angles(track, COCO17)
    ok = np.isfinite(segs["pelvis"])
    np.testing.assert_allclose(segs["pelvis"][ok], turn[ok], atol=1e-9)  # right hip -> left hip is the turn itself
    assert np.abs(np.diff(segs["pelvis"][ok])).max() < 20
    np.testing.assert_allclose(unwrap(np.array([170.0, -170.0, np.nan, -150.0])), [170, 190, np.nan, 210])


def test_angular_velocity_and_joint_speed_in_metres():
    fps = 30.0
    t = np.arange(90) / fps
    np.testing.assert_allclose(angular_velocity(45 * t + 10, fps), 45.0)
    kps = figure(np.stack([300 + 90 * t, np.full(t.size, 250.0)], axis=1), 0.0, 0.0, 0.0, 0.0, 0.0, height=300.0)
    track = track_of(kps)
    scale = metres_per_pixel(track, COCO17, person_height=1.75)
    chain = (THIGH + SHIN + TORSO) * 300.0  # the figure's ankle-knee-hip-shoulder length in pixels
    assert scale == pytest.approx(1.75 * (0.818 - 0.039) / chain)
    np.testing.assert_allclose(joint_speed(kps, fps, scale), 90 * scale)  # everything moves at 90 px/s
    with pytest.raises(AkitError, match="person-height"):
        metres_per_pixel(track, COCO17, person_height=0)


def test_person_selection_largest_longest_and_id():
    small = track_of(figure(np.tile([100.0, 200.0], (50, 1)), 0, 0, 0, 0, 0, height=100.0), track_id=3)
    big = track_of(figure(np.tile([400.0, 300.0], (20, 1)), 0, 0, 0, 0, 0, height=300.0), track_id=7)
    rec = Recording({3: small, 7: big}, COCO17, 30.0, Path("r.json"))
    assert select_person(rec, "longest").track_id == 3
    assert select_person(rec, "largest").track_id == 7
    assert select_person(rec, 7).track_id == 7 and select_person(rec, "3").track_id == 3
    with pytest.raises(AkitError, match="no person 5"):
        select_person(rec, 5)
    with pytest.raises(AkitError, match="largest, longest"):
        select_person(rec, "tallest")


def test_kinematics_in_one_call_and_its_csv():
    from alphapose_kit.analysis.kinematics import kinematics, kinematics_csv

    t = np.arange(T) / 30.0
    hip = np.stack([300 + 60 * t, np.full(T, 250.0)], axis=1)
    result = kinematics(track_of(figure(hip, **ANGLES)), COCO17, 30.0, person_height=1.75, facing=1)
    np.testing.assert_allclose(result.joints["left_knee"][5:-5], (ANGLES["thigh"] - ANGLES["shin"])[5:-5], atol=0.5)
    scale = 1.75 * (0.818 - 0.039) / ((THIGH + SHIN + TORSO) * 300.0)
    assert result.metres_per_pixel == pytest.approx(scale, rel=1e-3)
    np.testing.assert_allclose(np.median(result.speeds[:, 11]), 60 * scale, rtol=0.05)  # the hip moves at 60 px/s
    csv = kinematics_csv(result, COCO17, 30.0).splitlines()
    header = csv[0].split(",")
    assert header[:3] == ["track_id", "frame", "time_s"] and "left_knee_deg" in header and "nose_speed_m_s" in header
    assert len(csv) == T + 1 and len(csv[1].split(",")) == len(header)
