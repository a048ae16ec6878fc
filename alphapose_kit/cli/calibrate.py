"""``akit calibrate``: camera intrinsics and extrinsics from checkerboard or ChArUco views, into a Pose2Sim/anipose
calibration TOML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from alphapose_kit.errors import AkitError


def _grid(text: str) -> tuple[int, int]:
    cols, sep, rows = text.lower().partition("x")
    if not sep or not cols.strip().isdigit() or not rows.strip().isdigit():
        raise AkitError(f"--corners must be COLUMNSxROWS (e.g. 9x6), got {text!r}")
    return int(cols), int(rows)


def calibrate_command(
    cameras: Annotated[list[Path], typer.Argument(help="per camera: board images (a folder, an image or a video)")],
    corners: Annotated[
        str, typer.Option("--corners", help="checkerboard: inner corners COLSxROWS; charuco: squares COLSxROWS")
    ],
    square: Annotated[float, typer.Option("--square", help="square side, in the units wanted (metres)")],
    board: Annotated[str, typer.Option("--board", help="checkerboard or charuco")] = "checkerboard",
    marker: Annotated[float, typer.Option("--marker", help="ChArUco marker side (same units)")] = 0.0,
    dictionary: Annotated[str, typer.Option("--dictionary", help="ChArUco ArUco dictionary")] = "DICT_4X4_50",
    extrinsics: Annotated[
        list[Path] | None,
        typer.Option("--extrinsics", help="per camera, in the same order: a view of one board all cameras see"),
    ] = None,
    name: Annotated[
        list[str] | None, typer.Option("--name", help="camera names, in order (default: file stems)")
    ] = None,
    every: Annotated[int, typer.Option("--every", help="use every N-th frame of a video")] = 1,
    output: Annotated[Path, typer.Option("--output", "-o", help="calibration TOML to write")] = Path("calib.toml"),
) -> None:
    """Calibrate cameras from board views; writes the TOML (Pose2Sim / anipose layout) and prints the reprojection
    error of each camera in pixels."""
    from alphapose_kit.multiview.boards import Board
    from alphapose_kit.multiview.calibfile import write_calibration
    from alphapose_kit.multiview.calibrate import calibrate_cameras

    if output.suffix.lower() != ".toml":
        raise AkitError(f"--output must be a .toml file, got {output}")
    cols, rows = _grid(corners)
    spec = Board(board, cols, rows, square, marker, dictionary)
    reports = calibrate_cameras(list(cameras), spec, list(extrinsics) if extrinsics else None, every, name or None)
    errors = [r.extrinsic_error if r.extrinsic_error is not None else r.intrinsic_error for r in reports]
    write_calibration(output, [r.camera for r in reports], float(sum(errors) / len(errors)))
    for r in reports:
        line = f"{r.camera.name}: board in {r.views}/{r.frames} images, intrinsics RMS {r.intrinsic_error:.3f} px"
        if r.extrinsic_error is not None:
            line += f", extrinsics RMS {r.extrinsic_error:.3f} px"
        typer.echo(line)
    if not extrinsics:
        typer.echo("no --extrinsics: cameras are not placed, so akit triangulate cannot use this file yet", err=True)
    typer.echo(str(output))
