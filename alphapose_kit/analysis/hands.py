"""Hand measures from the 21 joints of a hand (whole-body sets and ``hand21``): finger flexion and hand opening.

Each finger is a chain wrist -> joint 1 (the knuckle, MCP) -> joint 2 -> joint 3 -> tip (COCO-WholeBody's layout,
as in :mod:`alphapose_kit.data.wholebody`). A finger's flexion is the sum of its three bends in degrees: at each inner
joint, 180 minus the angle between the bone before it and the bone after it, so a straight finger reads 0 and a fist
about 200-250 (2D: a bend seen edge-on reads less). Hand opening is the mean distance of the five fingertips from the
wrist divided by the palm's length (wrist to middle-finger knuckle), a scale-free number: about 1.8-2 for a flat
open hand, about 1 for a fist. Frames where a joint is NaN (dropped as low-scored) give NaN.
"""

from __future__ import annotations

import numpy as np

from alphapose_kit.analysis.series import Track
from alphapose_kit.data.keypoints import KeypointSet
from alphapose_kit.data.wholebody import FINGERS

HAND_PREFIXES = {"left": "left_", "right": "right_", "hand": ""}  # joint-name prefix of each hand a set may have


def _hand_joints(keypoint_set: KeypointSet, prefix: str) -> list[int] | None:
    """Indices of one hand's 21 joints (root, then four per finger), or None when the set lacks that hand."""
    names = [f"{prefix}hand_root", *(f"{prefix}{finger}{i}" for finger in FINGERS for i in range(1, 5))]
    index = {name: i for i, name in enumerate(keypoint_set.names)}
    if not all(name in index for name in names):
        return None
    return [index[name] for name in names]


def _bend(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """180 minus the angle abc in degrees, per frame: 0 when a, b, c lie on a straight line."""
    u, v = a - b, c - b
    cos = np.sum(u * v, axis=-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))
    return 180.0 - np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def hand_measures(track: Track, keypoint_set: KeypointSet) -> dict[str, np.ndarray]:
    """(T,) series named ``left_index_flexion``... (``thumb``, ``index``, ``middle``, ``ring``, ``little``) and
    ``left_hand_opening`` for every hand the set has (``hand_index_flexion``, ``hand_opening`` for ``hand21``); {}
    for a set without hands."""
    kps = np.asarray(track.keypoints, np.float64)
    out: dict[str, np.ndarray] = {}
    short = ("thumb", "index", "middle", "ring", "little")
    for side, prefix in HAND_PREFIXES.items():
        joints = _hand_joints(keypoint_set, prefix)
        if joints is None:
            continue
        wrist = kps[:, joints[0]]
        tips = []
        for f, name in enumerate(short):
            chain = [wrist, *(kps[:, joints[1 + 4 * f + i]] for i in range(4))]
            out[f"{side}_{name}_flexion"] = np.sum([_bend(chain[i - 1], chain[i], chain[i + 1]) for i in (1, 2, 3)], 0)
            tips.append(chain[-1])
        palm = np.linalg.norm(kps[:, joints[1 + 4 * 2]] - wrist, axis=-1)  # wrist to the middle finger's knuckle
        reach = np.mean([np.linalg.norm(tip - wrist, axis=-1) for tip in tips], axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["hand_opening" if side == "hand" else f"{side}_hand_opening"] = np.where(palm > 0, reach / palm, np.nan)
    return out
