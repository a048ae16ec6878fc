"""Fall events per track: a fast drop from upright to lying, followed by lying still.

Evidence per frame: the trunk angle (mid-hip -> mid-shoulder from the vertical), the hips' downward velocity in body
heights per second (body height = the larger side of the box, a rolling median, so it holds when the person lies),
and the box aspect (width / height). A fall is reported at the first lying frame (trunk >= 60 degrees and the box
wider than tall) when, within the ``max_fall_s`` before it, the person was upright (trunk <= 35 degrees), the hips
moved down with a peak speed of at least ``min_speed`` body heights per second and ended (median over the next
``still_s``) at least ``min_drop`` body heights below their highest upright point, and when for ``still_s`` after
it the person stays lying (80 % of the frames) and still (median hip speed below ``max_still_speed``). Bending
over (no drop), sitting down and crouching (trunk not lying) and lying down slowly (upright too long before, too
slow) are not falls. Peers' detectors are flagged for exactly these (ambianic #2, #258).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from alphapose_kit.analysis.angles import MIN_SCORE, angle_from_vertical
from alphapose_kit.analysis.series import Track
from alphapose_kit.data.keypoints import KeypointSet
from alphapose_kit.errors import AkitError


@dataclass(frozen=True)
class FallRule:
    """Thresholds of the fall rule (see the module docstring)."""

    upright_deg: float = 35.0
    lying_deg: float = 60.0
    lying_aspect: float = 1.0
    max_fall_s: float = 1.0
    min_drop: float = 0.2
    min_speed: float = 0.6
    still_s: float = 1.0
    max_still_speed: float = 0.3
    velocity_lag_s: float = 0.1
    size_window_s: float = 2.0


def _midpoint(track: Track, a: int, b: int, min_score: float) -> np.ndarray:
    ok = (track.scores[:, a] >= min_score) & (track.scores[:, b] >= min_score)
    return np.where(ok[:, None], (track.keypoints[:, a] + track.keypoints[:, b]) / 2, np.nan)


def _rolling_median(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing median over ``window`` samples (fewer at the start)."""
    if values.size == 0:
        return values
    window = max(1, min(window, values.size))
    padded = np.concatenate([np.full(window - 1, values[0]), values])
    return np.median(sliding_window_view(padded, window), axis=1)


def fall_signals(track: Track, keypoint_set: KeypointSet, fps: float, rule: FallRule, min_score: float) -> dict:
    """Per-frame evidence: time, trunk angle, hip y, body size, hip velocity (body heights/s, + = down), aspect."""
    names = keypoint_set.names
    needed = ("left_hip", "right_hip", "left_shoulder", "right_shoulder")
    if any(n not in names for n in needed):
        raise AkitError(f"keypoint set {keypoint_set.name} lacks hips or shoulders: falls need them")
    lh, rh, ls, rs = (names.index(n) for n in needed)
    hip = _midpoint(track, lh, rh, min_score)
    shoulder = _midpoint(track, ls, rs, min_score)
    t = track.frames / fps
    w = track.boxes[:, 2] - track.boxes[:, 0]
    h = track.boxes[:, 3] - track.boxes[:, 1]
    size = _rolling_median(np.maximum(w, h), round(rule.size_window_s * fps))
    lag = max(1, round(rule.velocity_lag_s * fps))
    velocity = np.full(t.shape, np.nan)
    if t.size > lag:
        dy = hip[lag:, 1] - hip[:-lag, 1]
        velocity[lag:] = dy / (t[lag:] - t[:-lag]) / np.maximum(size[lag:], 1e-6)
    with np.errstate(invalid="ignore", divide="ignore"):
        aspect = w / h
    return {"t": t, "trunk": angle_from_vertical(hip, shoulder), "hip_y": hip[:, 1], "size": size, "v": velocity,
            "aspect": aspect}  # fmt: skip


def detect_falls(
    track: Track, keypoint_set: KeypointSet, fps: float, rule: FallRule | None = None, min_score: float = MIN_SCORE
) -> list[dict]:
    """Fall events of one track: track_id, frame, time_s (first lying frame), onset and the evidence."""
    rule = rule or FallRule()
    s = fall_signals(track, keypoint_set, fps, rule, min_score)
    t, trunk, aspect, v = s["t"], s["trunk"], s["aspect"], s["v"]
    with np.errstate(invalid="ignore"):
        lying = (trunk >= rule.lying_deg) & (aspect >= rule.lying_aspect)
        upright = trunk <= rule.upright_deg
    edges = np.flatnonzero(lying & ~np.concatenate([[False], lying[:-1]]))
    events: list[dict] = []
    rearmed_at = 0  # after a fall, the next one needs the person upright again
    for i in edges:
        if i < rearmed_at:
            continue
        first = int(np.searchsorted(t, t[i] - rule.max_fall_s))
        before = np.flatnonzero(upright[first:i])
        if before.size == 0:
            continue
        onset = first + int(before[-1])
        after = slice(i, int(np.searchsorted(t, t[i] + rule.still_s, side="right")))
        with warnings.catch_warnings():  # all-NaN stretches (hips unseen) give NaN evidence, quietly
            warnings.simplefilter("ignore", RuntimeWarning)
            top = np.nanmin(s["hip_y"][first : onset + 1])  # the hips' highest point while upright
            drop = (np.nanmedian(s["hip_y"][after]) - top) / max(float(s["size"][onset]), 1e-6)
            peak = float(np.nanmax(v[first : i + 1]))
            still_speed = float(np.nanmedian(np.abs(v[after])))
        if not (drop >= rule.min_drop and peak >= rule.min_speed):
            continue
        covered = t[after].size >= 0.8 * rule.still_s * fps
        if not (covered and lying[after].mean() >= 0.8 and still_speed <= rule.max_still_speed):
            continue
        events.append(
            {
                "track_id": track.track_id,
                "frame": int(track.frames[i]),
                "time_s": float(t[i]),
                "onset_frame": int(track.frames[onset]),
                "onset_s": float(t[onset]),
                "evidence": {
                    "trunk_angle_before": float(trunk[onset]),
                    "trunk_angle_after": float(trunk[i]),
                    "hip_drop_body_heights": float(drop),
                    "peak_hip_velocity_body_heights_per_s": peak,
                    "aspect_before": float(aspect[onset]),
                    "aspect_after": float(aspect[i]),
                    "still_hip_speed_body_heights_per_s": still_speed,
                },
            }
        )
        later_upright = np.flatnonzero(upright[i:])
        rearmed_at = i + int(later_upright[0]) if later_upright.size else t.size
    return events
