"""``akit analyze``: joint angles, repetitions, movement comparison, falls and an HTML report from tracked poses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

analyze_app = typer.Typer(
    help="Motion analysis of tracked poses: angles, reps, compare, falls, report.", no_args_is_help=True
)

Results = Annotated[str, typer.Argument(help="alphapose-results.json, its run folder, or a video (inferred first)")]
Outdir = Annotated[str | None, typer.Option("--outdir", "-o", help="default runs/analyze/expN")]
Fps = Annotated[float | None, typer.Option("--fps", help="frame rate (default: the run.json beside the results)")]
Person = Annotated[int | None, typer.Option("--person", help="one track id (default: each track)")]
Keypoints = Annotated[
    str | None, typer.Option("--keypoints", help="keypoint set name or JSON (default: run.json's, else by joint count)")
]
MinScore = Annotated[float, typer.Option("--min-score", help="joints scored below this give empty cells")]
Angles = Annotated[
    list[str] | None,
    typer.Option("--angle", help="NAME=A,B,C (angle at B) or NAME=A,B (segment from vertical); A+B = midpoint"),
]
Exercise = Annotated[str, typer.Option("--exercise", help="squat, pushup, lunge, curl or custom")]
Mirror = Annotated[bool, typer.Option("--mirror", help="also try the reference mirrored left-right")]


def _inputs(results: str, outdir: str | None, fps: float | None, person: int | None, keypoints: str | None,
            min_score: float):  # fmt: skip
    from alphapose_kit.analysis.tasks import Inputs

    return Inputs(results, outdir, fps, person, keypoints, min_score)


def _done(paths: list[Path]) -> None:
    for path in paths:
        typer.echo(str(path))


@analyze_app.command("angles")
def angles(
    results: Results,
    angle: Angles = None,
    outdir: Outdir = None,
    fps: Fps = None,
    person: Person = None,
    keypoints: Keypoints = None,
    min_score: MinScore = 0.4,
) -> None:
    """Per-frame joint angles in degrees (default: knees, hips, elbows, shoulders, trunk lean): angles.csv, .png."""
    from alphapose_kit.analysis.tasks import analyze_angles

    _done(analyze_angles(_inputs(results, outdir, fps, person, keypoints, min_score), angle))


@analyze_app.command("reps")
def reps(
    results: Results,
    exercise: Exercise = "squat",
    angle: Angles = None,
    low: Annotated[float | None, typer.Option("--low", help="angle of the down position (degrees)")] = None,
    high: Annotated[float | None, typer.Option("--high", help="angle of the up position (degrees)")] = None,
    target: Annotated[float | None, typer.Option("--target", help="target depth for the form score")] = None,
    outdir: Outdir = None,
    fps: Fps = None,
    person: Person = None,
    keypoints: Keypoints = None,
    min_score: MinScore = 0.4,
) -> None:
    """Count repetitions with hysteresis; per rep: times, range of motion, tempo, form score: reps.json, reps.png."""
    from alphapose_kit.analysis.tasks import analyze_reps

    inputs = _inputs(results, outdir, fps, person, keypoints, min_score)
    _done(analyze_reps(inputs, exercise, angles=angle, low=low, high=high, target=target))


@analyze_app.command("compare")
def compare(
    results: Results,
    reference: Annotated[str, typer.Argument(help="the reference movement: results, run folder or video")],
    mirror: Mirror = False,
    reference_person: Annotated[int | None, typer.Option("--reference-person", help="track id in B")] = None,
    outdir: Outdir = None,
    fps: Fps = None,
    person: Person = None,
    keypoints: Keypoints = None,
    min_score: MinScore = 0.4,
) -> None:
    """Similarity of movement A to reference B at any tempo (DTW on normalised poses): compare.json, .png."""
    from alphapose_kit.analysis.tasks import analyze_compare

    inputs = _inputs(results, outdir, fps, person, keypoints, min_score)
    _done(analyze_compare(inputs, reference, reference_person, mirror))


@analyze_app.command("falls")
def falls(
    results: Results,
    outdir: Outdir = None,
    fps: Fps = None,
    person: Person = None,
    keypoints: Keypoints = None,
    min_score: MinScore = 0.4,
) -> None:
    """Fall events per track (fast drop to lying, then still): falls.json."""
    from alphapose_kit.analysis.tasks import analyze_falls

    _done(analyze_falls(_inputs(results, outdir, fps, person, keypoints, min_score)))


@analyze_app.command("report")
def report(
    results: Results,
    reference: Annotated[str | None, typer.Option("--reference", help="a reference movement to compare with")] = None,
    exercise: Exercise = "squat",
    mirror: Mirror = False,
    outdir: Outdir = None,
    fps: Fps = None,
    person: Person = None,
    keypoints: Keypoints = None,
    min_score: MinScore = 0.4,
) -> None:
    """One self-contained report.html: angles, reps, comparison, falls and key frames for each track."""
    from alphapose_kit.analysis.tasks import analyze_report

    inputs = _inputs(results, outdir, fps, person, keypoints, min_score)
    _done(analyze_report(inputs, reference, exercise, mirror))
