"""Biomechanical 2D angles of a cleaned track: segment angles from the horizontal and joint angles with anatomical
conventions, unwrapped over time so a turning runner never jumps by 360 degrees; angular velocity and joint speed.

Conventions (as Sports2D / Pose2Sim state theirs: Pagnon et al., JOSS 2024; Pose2Sim common.py ``angle_dict``):

* Angles are in degrees, measured anticlockwise *as seen on the screen* (the image's y axis points down, so the
  screen angle of a vector (dx, dy) is atan2(-dy, dx)).
* Segment angles, from the horizontal (0 = pointing right on screen, 90 = pointing up), of the vector
  foot heel->big toe, shank ankle->knee, thigh knee->hip, pelvis right hip->left hip, trunk mid-hip->mid-shoulder,
  arm elbow->shoulder, forearm wrist->elbow (each from the distal joint towards the proximal one), so someone
  standing upright with arms hanging reads 90 for shank, thigh, trunk, arm and forearm.
* Joint angles, flexion positive, 0 in the anatomical position (standing, arms by the side, foot at right angles to
  the shank), for a person facing ``facing`` (+1: towards +x on screen, -1: towards -x; the sign flips so flexion
  stays positive whichever way they face)::

        hip flexion       trunk (pointing down)  ->  thigh (hip->knee)        rotated towards the facing side
        knee flexion      thigh (hip->knee)      ->  shank (knee->ankle)      rotated backwards
        ankle dorsiflex.  shank (knee->ankle)    ->  foot (heel->toe), minus 90
        shoulder flexion  trunk (pointing down)  ->  arm (shoulder->elbow)    rotated towards the facing side
        elbow flexion     arm (shoulder->elbow)  ->  forearm (elbow->wrist)   rotated towards the facing side

        facing +x:      o          hip flexion: thigh swung forward (+x) from straight down
                        |          knee flexion: shank swung back (-x) from the thigh's line
                        |\\         elbow flexion: forearm swung forward/up from the arm's line
                        | \\  thigh
                        | /  shank
                       _|/_  foot -> toes point +x
"""

from __future__ import annotations

import numpy as np

from alphapose_kit.analysis.series import Track
from alphapose_kit.data.keypoints import KeypointSet
from alphapose_kit.errors import AkitError

# Winter, Biomechanics and Motor Control of Human Movement (4th ed., Fig. 4.1, after Drillis & Contini): heights as
# fractions of stature of the ankle (0.039), knee (0.285), hip (0.530) and shoulder (0.818) joints.
ANKLE_TO_SHOULDER = 0.818 - 0.039

SEGMENTS = {
    "foot": ("{s}_heel", "{s}_big_toe"),
    "shank": ("{s}_ankle", "{s}_knee"),
    "thigh": ("{s}_knee", "{s}_hip"),
    "arm": ("{s}_elbow", "{s}_shoulder"),
    "forearm": ("{s}_wrist", "{s}_elbow"),
}
MID_SEGMENTS = {
    "pelvis": (("right_hip",), ("left_hip",)),
    "trunk": (("left_hip", "right_hip"), ("left_shoulder", "right_shoulder")),
}
# joint -> (first vector (from, to), second vector (from, to), sign, offset): angle = sign*facing*s(v1, v2) + offset
JOINTS = {
    "hip": ((("{s}_shoulder",), ("{s}_hip",)), (("{s}_hip",), ("{s}_knee",)), 1, 0.0),
    "knee": ((("{s}_hip",), ("{s}_knee",)), (("{s}_knee",), ("{s}_ankle",)), -1, 0.0),
    "ankle": ((("{s}_knee",), ("{s}_ankle",)), (("{s}_heel",), ("{s}_big_toe",)), 1, -90.0),
    "shoulder": ((("{s}_shoulder",), ("{s}_hip",)), (("{s}_shoulder",), ("{s}_elbow",)), 1, 0.0),
    "elbow": ((("{s}_shoulder",), ("{s}_elbow",)), (("{s}_elbow",), ("{s}_wrist",)), 1, 0.0),
}


def screen_angle(vec: np.ndarray) -> np.ndarray:
    """Anticlockwise screen angle in degrees (-180, 180] of (..., 2) image vectors; NaN for a zero vector."""
    vec = np.asarray(vec, np.float64)
    out = np.degrees(np.arctan2(-vec[..., 1], vec[..., 0]))
    return np.where(np.hypot(vec[..., 0], vec[..., 1]) > 0, out, np.nan)


def wrap(deg: np.ndarray) -> np.ndarray:
    """Angles in degrees wrapped into (-180, 180]."""
    out = np.mod(np.asarray(deg, np.float64) + 180.0, 360.0) - 180.0
    return np.where(out == -180.0, 180.0, out)


def unwrap(deg: np.ndarray) -> np.ndarray:
    """Unwrap a (T,) angle series in degrees over its finite samples (gaps included), so consecutive known values
    never differ by more than 180: a full turn reads 0 -> 360, not 0 -> 180 -> -180 -> 0."""
    deg = np.asarray(deg, np.float64).copy()
    ok = np.isfinite(deg)
    deg[ok] = np.unwrap(deg[ok], period=360.0)
    return deg


def _joint(keypoint_set: KeypointSet, name: str) -> int | None:
    return keypoint_set.names.index(name) if name in keypoint_set.names else None


def _point(kps: np.ndarray, keypoint_set: KeypointSet, names: tuple[str, ...]) -> np.ndarray | None:
    ids = [_joint(keypoint_set, n) for n in names]
    if any(i is None for i in ids):
        return None
    return kps[:, [int(i) for i in ids if i is not None]].mean(axis=1)


def segment_angles(track: Track, keypoint_set: KeypointSet) -> dict[str, np.ndarray]:
    """Unwrapped (T,) segment angles from the horizontal (see the module docstring), named ``left_thigh``,
    ``pelvis``, ...; segments whose joints the set lacks (feet in COCO-17) are left out. NaN where a joint is."""
    kps = track.keypoints
    out = {}
    for name, (a, b) in MID_SEGMENTS.items():
        pa, pb = _point(kps, keypoint_set, a), _point(kps, keypoint_set, b)
        if pa is not None and pb is not None:
            out[name] = unwrap(screen_angle(pb - pa))
    for side in ("left", "right"):
        for name, (start, end) in SEGMENTS.items():
            pa = _point(kps, keypoint_set, (start.format(s=side),))
            pb = _point(kps, keypoint_set, (end.format(s=side),))
            if pa is not None and pb is not None:
                out[f"{side}_{name}"] = unwrap(screen_angle(pb - pa))
    return out


def facing_direction(track: Track, keypoint_set: KeypointSet, window: int = 15) -> np.ndarray:
    """(T,) +1 where the person faces +x on screen, -1 towards -x: the side of the heels the toes are on when the set
    has feet, else the side of the ears the nose is on, averaged over ``window`` frames so one bad frame cannot flip
    the angles' signs; frames where it cannot be told take the last known value (+1 before any)."""
    kps = track.keypoints
    sides = []
    for toe, heel in (("left_big_toe", "left_heel"), ("right_big_toe", "right_heel")):
        pt, ph = _point(kps, keypoint_set, (toe,)), _point(kps, keypoint_set, (heel,))
        if pt is not None and ph is not None:
            sides.append(pt[:, 0] - ph[:, 0])
    if not sides:
        nose, ears = _point(kps, keypoint_set, ("nose",)), _point(kps, keypoint_set, ("left_ear", "right_ear"))
        if nose is None or ears is None:
            raise AkitError(f"keypoint set {keypoint_set.name} has neither feet nor nose and ears; pass facing")
        sides.append(nose[:, 0] - ears[:, 0])
    values = np.stack(sides)
    known = np.isfinite(values)
    kernel = np.ones(max(1, min(window, values.shape[1])))
    total = sum(np.convolve(np.where(k, v, 0.0), kernel, mode="same") for v, k in zip(values, known, strict=True))
    sign = np.sign(total)
    out = np.ones(sign.shape)
    last = 1.0
    for t, value in enumerate(sign):
        last = float(value) if value != 0 else last
        out[t] = last
    return out


def joint_angles(
    track: Track, keypoint_set: KeypointSet, facing: float | np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Unwrapped (T,) joint angles (``left_knee``, ``right_hip``, ...; flexion positive, anatomical zero: see the
    module docstring) for a person facing ``facing`` (+1 / -1, per frame or fixed; default from
    :func:`facing_direction`). Joints the set lacks (ankles need feet) are left out; NaN where a joint is missing."""
    kps = track.keypoints
    face = facing_direction(track, keypoint_set) if facing is None else np.broadcast_to(facing, (len(track),))
    out = {}
    for side in ("left", "right"):
        for name, ((a1, b1), (a2, b2), sign, offset) in JOINTS.items():
            pts = [_point(kps, keypoint_set, tuple(n.format(s=side) for n in p)) for p in (a1, b1, a2, b2)]
            if any(p is None for p in pts):
                continue
            p1, q1, p2, q2 = (p for p in pts if p is not None)
            rel = wrap(screen_angle(q2 - p2) - screen_angle(q1 - p1))
            out[f"{side}_{name}"] = unwrap(wrap(sign * face * rel + offset))
    return out


def angular_velocity(angle: np.ndarray, fps: float) -> np.ndarray:
    """(T,) time derivative in degrees per second of an unwrapped angle series (central differences, one-sided at
    the ends); NaN next to a missing sample."""
    angle = np.asarray(angle, np.float64)
    return np.gradient(angle) * fps if angle.size > 1 else np.full(angle.shape, np.nan)


def joint_speed(keypoints: np.ndarray, fps: float, metres_per_pixel: float = 1.0) -> np.ndarray:
    """(T, K) speed of each joint of (T, K, 2) ``keypoints`` (central differences), in pixels per second, or metres
    per second with ``metres_per_pixel`` from :func:`metres_per_pixel`."""
    kps = np.asarray(keypoints, np.float64)
    if kps.shape[0] < 2:
        return np.full(kps.shape[:2], np.nan)
    return np.linalg.norm(np.gradient(kps, axis=0), axis=-1) * fps * metres_per_pixel


def metres_per_pixel(track: Track, keypoint_set: KeypointSet, person_height: float = 1.75) -> float:
    """The image scale of a person ``person_height`` metres tall: the median over frames of the ankle-knee-hip-
    shoulder chain (shank + thigh per side, averaged, + mid-hip to mid-shoulder) is ``ANKLE_TO_SHOULDER`` of the
    stature (Winter's proportions). Segment lengths do not change with flexion, so any pose will do."""
    if not person_height > 0:
        raise AkitError(f"--person-height must be positive (metres), got {person_height}")
    kps = track.keypoints
    legs = []
    for side in ("left", "right"):
        ankle, knee, hip = (_point(kps, keypoint_set, (f"{side}_{j}",)) for j in ("ankle", "knee", "hip"))
        if ankle is None or knee is None or hip is None:
            raise AkitError(f"keypoint set {keypoint_set.name} lacks ankles, knees or hips; give the scale another way")
        legs.append(np.linalg.norm(knee - ankle, axis=1) + np.linalg.norm(hip - knee, axis=1))
    mid_hip = _point(kps, keypoint_set, ("left_hip", "right_hip"))
    mid_shoulder = _point(kps, keypoint_set, ("left_shoulder", "right_shoulder"))
    if mid_hip is None or mid_shoulder is None:
        raise AkitError(f"keypoint set {keypoint_set.name} lacks shoulders; give the scale another way")
    chain = np.mean(legs, axis=0) + np.linalg.norm(mid_shoulder - mid_hip, axis=1)
    chain = chain[np.isfinite(chain) & (chain > 0)]
    if not chain.size:
        raise AkitError(f"track {track.track_id} never shows ankles, knees, hips and shoulders together: no scale")
    return person_height * ANKLE_TO_SHOULDER / float(np.median(chain))
