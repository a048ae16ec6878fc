"""``akit triangulate``: 3D poses from the tracked 2D results of several calibrated cameras -> poses3d.json and an
OpenSim TRC."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from alphapose_kit.errors import AkitError


def triangulate_command(
    runs: Annotated[list[str], typer.Argument(help="per camera: an akit infer --track run folder or results file")],
    calib: Annotated[Path, typer.Option("--calib", help="calibration TOML (akit calibrate, Pose2Sim or anipose)")],
    camera: Annotated[
        list[str] | None,
        typer.Option("--camera", help="the calibration's camera of each run, in order (default: file order)"),
    ] = None,
    offset: Annotated[
        list[int] | None, typer.Option("--offset", help="per run, in order: its frame f is common frame f - OFFSET")
    ] = None,
    sync: Annotated[str | None, typer.Option("--sync", help="auto: offsets from the people's vertical speeds")] = None,
    fps: Annotated[float | None, typer.Option("--fps", help="frame rate (default: the runs' run.json)")] = None,
    keypoints: Annotated[
        str | None, typer.Option("--keypoints", help="keypoint set name (default: run.json's)")
    ] = None,
    min_score: Annotated[float, typer.Option("--min-score", help="2D joints scored below this are not used")] = 0.3,
    max_error: Annotated[
        float, typer.Option("--max-error", help="drop views reprojecting farther than this (px)")
    ] = 15.0,
    units: Annotated[str, typer.Option("--units", help="the calibration's length unit, for the TRC header")] = "m",
    outdir: Annotated[str | None, typer.Option("--outdir", "-o", help="default runs/triangulate/expN")] = None,
    exist_ok: Annotated[bool, typer.Option("--exist-ok", help="replace an earlier triangulation in --outdir")] = False,
) -> None:
    """Triangulate people seen by several cameras: writes poses3d.json (the calibration's world, Z up) and
    markers.trc (Y up, as OpenSim reads it; markers_<idx>.trc for each further person)."""
    from alphapose_kit.multiview.session import run_triangulation

    if sync not in (None, "auto"):
        raise AkitError(f"--sync takes only 'auto', got {sync!r}")
    if sync and offset:
        raise AkitError("give --offset or --sync auto, not both")
    for path in run_triangulation(
        runs, calib, camera, offset, sync == "auto", fps, keypoints, min_score, max_error, units, outdir, exist_ok
    ):
        typer.echo(str(path))
