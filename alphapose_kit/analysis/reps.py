"""Repetition counting on an angle signal with hysteresis, with per-rep timing, range of motion and a form score.

A rep is the signal leaving the "up" zone (angle >= high), reaching the "down" zone (angle <= low) and coming back
to "up". Movement that stays between the two thresholds (jitter, a swinging limb, a half movement) never counts, nor
does a dip shorter than ``min_rep_s`` (a one-frame keypoint glitch). The form score compares the bottom angle with
the target depth: 1 - |bottom - target| / target, clipped to [0, 1] (for squats the guide's 1 - |knee - 90| / 90).
Default thresholds follow common rep counters (e.g. Ultralytics AIGym: up 145, down 90 degrees), widened so
partial reps are still counted and then scored.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from alphapose_kit.analysis.angles import AngleSpec, compute_angles, parse_specs
from alphapose_kit.analysis.series import Track
from alphapose_kit.data.keypoints import KeypointSet
from alphapose_kit.errors import AkitError

MIN_REP_S = 0.3


@dataclass(frozen=True)
class Exercise:
    """Which default angles make the signal (combined by mean or min), thresholds and target depth in degrees."""

    name: str
    angles: tuple[str, ...]
    combine: str
    low: float
    high: float
    target: float


EXERCISES = {
    "squat": Exercise("squat", ("left_knee", "right_knee"), "mean", 120.0, 155.0, 90.0),
    "lunge": Exercise("lunge", ("left_knee", "right_knee"), "min", 120.0, 155.0, 90.0),
    "pushup": Exercise("pushup", ("left_elbow", "right_elbow"), "mean", 110.0, 150.0, 90.0),
    "curl": Exercise("curl", ("left_elbow", "right_elbow"), "min", 70.0, 140.0, 45.0),
}


@dataclass(frozen=True)
class RepPlan:
    """What to count: the angle specs making the signal, how to combine them, thresholds and target."""

    exercise: str
    specs: tuple[AngleSpec, ...]
    combine: str
    low: float
    high: float
    target: float

    def signal(self, track: Track, min_score: float) -> np.ndarray:
        """The combined angle per frame (NaN where no angle of the plan is available)."""
        angles = np.stack(list(compute_angles(track, list(self.specs), min_score).values()))
        with warnings.catch_warnings():  # frames where every angle is NaN stay NaN, quietly
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(angles, axis=0) if self.combine == "mean" else np.nanmin(angles, axis=0)


def check_exercise(exercise: str) -> None:
    """One line for an exercise akit does not know."""
    if exercise not in (*EXERCISES, "custom"):
        raise AkitError(f"unknown exercise {exercise!r}; choose one of {', '.join([*EXERCISES, 'custom'])}")


def make_plan(
    exercise: str,
    keypoint_set: KeypointSet,
    angles: list[str] | None = None,
    low: float | None = None,
    high: float | None = None,
    target: float | None = None,
) -> RepPlan:
    """The plan for ``exercise`` (squat, pushup, lunge, curl, custom); ``angles``/``low``/``high`` override."""
    if exercise == "custom":
        if not angles or low is None or high is None:
            raise AkitError("--exercise custom needs --angle NAME=A,B,C, --low DEG and --high DEG")
        base = Exercise("custom", (), "mean", low, high, low if target is None else target)
    else:
        check_exercise(exercise)
        base = EXERCISES[exercise]
    if angles:
        specs = parse_specs(angles, keypoint_set)
    else:
        by_name = {s.name: s for s in parse_specs(None, keypoint_set)}
        missing = [a for a in base.angles if a not in by_name]
        if missing:
            raise AkitError(f"keypoint set {keypoint_set.name} cannot measure {', '.join(missing)}; pass --angle")
        specs = [by_name[a] for a in base.angles]
    lo = base.low if low is None else low
    hi = base.high if high is None else high
    if not lo < hi:
        raise AkitError(f"--low ({lo}) must be below --high ({hi})")
    return RepPlan(exercise, tuple(specs), base.combine, lo, hi, base.target if target is None else target)


def count_reps(
    signal: np.ndarray,
    times: np.ndarray,
    low: float,
    high: float,
    target: float,
    min_rep_s: float = MIN_REP_S,
) -> list[dict]:
    """Reps of ``signal`` (degrees, NaN = unknown) sampled at ``times`` (seconds); see the module docstring.

    Each rep: start/bottom/end sample index and time (start = the last sample in the up zone before the descent,
    end = the first one back in it), duration, down and up time (tempo), bottom and top angle (top = median angle of
    the up phase before the rep, robust to jitter), range of motion and form score.
    """
    zone = np.zeros(signal.shape[0], np.int8)
    zone[signal >= high] = 1
    zone[signal <= low] = -1
    idx = np.flatnonzero(zone)  # NaN and the band between thresholds carry no decision
    if idx.size == 0:
        return []
    z = zone[idx]
    change = np.flatnonzero(np.diff(z)) + 1
    run_starts = np.concatenate([[0], change])
    run_ends = np.concatenate([change - 1, [z.size - 1]])
    reps = []
    for r in range(1, len(run_starts) - 1):
        if z[run_starts[r]] != -1:
            continue  # runs alternate, so a down run here is preceded and followed by an up run
        up_from, start, end = idx[run_starts[r - 1]], idx[run_ends[r - 1]], idx[run_starts[r + 1]]
        if times[end] - times[start] < min_rep_s:
            continue
        window = signal[start : end + 1]
        bottom = start + int(np.nanargmin(window))
        bottom_angle = float(signal[bottom])
        top_angle = float(np.nanmedian(signal[up_from : start + 1]))
        reps.append(
            {
                "start_index": int(start),
                "bottom_index": int(bottom),
                "end_index": int(end),
                "start_s": float(times[start]),
                "bottom_s": float(times[bottom]),
                "end_s": float(times[end]),
                "duration_s": float(times[end] - times[start]),
                "down_s": float(times[bottom] - times[start]),
                "up_s": float(times[end] - times[bottom]),
                "bottom_angle": bottom_angle,
                "top_angle": top_angle,
                "range_of_motion": top_angle - bottom_angle,
                "form_score": float(np.clip(1 - abs(bottom_angle - target) / target, 0.0, 1.0)),
            }
        )
    return reps


def track_reps(track: Track, plan: RepPlan, fps: float, min_score: float, min_rep_s: float = MIN_REP_S) -> list[dict]:
    """Reps of one track, with its id and frame numbers added to each rep."""
    signal = plan.signal(track, min_score)
    reps = count_reps(signal, track.frames / fps, plan.low, plan.high, plan.target, min_rep_s)
    for n, rep in enumerate(reps, 1):
        rep_frames = {k.replace("_index", "_frame"): int(track.frames[v]) for k, v in rep.items() if "_index" in k}
        rep.update(rep_frames, track_id=track.track_id, rep=n)
        for key in ("start_index", "bottom_index", "end_index"):
            del rep[key]
    return reps
