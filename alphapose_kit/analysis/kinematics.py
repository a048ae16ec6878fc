"""One person's cleaned 2D kinematics in one call: the cleaned track, segment and joint angles (degrees), their
angular velocities (degrees/s) and every joint's speed (m/s with a person height, else px/s), and a CSV of them.
The entry point for ``akit analyze`` options ``--filter``, ``--cutoff``, ``--max-gap``, ``--person-height``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from alphapose_kit.analysis.cleaning import CleaningOptions, clean_track
from alphapose_kit.analysis.hands import hand_measures
from alphapose_kit.analysis.segments import (
    angular_velocity,
    joint_angles,
    joint_speed,
    metres_per_pixel,
    segment_angles,
)
from alphapose_kit.analysis.series import Track
from alphapose_kit.data.keypoints import KeypointSet


@dataclass
class Kinematics:
    """The cleaned track (consecutive frames), angles and angular velocities by name, (T, K) joint speeds, and the
    scale used (None: speeds in pixels per second)."""

    track: Track
    segments: dict[str, np.ndarray]
    joints: dict[str, np.ndarray]
    velocities: dict[str, np.ndarray]
    speeds: np.ndarray
    metres_per_pixel: float | None
    hands: dict[str, np.ndarray] = field(default_factory=dict)  # finger flexion (deg), hand opening (ratio)


def kinematics(
    track: Track,
    keypoint_set: KeypointSet,
    fps: float,
    options: CleaningOptions | None = None,
    person_height: float | None = None,
    facing: float | np.ndarray | None = None,
) -> Kinematics:
    """Clean ``track`` (see :func:`clean_track`), then its angles (conventions in ``analysis.segments``), angular
    velocities, joint speeds and, for sets with hands, finger flexion and hand opening (``analysis.hands``);
    ``person_height`` in metres turns speeds into m/s."""
    clean = clean_track(track, fps, keypoint_set.flip_pairs, options)
    segments = segment_angles(clean, keypoint_set)
    joints = joint_angles(clean, keypoint_set, facing)
    velocities = {name: angular_velocity(v, fps) for name, v in {**segments, **joints}.items()}
    scale = metres_per_pixel(clean, keypoint_set, person_height) if person_height is not None else None
    speeds = joint_speed(clean.keypoints, fps, scale or 1.0)
    return Kinematics(clean, segments, joints, velocities, speeds, scale, hand_measures(clean, keypoint_set))


def kinematics_csv(result: Kinematics, keypoint_set: KeypointSet, fps: float) -> str:
    """CSV text: track_id, frame, time_s, each angle (``_deg``), angular velocity (``_deg_s``) and joint speed
    (``_m_s`` or ``_px_s``); NaN -> empty."""
    unit = "m_s" if result.metres_per_pixel else "px_s"
    angles = {**result.segments, **result.joints}
    names = [f"{n}_deg" for n in angles] + [f"{n}_deg_s" for n in result.velocities]
    names += [f"{j}_speed_{unit}" for j in keypoint_set.names]
    names += [name if name.endswith("_opening") else f"{name}_deg" for name in result.hands]
    track = result.track
    table = np.column_stack(
        [np.full(len(track), track.track_id), track.frames, track.frames / fps, *angles.values(),
         *result.velocities.values(), result.speeds, *result.hands.values()]
    )  # fmt: skip
    fmt = ",".join(["%d", "%d", "%.4f"] + ["%.3f"] * (table.shape[1] - 3))
    lines = [",".join(["track_id", "frame", "time_s", *names])]
    lines.extend(fmt % tuple(row) for row in table.tolist())
    return "\n".join(lines).replace("nan", "") + "\n"
