"""``akit``: a thin Typer layer over the library. Every user error is one line on stderr and a non-zero exit."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .errors import AkitError

app = typer.Typer(
    name="akit",
    help="AlphaPose's multi-person pose pipeline: infer, model zoo.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="The model zoo: list, describe, download and verify weights.", no_args_is_help=True)
app.add_typer(models_app, name="models")


def _version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"akit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version")
    ] = False,
) -> None:
    """AlphaPose's multi-person pose pipeline: infer, model zoo."""


def _echo_err(message: str) -> None:
    typer.echo(f"akit: error: {message}", err=True)


@models_app.command("list")
def models_list(kind: Annotated[str | None, typer.Option(help="pose or detector")] = None) -> None:
    """Every zoo model with its keypoints, AP and whether its weights are cached."""
    from .zoo import format_model_table, list_models

    typer.echo(format_model_table(list_models(kind)))


@models_app.command("info")
def models_info(name: str) -> None:
    """Config, official URLs, file name, hash and cache path of one model."""
    from .zoo import describe_entry, get_entry

    typer.echo(describe_entry(get_entry(name)))


@models_app.command("download")
def models_download(
    names: Annotated[list[str], typer.Argument(help="zoo names")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Download weights into $AKIT_HOME/weights (resumable; prints the sha256 so you can pin it)."""
    from .zoo import get_entry, resolve_weights

    for name in names:
        get_entry(name)
        path = resolve_weights(name, download=True)
        if not quiet:
            typer.echo(f"{name}: {path}")


@models_app.command("verify")
def models_verify(file: Path) -> None:
    """Hash a weights file, match it to a zoo model and load it strictly into that model."""
    from .zoo import find_by_file, verify_file

    typer.echo(verify_file(file))
    entry = find_by_file(file)
    if entry is None:
        return
    if entry.kind == "pose":
        from .api import load_pose_model
        from .zoo import config_path

        load_pose_model(config_path(entry), file)
    else:
        from .detectors import load_detector

        load_detector(entry.name, weights=file)
    typer.echo(f"{file}: loads strictly into {entry.name}")


def _split_opts(extra: list[str]) -> list[str]:
    if not extra:
        return []
    if extra[0] != "--opts":
        kind = "option" if extra[0].startswith("-") else "argument"
        raise AkitError(f"unexpected {kind} {extra[0]!r}; see akit infer --help")
    return extra[1:]


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def infer(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="video, image, directory, glob, webcam index or stream URL")],
    config: Annotated[str | None, typer.Option("--cfg", "--config", "-c", help="akit or AlphaPose YAML")] = None,
    checkpoint: Annotated[str | None, typer.Option("--checkpoint", "-w", help="pose weights file or zoo name")] = None,
    detector: Annotated[str, typer.Option("--detector", "-d", help="yolov3-spp, yolov5n/s/m/l/x")] = "yolov3-spp",
    detector_weights: Annotated[str | None, typer.Option("--detector-weights")] = None,
    detfile: Annotated[str | None, typer.Option("--detfile", help="precomputed boxes (AlphaPose format)")] = None,
    outdir: Annotated[str | None, typer.Option("--outdir", "-o", help="default runs/infer/expN")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="alphapose, coco or openpose")] = "alphapose",
    flip: Annotated[bool, typer.Option("--flip", help="flip test (average with the mirrored crop)")] = False,
    save_video: Annotated[bool, typer.Option("--save-video", help="render a video with the poses")] = False,
    save_img: Annotated[bool, typer.Option("--save-img", help="render every frame as an image")] = False,
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N")] = "auto",
    batch: Annotated[int, typer.Option("--batch", "-b", help="pose crops per forward")] = 64,
    det_batch: Annotated[int, typer.Option("--det-batch", help="frames per detector forward")] = 4,
    half: Annotated[bool, typer.Option("--half", help="float16 on CUDA")] = False,
    conf: Annotated[float | None, typer.Option("--conf", help="detector confidence threshold")] = None,
    nms: Annotated[float | None, typer.Option("--nms", help="detector NMS IoU threshold")] = None,
    pose_nms: Annotated[str, typer.Option("--pose-nms", help="pnms, oks or none")] = "pnms",
    min_box_area: Annotated[float, typer.Option("--min-box-area")] = 0.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar or summary")] = False,
    threads: Annotated[int | None, typer.Option("--threads", help="CPU threads for torch (default: all cores)")] = None,
    det_size: Annotated[int | None, typer.Option("--det-size", help="detector letterbox side (608 / 640)")] = None,
) -> None:
    """Detect people and their keypoints; write JSON (streamed, crash-safe) and optionally rendered output.

    Config overrides go last: akit infer video.mp4 --opts MODEL.NUM_LAYERS 101
    """
    from .inference import InferOptions, run_inference

    options = InferOptions(
        source=source,
        config=config,
        checkpoint=checkpoint,
        detector=detector,
        detector_weights=detector_weights,
        detfile=detfile,
        outdir=outdir,
        fmt=fmt,
        flip=flip,
        save_video=save_video,
        save_images=save_img,
        device=device,
        batch=batch,
        det_batch=det_batch,
        half=half,
        conf=conf,
        nms=nms,
        pose_nms=pose_nms,
        min_box_area=min_box_area,
        quiet=quiet,
        threads=threads,
        det_size=det_size,
        opts=_split_opts(list(ctx.args)),
    )
    run_inference(options)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the app, turning AkitError / Ctrl-C / usage errors into one line and an exit code."""
    try:
        code = app(args=argv, standalone_mode=False)
    except AkitError as exc:
        _echo_err(str(exc))
        return 1
    except KeyboardInterrupt:
        _echo_err("interrupted")
        return 130
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        _echo_err("aborted")
        return 130
    except typer.TyperException as exc:  # usage errors: missing argument, bad number, unknown command
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        _echo_err((message.strip().splitlines() or [type(exc).__name__])[0])
        return getattr(exc, "exit_code", 2)
    if code == 130:  # Typer turns Ctrl-C into this exit code
        _echo_err("interrupted")
    return code if isinstance(code, int) else 0


def entry() -> None:
    """``akit`` console script."""
    sys.exit(main())
