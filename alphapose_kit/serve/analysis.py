"""A session's analysis as one JSON document: joint angles per track and frame, repetitions, fall events.

Computed by the worker after inference, with the same library calls as ``akit analyze`` (one home per analysis).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from alphapose_kit.analysis.angles import compute_angles, parse_specs
from alphapose_kit.analysis.series import load_recording
from alphapose_kit.analysis.tasks import Inputs, falls_result, reps_result


def _finite(values: Any) -> list[float | None]:
    """Degrees as JSON numbers; a frame without the angle is null."""
    return [None if not math.isfinite(v) else round(float(v), 3) for v in values]


def session_analysis(results: Path, exercise: str | None, fps: float | None = None) -> dict[str, Any]:
    """Angles (per track: frames and one list per angle), reps of ``exercise`` (None: not asked) and falls;
    ``fps`` None: the run.json beside ``results`` gives it."""
    rec = load_recording(results, fps)
    inputs = Inputs(results=results)
    specs = parse_specs(None, rec.keypoint_set)
    tracks = [
        {
            "track_id": track.track_id,
            "frames": [int(f) for f in track.frames],
            "angles": {name: _finite(values) for name, values in compute_angles(track, specs).items()},
        }
        for track in rec.select(None)
    ]
    reps = reps_result(rec, inputs, exercise)[0] if exercise else None
    return {
        "fps": rec.fps,
        "keypoint_set": rec.keypoint_set.name,
        "skeleton": [list(link) for link in rec.keypoint_set.skeleton],
        "angles": tracks,
        "reps": reps,
        "falls": falls_result(rec, inputs),
    }
