"""``akit analyze``: joint angles, repetitions, movement comparison, falls and an HTML report from tracked poses."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer

from alphapose_kit.analysis.options import ANALYZE_FLAGS, AnalyzeOptions
from alphapose_kit.cli.options_signature import extend_signature
from alphapose_kit.engine.options import InferOptions, PipelineOptions

analyze_app = typer.Typer(
    help="Motion analysis of tracked poses: angles, reps, compare, falls, report.", no_args_is_help=True
)

Results = Annotated[str, typer.Argument(help="alphapose-results.json, its run folder, or a video (inferred first)")]
Angles = Annotated[
    list[str] | None,
    typer.Option("--angle", help="NAME=A,B,C (angle at B) or NAME=A,B (segment from vertical); A+B = midpoint"),
]
Exercise = Annotated[str, typer.Option("--exercise", help="squat, pushup, lunge, curl or custom")]
Mirror = Annotated[bool, typer.Option("--mirror", help="also try the reference mirrored left-right")]


# a video is inferred first, with akit infer's model flags (declared once, in InferOptions); --exist-ok likewise
MODEL_FLAGS = (
    "config", "checkpoint",
    *(f.name for f in dataclasses.fields(PipelineOptions) if f.name != "track"),  # analysis over time: always tracked
    "threads",
)  # fmt: skip
SHARED_FLAGS = ("exist_ok", *MODEL_FLAGS)


def _inputs(results: str, flags: dict[str, Any]):
    from alphapose_kit.analysis.tasks import Inputs
    from alphapose_kit.data.sources import VIDEO_SUFFIXES
    from alphapose_kit.errors import AkitError

    infer = InferOptions(**{name: value for name, value in flags.items() if name in MODEL_FLAGS})
    default = InferOptions()
    given = [name for name in MODEL_FLAGS if getattr(infer, name) != getattr(default, name)]
    if given and Path(results).suffix.lower() not in VIDEO_SUFFIXES:
        flag = InferOptions.__dataclass_fields__[given[0]].metadata["flags"][0]
        raise AkitError(f"{flag} is a model flag: it applies to a video input only, and {results} holds results")
    shared = {name: flags[name] for name in ANALYZE_FLAGS}  # outdir, fps, person, keypoints, min_score
    return Inputs(results, exist_ok=flags["exist_ok"], infer=infer, **shared)


def _done(paths: list[Path]) -> None:
    for path in paths:
        typer.echo(str(path))


@analyze_app.command("angles")
def angles(
    results: Results,
    angle: Angles = None,
    **flags: Any,
) -> None:
    """Per-frame joint angles in degrees (default: knees, hips, elbows, shoulders, trunk lean): angles.csv, .png."""
    from alphapose_kit.analysis.tasks import analyze_angles

    _done(analyze_angles(_inputs(results, flags), angle))


@analyze_app.command("kinematics")
def kinematics_command(
    results: Results,
    who: Annotated[
        str, typer.Option("--who", help="largest, longest or a track id (with --person: that id)")
    ] = "longest",
    filter_name: Annotated[str, typer.Option("--filter", help="butterworth, one-euro, savgol or none")] = "butterworth",
    cutoff: Annotated[float, typer.Option("--cutoff", help="filter cut-off frequency, Hz")] = 6.0,
    max_gap: Annotated[int, typer.Option("--max-gap", help="fill gaps up to this many frames")] = 20,
    person_height: Annotated[float | None, typer.Option("--person-height", help="metres: speeds in m/s")] = None,
    **flags: Any,
) -> None:
    """One person's cleaned signals: segment and joint angles, angular velocities, joint speeds: kinematics.csv."""
    from alphapose_kit.analysis.cleaning import CleaningOptions
    from alphapose_kit.analysis.tasks import analyze_kinematics

    cleaning = CleaningOptions(max_gap=max_gap, filter=filter_name, cutoff=cutoff, min_score=flags["min_score"])
    inputs = _inputs(results, flags)
    _done(analyze_kinematics(inputs, cleaning, person_height, who))


@analyze_app.command("reps")
def reps(
    results: Results,
    exercise: Exercise = "squat",
    angle: Angles = None,
    low: Annotated[float | None, typer.Option("--low", help="angle of the down position (degrees)")] = None,
    high: Annotated[float | None, typer.Option("--high", help="angle of the up position (degrees)")] = None,
    target: Annotated[float | None, typer.Option("--target", help="target depth for the form score")] = None,
    **flags: Any,
) -> None:
    """Count repetitions with hysteresis; per rep: times, range of motion, tempo, form score: reps.json, reps.png."""
    from alphapose_kit.analysis.tasks import analyze_reps

    inputs = _inputs(results, flags)
    _done(analyze_reps(inputs, exercise, angles=angle, low=low, high=high, target=target))


@analyze_app.command("compare")
def compare(
    results: Results,
    reference: Annotated[str, typer.Argument(help="the reference movement: results, run folder or video")],
    mirror: Mirror = False,
    reference_person: Annotated[int | None, typer.Option("--reference-person", help="track id in B")] = None,
    **flags: Any,
) -> None:
    """Similarity of movement A to reference B at any tempo (DTW on normalised poses): compare.json, .png."""
    from alphapose_kit.analysis.tasks import analyze_compare

    inputs = _inputs(results, flags)
    _done(analyze_compare(inputs, reference, reference_person, mirror))


@analyze_app.command("falls")
def falls(
    results: Results,
    **flags: Any,
) -> None:
    """Fall events per track (fast drop to lying, then still): falls.json."""
    from alphapose_kit.analysis.tasks import analyze_falls

    _done(analyze_falls(_inputs(results, flags)))


@analyze_app.command("report")
def report(
    results: Results,
    reference: Annotated[str | None, typer.Option("--reference", help="a reference movement to compare with")] = None,
    exercise: Exercise = "squat",
    mirror: Mirror = False,
    **flags: Any,
) -> None:
    """One self-contained report.html: angles, reps, comparison, falls and key frames for each track."""
    from alphapose_kit.analysis.tasks import analyze_report

    inputs = _inputs(results, flags)
    _done(analyze_report(inputs, reference, exercise, mirror))


for _command in (angles, kinematics_command, reps, compare, falls, report):
    extend_signature(_command, AnalyzeOptions, ANALYZE_FLAGS)
    extend_signature(_command, InferOptions, SHARED_FLAGS)
