"""The ``akit analyze`` commands as library calls: read results (or infer them from a video), analyse, write files.

Each function returns the paths it wrote; every file is written atomically into ``outdir``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from alphapose_kit.analysis.angles import MIN_SCORE, angles_csv, compute_angles, parse_specs
from alphapose_kit.analysis.compare import compare_tracks
from alphapose_kit.analysis.falls import detect_falls
from alphapose_kit.analysis.plots import angles_png, compare_png, reps_png
from alphapose_kit.analysis.reps import check_exercise, make_plan, track_reps
from alphapose_kit.analysis.series import Recording, load_recording
from alphapose_kit.data.sources import VIDEO_SUFFIXES
from alphapose_kit.errors import AkitError
from alphapose_kit.io.atomic import atomic_write_bytes
from alphapose_kit.io.writers import ensure_writable_dir, next_run_dir

log = logging.getLogger("akit.analysis")


@dataclasses.dataclass
class Inputs:
    """Where to read and write, and how to read: shared by every command."""

    results: str | Path
    outdir: str | Path | None = None
    fps: float | None = None
    person: int | None = None
    keypoints: str | None = None
    min_score: float = MIN_SCORE

    def __post_init__(self) -> None:
        if not 0 <= self.min_score <= 1:
            raise AkitError(f"--min-score is a keypoint score in [0, 1], got {self.min_score}")


def output_dir(outdir: str | Path | None) -> Path:
    """``outdir``, or a fresh ``runs/analyze/expN``."""
    return ensure_writable_dir(outdir or next_run_dir("runs/analyze"))


def write_file(path: Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` through a temporary file and one rename."""
    return atomic_write_bytes(path, data.encode() if isinstance(data, str) else data)


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, allow_nan=False, default=float) + "\n"


def infer_video(video: str | Path, outdir: Path) -> Path:
    """Run ``akit infer --track`` with the default models on ``video``; returns its results file."""
    from alphapose_kit.engine.infer import run_inference
    from alphapose_kit.engine.options import InferOptions

    run_inference(InferOptions(source=str(video), outdir=str(outdir / "inference"), track=True, quiet=True))
    return outdir / "inference" / "alphapose-results.json"


def open_recording(inputs: Inputs, outdir: Path, results: str | Path | None = None) -> Recording:
    """The results to analyse: a results file, a run folder, or a video (inferred first into ``outdir``)."""
    path = Path(results if results is not None else inputs.results)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        if not path.is_file():
            raise AkitError(f"video not found: {path}")
        path = infer_video(path, outdir if results is None else outdir / path.stem)
    return load_recording(path, inputs.fps, inputs.keypoints)


def analyze_angles(inputs: Inputs, angles: list[str] | None = None) -> list[Path]:
    """angles.csv (one row per track and frame) and angles.png."""
    outdir = output_dir(inputs.outdir)
    rec = open_recording(inputs, outdir)
    specs = parse_specs(angles, rec.keypoint_set)
    rows = [(track, compute_angles(track, specs, inputs.min_score)) for track in rec.select(inputs.person)]
    names = [s.name for s in specs]
    return [
        write_file(outdir / "angles.csv", angles_csv(rows, names, rec.fps)),
        write_file(outdir / "angles.png", angles_png(rows, rec.fps)),
    ]


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


def analyze_reps(inputs: Inputs, exercise: str = "squat", **plan_args: Any) -> list[Path]:
    """reps.json (count, reps) and reps.png."""
    outdir = output_dir(inputs.outdir)
    rec = open_recording(inputs, outdir)
    summary, rows = reps_result(rec, inputs, exercise, **plan_args)
    return [
        write_file(outdir / "reps.json", _json(summary)),
        write_file(outdir / "reps.png", reps_png(rows, summary["fps"], summary["low"], summary["high"])),
    ]


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


def analyze_compare(
    inputs: Inputs, reference: str | Path, person_b: int | None = None, mirror: bool = False
) -> list[Path]:
    """compare.json (similarity, DTW distance, path, per-joint deviation) and compare.png."""
    outdir = output_dir(inputs.outdir)
    rec_a = open_recording(inputs, outdir)
    rec_b = open_recording(inputs, outdir, results=reference)
    result, figure = compare_result(rec_a, rec_b, inputs.person, person_b, mirror, inputs.min_score)
    return [write_file(outdir / "compare.json", _json(result)), write_file(outdir / "compare.png", figure)]


def falls_result(rec: Recording, inputs: Inputs) -> list[dict]:
    """Fall events of every selected track, in time order."""
    fps = rec.require_fps()
    events = [e for track in rec.select(inputs.person) for e in detect_falls(track, rec.keypoint_set, fps)]
    return sorted(events, key=lambda e: (e["time_s"], e["track_id"]))


def analyze_falls(inputs: Inputs) -> list[Path]:
    """falls.json: a list of events (track_id, frame, time_s, evidence)."""
    outdir = output_dir(inputs.outdir)
    rec = open_recording(inputs, outdir)
    return [write_file(outdir / "falls.json", _json(falls_result(rec, inputs)))]


def analyze_report(
    inputs: Inputs, reference: str | Path | None = None, exercise: str = "squat", mirror: bool = False
) -> list[Path]:
    """report.html: angles, reps, comparison and falls of each track, and key frames, in one self-contained file."""
    from alphapose_kit.analysis.report import build_report

    check_exercise(exercise)
    outdir = output_dir(inputs.outdir)
    rec = open_recording(inputs, outdir)
    ref = open_recording(inputs, outdir, results=reference) if reference is not None else None
    html = build_report(rec, inputs, ref, exercise, mirror)
    return [write_file(outdir / "report.html", html)]
