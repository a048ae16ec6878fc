"""Fall detection and movement comparison on stick figures whose motion is known by construction."""

from __future__ import annotations

import numpy as np
import pytest

from alphapose_kit.analysis.compare import compare_tracks
from alphapose_kit.analysis.falls import detect_falls
from alphapose_kit.data.keypoints import COCO17
from alphapose_kit.errors import AkitError
from tests.analysis.synthetic import SHIN, THIGH, blend, concat, figure, hold, posture, standing, track_of

FPS = 30.0
H = 300.0
GROUND = 500.0


def _track(params: dict, seed: int = 0, jitter: float = 1.0):
    kps = figure(params["hip"], params["trunk"], params["thigh"], params["shin"], params["upper"], params["fore"], H)
    return track_of(kps + np.random.default_rng(seed).normal(0, jitter, kps.shape))


def _scene(target: dict, move_s: float, after_s: float = 3.0) -> dict:
    """1.5 s standing, ``move_s`` seconds into ``target``'s posture, held ``after_s`` seconds."""
    start = standing(45, ground=GROUND, height=H)
    moving = blend(start, target, round(move_s * FPS))
    return concat(start, moving, hold(moving, round(after_s * FPS)))


LYING = posture(1, [300.0, GROUND - 0.05 * H], trunk=90.0, thigh=-90.0, shin=-90.0, upper=60.0, fore=80.0)
SITTING = posture(1, [300.0, GROUND - SHIN * H], trunk=10.0, thigh=90.0, shin=0.0, upper=20.0, fore=60.0)
CROUCHING = posture(1, [300.0, GROUND - 0.2 * H], trunk=40.0, thigh=80.0, shin=-40.0, upper=30.0, fore=30.0)
BENT_OVER = posture(1, [300.0, GROUND - (THIGH + SHIN) * H], trunk=90.0, upper=0.0, fore=0.0)


def test_a_fall_is_found_within_the_fall():
    """Upright until 1.5 s, on the ground at 2.0 s, then still: one event, reported while the body reaches the ground
    (first frame lying), its onset the last upright frame, both inside [1.5, 2.0] s."""
    events = detect_falls(_track(_scene(LYING, 0.5)), COCO17, FPS)
    assert len(events) == 1
    (event,) = events
    assert 1.5 <= event["onset_s"] < event["time_s"] <= 2.0 + 1 / FPS
    assert event["frame"] == round(event["time_s"] * FPS) and event["track_id"] == 1
    ev = event["evidence"]
    assert ev["trunk_angle_before"] <= 35 and ev["trunk_angle_after"] >= 60 and ev["aspect_after"] >= 1.0
    assert ev["hip_drop_body_heights"] > 0.2 and ev["peak_hip_velocity_body_heights_per_s"] > 0.6


@pytest.mark.parametrize(
    ("name", "target", "move_s"),
    [
        ("sitting down", SITTING, 0.5),
        ("crouching", CROUCHING, 0.5),
        ("bending over", BENT_OVER, 1.0),
        ("lying down slowly", LYING, 4.0),
    ],
)
def test_not_falls(name, target, move_s):
    assert detect_falls(_track(_scene(target, move_s)), COCO17, FPS) == [], name


def test_falls_survive_missing_joints_and_short_tracks():
    track = _track(_scene(LYING, 0.5))
    track.scores[50:70, 11:13] = 0.0  # the hips unseen during the fall
    detect_falls(track, COCO17, FPS)  # no crash; the evidence may not suffice
    short = _track(_scene(LYING, 0.5, after_s=0.3))  # the video ends before "lying still" can be confirmed
    assert detect_falls(short, COCO17, FPS) == []
    assert detect_falls(track_of(np.zeros((1, 17, 2))), COCO17, FPS) == []


def _squat_params(knee: np.ndarray, x: float, ground: float) -> dict:
    n = knee.size
    hip = np.stack([np.full(n, x), ground - 150 + 100 * (170 - knee) / 80], axis=1)
    return {"hip": hip, "trunk": np.full(n, 15.0), "thigh": (180 - knee) / 2, "shin": -(180 - knee) / 2,
            "upper": np.full(n, 30.0), "fore": np.full(n, 60.0)}  # fmt: skip


def _knee_curve(t: np.ndarray) -> np.ndarray:
    return 170 - 40 * (1 - np.cos(2 * np.pi * t / 2.0))  # three 2-second squats down to 90 degrees


def test_time_warped_copy_is_the_same_movement_and_another_is_not():
    rng = np.random.default_rng(0)
    t = np.arange(180) / FPS
    a = _squat_params(_knee_curve(t), 300.0, 500.0)
    a_kps = figure(a["hip"], a["trunk"], a["thigh"], a["shin"], a["upper"], a["fore"], 300.0)
    # the same squats 1.6x slower with an uneven tempo, elsewhere in the image, smaller, with jitter
    warped_t = np.linspace(0, 6.0, 288)
    warped_t = warped_t + 0.25 * np.sin(np.pi * warped_t / 3.0)
    b = _squat_params(_knee_curve(warped_t), 900.0, 650.0)
    b_kps = figure(b["hip"], b["trunk"], b["thigh"], b["shin"], b["upper"], b["fore"], 180.0)
    b_kps += rng.normal(0, 0.8, b_kps.shape)
    same = compare_tracks(track_of(a_kps), track_of(b_kps, track_id=2), COCO17)
    assert same["similarity"] > 0.9 and same["rms_deviation_torso"] < 0.15
    assert same["path"][0] == [0, 0] and same["path"][-1] == [179, 287]
    assert all(x0 <= x1 and y0 <= y1 for (x0, y0), (x1, y1) in zip(same["path"], same["path"][1:], strict=False))

    # another movement: standing still and raising both arms overhead three times
    raise_arm = 85 * (1 - np.cos(2 * np.pi * t / 2.0))
    c = standing(180, height=300.0)
    c_kps = figure(c["hip"], 0.0, 0.0, 0.0, -raise_arm, -raise_arm, 300.0)
    other = compare_tracks(track_of(a_kps), track_of(c_kps, track_id=3), COCO17)
    assert other["similarity"] < 0.5
    assert max(other["per_joint_deviation"], key=other["per_joint_deviation"].get) in ("left_wrist", "right_wrist")


def test_mirror_option_matches_the_other_side():
    """One arm raised (the figure's left) against a mirror image of the same clip (the right arm raised)."""
    t = np.arange(90) / FPS
    lift = 80 * (1 - np.cos(2 * np.pi * t / 3.0))
    p = standing(90, height=300.0)
    kps = figure(p["hip"], 0.0, 0.0, 0.0, -lift, -lift, 300.0)
    hanging = figure(p["hip"], 0.0, 0.0, 0.0, 0.0, 0.0, 300.0)
    kps[:, [8, 10]] = hanging[:, [8, 10]]  # the right elbow and wrist stay down
    mirror_image = kps[:, COCO17.flip_permutation()].copy()
    mirror_image[..., 0] = 1000 - mirror_image[..., 0]
    a, b = track_of(kps), track_of(mirror_image, track_id=2)
    plain = compare_tracks(a, b, COCO17)
    flipped = compare_tracks(a, b, COCO17, mirror=True)
    assert not plain["mirrored"] and plain["similarity"] < 0.8
    assert flipped["mirrored"] and flipped["similarity"] == pytest.approx(1.0)


def test_compare_needs_shared_joints():
    kps = figure(np.tile([300.0, 300.0], (10, 1)), 0.0, 0.0, 0.0, 0.0, 0.0)
    scores = np.full((10, 17), 0.9)
    scores[:, 11:13] = 0.0  # hips never seen
    with pytest.raises(AkitError, match="hips and shoulders"):
        compare_tracks(track_of(kps, scores=scores), track_of(kps), COCO17)
