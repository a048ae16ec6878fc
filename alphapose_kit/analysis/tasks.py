"""The ``akit analyze`` commands as library calls: read results (or infer them from a video), analyse, write files.

Each function returns the paths it wrote; every file is written atomically into ``outdir`` (``-o``, else the next
``runs/analyze/expN``; the folder rule is :mod:`alphapose_kit.io.run_dir`'s). An analysis over time (reps, compare,
falls, report) needs tracked results; one with nothing to show says why on stderr (and in the report).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alphapose_kit.analysis.angles import angles_csv, compute_angles, parse_specs
from alphapose_kit.analysis.cleaning import CleaningOptions
from alphapose_kit.analysis.kinematics import kinematics, kinematics_csv
from alphapose_kit.analysis.people import select_person
from alphapose_kit.analysis.plots import angles_png, reps_png
from alphapose_kit.analysis.reps import check_exercise
from alphapose_kit.analysis.series import Recording, load_recording
from alphapose_kit.analysis.summaries import Inputs, compare_result, falls_result, nothing_to_show, reps_result
from alphapose_kit.data.sources import VIDEO_SUFFIXES
from alphapose_kit.errors import AkitError
from alphapose_kit.io.atomic import atomic_write_bytes
from alphapose_kit.io.run_dir import run_dir
from alphapose_kit.io.writers import JSON_NAME

__all__ = ["Inputs", "analyze_angles", "analyze_compare", "analyze_falls", "analyze_report", "analyze_reps"]

log = logging.getLogger("akit.analysis")
INFERENCE_DIR = "inference"  # where a video given to analyze is inferred, inside the output folder


def _is_video(path: str | Path | None) -> bool:
    return path is not None and Path(path).suffix.lower() in VIDEO_SUFFIXES


@contextmanager
def output_dir(inputs: Inputs, outputs: Sequence[str], reference: str | Path | None = None) -> Iterator[Path]:
    """The folder this command writes ``outputs`` into (plus the inference of a video input or reference)."""
    written = list(outputs)
    if _is_video(inputs.results):
        written.append(INFERENCE_DIR)
    if _is_video(reference):
        written.append(f"{Path(str(reference)).stem}/{INFERENCE_DIR}")
    with run_dir("analyze", inputs.outdir, written, exist_ok=inputs.exist_ok) as outdir:
        yield outdir


def write_file(path: Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` through a temporary file and one rename."""
    return atomic_write_bytes(path, data.encode() if isinstance(data, str) else data)


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, allow_nan=False, default=float) + "\n"


def infer_video(video: str | Path, outdir: Path, inputs: Inputs) -> Path:
    """Run ``akit infer --track`` on ``video`` (with the model flags given to analyze, else the defaults) into
    ``outdir/inference``; returns its results file."""
    from alphapose_kit.engine.infer import run_inference
    from alphapose_kit.engine.options import InferOptions

    folder = outdir / INFERENCE_DIR
    options = dataclasses.replace(
        inputs.infer or InferOptions(), source=str(video), outdir=str(folder), track=True, quiet=True
    )
    run_inference(options)
    return folder / JSON_NAME


def open_recording(inputs: Inputs, outdir: Path, results: str | Path | None = None) -> Recording:
    """The results to analyse: a results file, a run folder, or a video (inferred first into ``outdir``)."""
    path = Path(results if results is not None else inputs.results)
    if _is_video(path):
        if not path.is_file():
            raise AkitError(f"video not found: {path}")
        path = infer_video(path, outdir if results is None else outdir / path.stem, inputs)
    return load_recording(path, inputs.fps, inputs.keypoints)


def warn_if_empty(rec: Recording, inputs: Inputs) -> str | None:
    """Say on stderr why the analysis of ``rec`` has nothing to show; returns that reason (None: all is well)."""
    reason = nothing_to_show(rec, inputs)
    if reason:
        log.warning(reason)
    return reason


def analyze_angles(inputs: Inputs, angles: list[str] | None = None) -> list[Path]:
    """angles.csv (one row per track and frame; untracked results: per person) and angles.png."""
    with output_dir(inputs, ("angles.csv", "angles.png")) as outdir:
        rec = open_recording(inputs, outdir)
        specs = parse_specs(angles, rec.keypoint_set)
        warn_if_empty(rec, inputs)
        rows = [(track, compute_angles(track, specs, inputs.min_score)) for track in rec.select(inputs.person)]
        names = [s.name for s in specs]
        return [
            write_file(outdir / "angles.csv", angles_csv(rows, names, rec.fps)),
            write_file(outdir / "angles.png", angles_png(rows, rec.fps)),
        ]


def analyze_kinematics(
    inputs: Inputs, cleaning: CleaningOptions | None = None, person_height: float | None = None, who: str = "longest"
) -> list[Path]:
    """kinematics.csv: one person's cleaned track (gaps filled, outliers and swaps repaired, filtered), segment and
    joint angles (conventions in ``analysis.segments``), angular velocities and joint speeds (m/s with
    ``person_height``); ``who``: largest, longest or a track id."""
    with output_dir(inputs, ("kinematics.csv",)) as outdir:
        rec = open_recording(inputs, outdir)
        rec.require_tracks("akit analyze kinematics")
        warn_if_empty(rec, inputs)
        fps = rec.require_fps()
        track = select_person(rec, who if inputs.person is None else inputs.person)
        result = kinematics(track, rec.keypoint_set, fps, cleaning, person_height)
        return [write_file(outdir / "kinematics.csv", kinematics_csv(result, rec.keypoint_set, fps))]


def analyze_reps(inputs: Inputs, exercise: str = "squat", **plan_args: Any) -> list[Path]:
    """reps.json (count, reps) and reps.png."""
    with output_dir(inputs, ("reps.json", "reps.png")) as outdir:
        rec = open_recording(inputs, outdir)
        rec.require_tracks("akit analyze reps")
        warn_if_empty(rec, inputs)
        summary, rows = reps_result(rec, inputs, exercise, **plan_args)
        return [
            write_file(outdir / "reps.json", _json(summary)),
            write_file(outdir / "reps.png", reps_png(rows, summary["fps"], summary["low"], summary["high"])),
        ]


def analyze_compare(
    inputs: Inputs, reference: str | Path, person_b: int | None = None, mirror: bool = False
) -> list[Path]:
    """compare.json (similarity, DTW distance, path, per-joint deviation) and compare.png."""
    with output_dir(inputs, ("compare.json", "compare.png"), reference) as outdir:
        rec_a = open_recording(inputs, outdir)
        rec_b = open_recording(inputs, outdir, results=reference)
        for rec in (rec_a, rec_b):
            rec.require_tracks("akit analyze compare")
            warn_if_empty(rec, inputs)
        result, figure = compare_result(rec_a, rec_b, inputs.person, person_b, mirror, inputs.min_score)
        return [write_file(outdir / "compare.json", _json(result)), write_file(outdir / "compare.png", figure)]


def analyze_falls(inputs: Inputs) -> list[Path]:
    """falls.json: a list of events (track_id, frame, time_s, evidence)."""
    with output_dir(inputs, ("falls.json",)) as outdir:
        rec = open_recording(inputs, outdir)
        rec.require_tracks("akit analyze falls")
        warn_if_empty(rec, inputs)
        return [write_file(outdir / "falls.json", _json(falls_result(rec, inputs)))]


def analyze_report(
    inputs: Inputs, reference: str | Path | None = None, exercise: str = "squat", mirror: bool = False
) -> list[Path]:
    """report.html: angles, reps, comparison and falls of each track, and key frames, in one self-contained file."""
    from alphapose_kit.analysis.report import build_report

    check_exercise(exercise)
    with output_dir(inputs, ("report.html",), reference) as outdir:
        rec = open_recording(inputs, outdir)
        ref = open_recording(inputs, outdir, results=reference) if reference is not None else None
        for each in (rec, ref):
            if each is not None:
                each.require_tracks("akit analyze report")
        html = build_report(rec, inputs, ref, exercise, mirror, empty=warn_if_empty(rec, inputs))
        return [write_file(outdir / "report.html", html)]
