"""Joint angles over time, named by the keypoint set's joints.

An angle is ``name=a,b,c`` (the angle at b between b->a and b->c, 0-180 degrees) or ``name=a,b`` (the angle of the
segment a->b from the upward vertical: 0 upright, 90 horizontal). A point may be the midpoint of joints joined by
``+`` (``left_hip+right_hip``). A frame where any joint used scores below the threshold (or a segment has no
length) gets NaN, never a made-up value.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from alphapose_kit.analysis.series import Track
from alphapose_kit.data.keypoints import KeypointSet
from alphapose_kit.errors import AkitError

log = logging.getLogger("akit.analysis")

MIN_SCORE = 0.4  # a joint scored below this is not used (AlphaPose draws joints above 0.4)

DEFAULT_ANGLES = (
    "left_knee=left_hip,left_knee,left_ankle",
    "right_knee=right_hip,right_knee,right_ankle",
    "left_hip=left_shoulder,left_hip,left_knee",
    "right_hip=right_shoulder,right_hip,right_knee",
    "left_elbow=left_shoulder,left_elbow,left_wrist",
    "right_elbow=right_shoulder,right_elbow,right_wrist",
    "left_shoulder=left_elbow,left_shoulder,left_hip",
    "right_shoulder=right_elbow,right_shoulder,right_hip",
    "trunk_lean=left_hip+right_hip,left_shoulder+right_shoulder",
)


@dataclass(frozen=True)
class AngleSpec:
    """A named angle: 3 points (angle at the middle one) or 2 (segment from the vertical); each point is the
    midpoint of one or more joint indices."""

    name: str
    points: tuple[tuple[int, ...], ...]

    @classmethod
    def parse(cls, text: str, keypoint_set: KeypointSet) -> AngleSpec:
        """``name=a,b,c`` or ``name=a,b`` with joint names of ``keypoint_set`` (``a+b`` for a midpoint)."""
        name, sep, body = text.partition("=")
        parts = [p.strip() for p in body.split(",")] if sep else []
        if not name.strip() or len(parts) not in (2, 3):
            raise AkitError(f"bad angle {text!r}: write name=joint,joint,joint (or name=joint,joint for a segment)")
        points = []
        for part in parts:
            joints = []
            for joint in part.split("+"):
                joint = joint.strip()
                if joint not in keypoint_set.names:
                    raise AkitError(
                        f"angle {name.strip()!r}: no joint {joint!r} in {keypoint_set.name} "
                        f"(joints: {', '.join(keypoint_set.names)})"
                    )
                joints.append(keypoint_set.names.index(joint))
            points.append(tuple(joints))
        return cls(name.strip(), tuple(points))


def default_specs(keypoint_set: KeypointSet) -> list[AngleSpec]:
    """The default angles whose joints the set has (knees, hips, elbows, shoulders, trunk lean)."""
    specs = []
    for text in DEFAULT_ANGLES:
        try:
            specs.append(AngleSpec.parse(text, keypoint_set))
        except AkitError:
            log.info("keypoint set %s lacks the joints of %s; skipped", keypoint_set.name, text.split("=")[0])
    if not specs:
        raise AkitError(f"keypoint set {keypoint_set.name} has none of the default joints; pass --angle")
    return specs


def parse_specs(texts: list[str] | None, keypoint_set: KeypointSet) -> list[AngleSpec]:
    """The ``--angle`` values, or the defaults when there are none; names must be unique."""
    specs = [AngleSpec.parse(t, keypoint_set) for t in texts] if texts else default_specs(keypoint_set)
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise AkitError(f"angle names must be unique, got {', '.join(names)}")
    return specs


def _point(track: Track, joints: tuple[int, ...], min_score: float) -> np.ndarray:
    xy = track.keypoints[:, list(joints)].mean(axis=1)
    ok = np.all(track.scores[:, list(joints)] >= min_score, axis=1)
    return np.where(np.asarray(ok)[:, None], xy, np.nan)


def angle_at(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Angle at ``b`` between b->a and b->c in degrees, for (T, 2) arrays; NaN where a segment has no length."""
    u, v = a - b, c - b
    cross = u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]
    dot = (u * v).sum(axis=1)
    degenerate = (np.hypot(*u.T) == 0) | (np.hypot(*v.T) == 0)
    return np.where(degenerate, np.nan, np.degrees(np.arctan2(np.abs(cross), dot)))


def angle_from_vertical(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle of the segment a->b from the upward image vertical in degrees (0 upright, 90 lying, 180 upside down)."""
    d = b - a
    return np.where(np.hypot(*d.T) == 0, np.nan, np.degrees(np.arctan2(np.abs(d[:, 0]), -d[:, 1])))


def compute_angles(track: Track, specs: list[AngleSpec], min_score: float = MIN_SCORE) -> dict[str, np.ndarray]:
    """Each angle of ``specs`` for every frame of ``track`` (degrees; NaN where a joint is missing)."""
    out = {}
    for spec in specs:
        pts = [_point(track, joints, min_score) for joints in spec.points]
        out[spec.name] = angle_at(*pts) if len(pts) == 3 else angle_from_vertical(*pts)
    return out


def angles_csv(rows: list[tuple[Track, dict[str, np.ndarray]]], names: list[str], fps: float | None) -> str:
    """CSV text: track_id, frame, time_s (empty without a frame rate), then one column per angle; NaN -> empty."""
    fmt = ",".join(["%d", "%d", "%.4f"] + ["%.2f"] * len(names))
    lines = [",".join(["track_id", "frame", "time_s", *names])]
    for track, angles in rows:
        times = track.frames / fps if fps else np.full(len(track), np.nan)
        table = np.column_stack([np.full(len(track), track.track_id), track.frames, times, *(angles[n] for n in names)])
        lines.extend(fmt % tuple(row) for row in table.tolist())
    return "\n".join(lines).replace("nan", "") + "\n"
