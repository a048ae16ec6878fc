"""``akit lift``: 3D joints from one camera, by a VideoPose3D lifter over each tracked person."""

from __future__ import annotations

from typing import Any

import typer

from alphapose_kit.cli.options_signature import apply_signature, trailing_opts
from alphapose_kit.motion3d.options import LiftOptions


def lift_command(ctx: typer.Context, results: str, **flags: Any) -> None:
    """Lift every track of an akit infer --track run to root-relative 3D (poses3d.json, metres)."""
    from alphapose_kit.motion3d.run import lift

    trailing_opts(list(ctx.args), "lift")
    done = lift(LiftOptions(results=results, **flags))
    typer.echo(f"akit: lifted {done.tracks} tracks, {done.frames} frames -> {done.path}", err=True)


apply_signature(lift_command, LiftOptions, skip=(), positional=("results",))
