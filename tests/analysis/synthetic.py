"""Stick figures with known joint angles, as COCO-17 tracks, for the analysis tests.

Segment directions are angles in degrees: the trunk from the upward vertical, thigh, shin, upper arm and forearm
from the downward vertical (positive towards +x). The knee angle is then 180 - |thigh - shin| and the elbow angle
180 - |upper - forearm|. Left and right joints sit 0.05 body heights apart in x (the same angles on both sides).
"""

from __future__ import annotations

import numpy as np

from alphapose_kit.analysis.series import Track

TORSO, THIGH, SHIN, UPPER, FORE, HEAD = 0.3, 0.245, 0.245, 0.17, 0.15, 0.12


def _dir_up(deg: np.ndarray) -> np.ndarray:
    r = np.radians(deg)
    return np.stack([np.sin(r), -np.cos(r)], axis=-1)


def _dir_down(deg: np.ndarray) -> np.ndarray:
    r = np.radians(deg)
    return np.stack([np.sin(r), np.cos(r)], axis=-1)


def figure(hip, trunk, thigh, shin, upper, fore, height=300.0) -> np.ndarray:
    """(T, 17, 2) COCO-17 keypoints; ``hip`` is (T, 2) mid-hip, the angles are (T,) arrays or scalars."""
    hip = np.asarray(hip, np.float64)
    t = hip.shape[0]
    b = [np.broadcast_to(np.asarray(v, np.float64), (t,)) for v in (trunk, thigh, shin, upper, fore)]
    trunk, thigh, shin, upper, fore = b
    shoulder = hip + TORSO * height * _dir_up(trunk)
    head = shoulder + HEAD * height * _dir_up(trunk)
    knee = hip + THIGH * height * _dir_down(thigh)
    ankle = knee + SHIN * height * _dir_down(shin)
    elbow = shoulder + UPPER * height * _dir_down(upper)
    wrist = elbow + FORE * height * _dir_down(fore)
    side = np.array([0.025 * height, 0.0])
    kps = np.zeros((t, 17, 2))
    kps[:, 0] = head
    kps[:, 1], kps[:, 2] = head + side, head - side
    kps[:, 3], kps[:, 4] = head + 2 * side, head - 2 * side
    for left, right, point in ((5, 6, shoulder), (7, 8, elbow), (9, 10, wrist), (11, 12, hip), (13, 14, knee),
                               (15, 16, ankle)):  # fmt: skip
        kps[:, left], kps[:, right] = point + side, point - side
    return kps


def track_of(kps: np.ndarray, track_id: int = 1, scores: np.ndarray | None = None, first_frame: int = 0) -> Track:
    """A Track with boxes around the keypoints (5 % padding) and all joints scored 0.9 unless given."""
    lo, hi = kps.min(axis=1), kps.max(axis=1)
    pad = 0.05 * np.maximum(hi - lo, 1.0)
    boxes = np.concatenate([lo - pad, hi + pad], axis=1)
    scores = np.full(kps.shape[:2], 0.9) if scores is None else scores
    return Track(track_id, np.arange(first_frame, first_frame + kps.shape[0]), kps, scores, boxes)


def standing(frames: int, x: float = 300.0, ground: float = 500.0, height: float = 300.0) -> dict:
    """Parameters of someone standing straight, arms hanging."""
    hip = np.tile([x, ground - (THIGH + SHIN) * height], (frames, 1))
    zero = np.zeros(frames)
    return {"hip": hip, "trunk": zero, "thigh": zero, "shin": zero, "upper": zero, "fore": zero}


def blend(a: dict, b: dict, frames: int) -> dict:
    """Linear blend from posture ``a``'s last frame to ``b``'s first over ``frames`` frames (end included)."""
    w = np.linspace(0, 1, frames + 1)[1:]
    return {k: a[k][-1] * (1 - w[:, None] if a[k].ndim == 2 else 1 - w) + b[k][0] * (w[:, None] if b[k].ndim == 2
            else w) for k in a}  # fmt: skip


def concat(*parts: dict) -> dict:
    """Postures one after another."""
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def hold(p: dict, frames: int) -> dict:
    """Posture ``p``'s last frame held for ``frames`` frames."""
    return {k: np.repeat(v[-1:], frames, axis=0) for k, v in p.items()}


def posture(frames: int, hip, **angles: float) -> dict:
    """A held posture with mid-hip ``hip`` and the given segment angles (others 0)."""
    base = {"trunk": 0.0, "thigh": 0.0, "shin": 0.0, "upper": 0.0, "fore": 0.0} | angles
    return {"hip": np.tile(np.asarray(hip, float), (frames, 1)), **{k: np.full(frames, v) for k, v in base.items()}}
