"""``akit models``: list, describe, download and verify zoo weights."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from alphapose_kit.engine.weights_report import WeightsReport

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
    from alphapose_kit.hub.zoo import ensure_weights, get_entry

    entries = [get_entry(name) for name in names]  # zoo names only, checked before any download
    paths = ensure_weights([entry.name for entry in entries])  # every failure named in one line
    if not quiet:
        for name, path in zip(names, paths, strict=True):
            typer.echo(f"{name}: {path}")


@models_app.command("verify")
def models_verify(
    file: Path,
    config: Annotated[
        str | None, typer.Option("--cfg", "--config", "-c", help="check against this pose config, not the zoo")
    ] = None,
) -> None:
    """Say whether a file is a checkpoint, which zoo file it is and which network it loads into (exit 1 if none)."""
    from alphapose_kit.engine.weights_report import verify_weights
    from alphapose_kit.errors import AkitError

    report = verify_weights(file, config)
    typer.echo(_report_text(report))
    if not report.ok:
        raise AkitError(report.problem or f"{file} loads into no known network")


_FORMATS = {
    "pytorch": "PyTorch state_dict",
    "ultralytics": "Ultralytics YOLOv5 checkpoint",
    "darknet": "darknet weights",
    "torchscript": "TorchScript export",
    "onnx": "ONNX export",
    "none": "not a checkpoint",
}


def _report_text(report: WeightsReport) -> str:
    lines = [f"{report.path}: {report.size} bytes, sha256 {report.sha256}"]
    fmt = _FORMATS[report.format]
    if report.tensors:
        fmt += f", {report.tensors} tensors"
    if report.looks_like:
        fmt += f" (looks like {report.looks_like})"
    lines.append(f"format:     {fmt}")
    entry = report.zoo_entry
    if entry is None:
        lines.append("zoo file:   matches no zoo file")
    elif report.zoo_match == "sha256":
        lines.append(f"zoo file:   {entry.name} (sha256 verified)")
    elif report.zoo_match == "name":
        lines.append(f"zoo file:   {entry.name} by file name only (no sha256 pinned for it)")
    else:
        lines.append(
            f"zoo file:   named like {entry.name}, but its sha256 differs from the pinned {entry.sha256}: "
            "the file is corrupt or a different checkpoint"
        )
    if report.format in ("torchscript", "onnx") and report.fits:
        lines.append(f"use with:   {', '.join(report.fits)}")
        return "\n".join(lines)
    fits = f"{', '.join(report.fits)} (strictly: every key and shape)" if report.fits else "nothing known"
    lines.append(f"loads into: {fits}")
    return "\n".join(lines)
