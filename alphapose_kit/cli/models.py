"""``akit models``: list, describe, download and verify zoo weights."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

models_app = typer.Typer(help="The model zoo: list, describe, download and verify weights.", no_args_is_help=True)


@models_app.command("list")
def models_list(kind: Annotated[str | None, typer.Option(help="pose or detector")] = None) -> None:
    """Every zoo model with its keypoints, AP and whether its weights are cached."""
    from alphapose_kit.hub.zoo import format_model_table, list_models

    typer.echo(format_model_table(list_models(kind)))


@models_app.command("info")
def models_info(name: str) -> None:
    """Config, official URLs, file name, hash and cache path of one model."""
    from alphapose_kit.hub.zoo import describe_entry, get_entry

    typer.echo(describe_entry(get_entry(name)))


@models_app.command("download")
def models_download(
    names: Annotated[list[str], typer.Argument(help="zoo names")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Download weights into $AKIT_HOME/weights (resumable; prints the sha256 so you can pin it)."""
    from alphapose_kit.hub.zoo import get_entry, resolve_weights

    for name in names:
        get_entry(name)
        path = resolve_weights(name, download=True)
        if not quiet:
            typer.echo(f"{name}: {path}")


@models_app.command("verify")
def models_verify(file: Path) -> None:
    """Hash a weights file, match it to a zoo model and load it strictly into that model."""
    from alphapose_kit.hub.zoo import find_by_file, verify_file

    typer.echo(verify_file(file))
    entry = find_by_file(file)
    if entry is None:
        return
    if entry.kind == "pose":
        from alphapose_kit.hub.zoo import config_path
        from alphapose_kit.models.loader import load_pose_model

        load_pose_model(config_path(entry), file)
    else:
        from alphapose_kit.detectors import load_detector

        load_detector(entry.name, weights=file)
    typer.echo(f"{file}: loads strictly into {entry.name}")
