"""What each analysis finds, as data (the files of ``akit analyze`` and the sections of its report are made from
these): the inputs every command shares, repetitions, comparison and falls, and why there may be nothing to show.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from alphapose_kit.analysis.angles import MIN_SCORE, compute_angles, parse_specs
from alphapose_kit.analysis.compare import compare_tracks
from alphapose_kit.analysis.falls import detect_falls
from alphapose_kit.analysis.plots import compare_png
from alphapose_kit.analysis.reps import make_plan, track_reps
from alphapose_kit.analysis.series import Recording
from alphapose_kit.errors import AkitError

if TYPE_CHECKING:
    from alphapose_kit.engine.options import InferOptions


@dataclasses.dataclass
class Inputs:
    """Where to read and write, and how to read: shared by every command."""

    results: str | Path
    outdir: str | Path | None = None
    fps: float | None = None
    person: int | None = None
    keypoints: str | None = None
    min_score: float = MIN_SCORE
    exist_ok: bool = False  # replace the outputs an earlier run of the same command left in outdir
    infer: InferOptions | None = None  # how a video is inferred first (model flags as akit infer's)

    def __post_init__(self) -> None:
        if not 0 <= self.min_score <= 1:
            raise AkitError(f"--min-score is a keypoint score in [0, 1], got {self.min_score}")


def nothing_to_show(rec: Recording, inputs: Inputs) -> str | None:
    """Why an analysis of ``rec`` has nothing to show (no people at all, every joint under ``--min-score``), or
    None when there is something."""
    tracks = rec.select(inputs.person)
    if not tracks:
        return f"nothing to analyse: {rec.path} holds no people (an empty results list)"
    scores = np.concatenate([t.scores.ravel() for t in tracks])
    if not np.any(scores >= inputs.min_score):
        return f"nothing to analyse: all {scores.size:,} joints below --min-score {inputs.min_score:g}"
    return None


def reps_result(rec: Recording, inputs: Inputs, exercise: str, **plan_args: Any) -> tuple[dict, list]:
    """The reps.json content and the plot rows (track, signal, reps) of every selected track."""
    plan = make_plan(exercise, rec.keypoint_set, **plan_args)
    fps = rec.require_fps()
    rows, all_reps = [], []
    for track in rec.select(inputs.person):
        reps = track_reps(track, plan, fps, inputs.min_score)
        rows.append((track, plan.signal(track, inputs.min_score), reps))
        all_reps.extend(reps)
    summary = {
        "exercise": plan.exercise,
        "angles": [s.name for s in plan.specs],
        "combine": plan.combine,
        "low": plan.low,
        "high": plan.high,
        "target": plan.target,
        "fps": fps,
        "count": len(all_reps),
        "per_track": {str(track.track_id): len(reps) for track, _, reps in rows},
        "reps": all_reps,
    }
    return summary, rows


def compare_result(
    rec_a: Recording, rec_b: Recording, person_a: int | None, person_b: int | None, mirror: bool, min_score: float
) -> tuple[dict, bytes]:
    """compare.json content and compare.png for one track of each (default: the longest)."""
    if rec_a.keypoint_set.names != rec_b.keypoint_set.names:
        raise AkitError(
            f"the movements use different keypoint sets ({rec_a.keypoint_set.name}, {rec_b.keypoint_set.name})"
        )
    a, b = rec_a.select(person_a), rec_b.select(person_b)
    if not a or not b:
        raise AkitError("nothing to compare: a results file has no tracked person")
    result = compare_tracks(a[0], b[0], rec_a.keypoint_set, mirror=mirror, min_score=min_score)
    specs = parse_specs(None, rec_a.keypoint_set)
    path = np.array(result["path"])
    index = np.stack([np.searchsorted(a[0].frames, path[:, 0]), np.searchsorted(b[0].frames, path[:, 1])], axis=1)
    figure = compare_png(compute_angles(a[0], specs, min_score), compute_angles(b[0], specs, min_score), index)
    for key, rec in (("fps_a", rec_a), ("fps_b", rec_b)):
        result[key] = rec.fps
    return result, figure


def falls_result(rec: Recording, inputs: Inputs) -> list[dict]:
    """Fall events of every selected track, in time order."""
    fps = rec.require_fps()
    events = [e for track in rec.select(inputs.person) for e in detect_falls(track, rec.keypoint_set, fps)]
    return sorted(events, key=lambda e: (e["time_s"], e["track_id"]))
