"""``akit export``: pose networks and detectors to ONNX / TorchScript (fp32, fp16, INT8) and channel pruning.

Every export is checked against PyTorch on real people before it is kept; the check's numbers are printed.
Config overrides go last: akit export --cfg C --checkpoint W --opts DATA_PRESET.IMAGE_SIZE [128,96]
"""

from __future__ import annotations

from typing import Annotated

import typer

from alphapose_kit.errors import AkitError


def _split_opts(extra: list[str]) -> list[str]:
    if extra and extra[0] == "--opts":
        return extra[1:]
    if extra:
        raise AkitError(f"unexpected argument {extra[0]!r}; see akit export --help")
    return []


def _names(values: list[str] | None) -> tuple[str, ...]:
    """``--keep-fp32 a,b --keep-fp32 c`` -> ('a', 'b', 'c')."""
    return tuple(name.strip() for value in values or [] for name in value.split(",") if name.strip())


def export(
    ctx: typer.Context,
    config: Annotated[str | None, typer.Option("--cfg", "--config", "-c", help="akit or AlphaPose YAML")] = None,
    checkpoint: Annotated[str | None, typer.Option("--checkpoint", "-w", help="pose weights or zoo name")] = None,
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="onnx or torchscript")] = None,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="file or folder (default runs/export/expN)")
    ] = None,
    dynamic_batch: Annotated[bool, typer.Option("--dynamic-batch", help="any batch size (default: 1)")] = False,
    opset: Annotated[int, typer.Option("--opset", help="ONNX opset (DCN needs 19)")] = 19,
    half: Annotated[bool, typer.Option("--half", help="float16 weights and input")] = False,
    detector: Annotated[
        str | None, typer.Option("--detector", help="export this detector (yolov3-spp, yolov5s...)")
    ] = None,
    detector_weights: Annotated[str | None, typer.Option("--detector-weights", help="detector weights file")] = None,
    input_size: Annotated[int | None, typer.Option("--input-size", help="detector letterbox side")] = None,
    int8: Annotated[bool, typer.Option("--int8", help="INT8 static quantisation (ONNX Runtime, QDQ)")] = False,
    calib: Annotated[str | None, typer.Option("--calib", help="COCO keypoint file, images or video of people")] = None,
    calib_images: Annotated[str | None, typer.Option("--calib-images", help="image folder of a COCO file")] = None,
    calib_detector: Annotated[
        str, typer.Option("--calib-detector", help="finds people in --calib images")
    ] = "yolov3-spp",
    calib_detector_weights: Annotated[str | None, typer.Option("--calib-detector-weights")] = None,
    calib_detfile: Annotated[str | None, typer.Option("--calib-detfile", help="boxes for --calib images")] = None,
    calib_method: Annotated[str, typer.Option("--calib-method", help="minmax, entropy or percentile")] = "minmax",
    calib_size: Annotated[int, typer.Option("--calib-size", help="crops to calibrate on")] = 64,
    per_channel: Annotated[bool, typer.Option("--per-channel/--per-tensor", help="weight scales")] = True,
    keep_fp32: Annotated[list[str] | None, typer.Option("--keep-fp32", help="layers left in fp32 (a,b)")] = None,
    min_agreement: Annotated[float, typer.Option("--min-agreement", help="INT8 keypoint agreement floor")] = 0.9,
    prune: Annotated[float | None, typer.Option("--prune", help="channel ratio to remove, in (0, 1)")] = None,
    importance: Annotated[str, typer.Option("--importance", help="l1, l2 or taylor")] = "l2",
    threads: Annotated[int | None, typer.Option("--threads", help="CPU threads for torch")] = None,
) -> None:
    """Export a pose network or detector, checked against PyTorch on real people; INT8; pruning."""
    import torch

    from alphapose_kit.deploy.export import check_format, export_detector, export_pose

    opts = _split_opts(list(ctx.args))
    if threads is not None:
        if threads < 1:
            raise AkitError(f"--threads must be at least 1, got {threads}")
        torch.set_num_threads(threads)
    if prune is not None:
        from alphapose_kit.deploy.prune import check_ratio

        check_ratio(prune)
        if fmt is None and (int8 or half):
            fmt = "onnx"  # --prune alone writes YAML + .pth; --int8 / --half then export the pruned network
    if fmt is not None or prune is None:
        check_format(fmt or "onnx", half, int8)
    if detector is not None:
        if int8 or prune is not None:
            raise AkitError("--int8 and --prune apply to pose networks, not to --detector exports")
        result = export_detector(
            detector, detector_weights, fmt=fmt or "onnx", output=output, input_size=input_size,
            opset=opset, dynamic_batch=dynamic_batch, half=half, calib=calib,
        )  # fmt: skip
        typer.echo(result.comparison.line())
        typer.echo(result.line())
        return
    from alphapose_kit.engine.infer import resolve_model_choice

    config, checkpoint = resolve_model_choice(config, checkpoint)  # type: ignore[assignment]
    calib_finder = None
    if calib is not None and not calib.lower().endswith(".json"):
        from alphapose_kit.deploy.calibration import make_detector

        calib_finder = make_detector(calib_detector, calib_detector_weights, calib_detfile)
    model = None
    if prune is not None:
        from alphapose_kit.deploy.prune import prune_pose

        pruned = prune_pose(config, checkpoint, prune, importance=importance, output=output, calib=calib, opts=opts)
        typer.echo(pruned.line())
        typer.echo(f"wrote {pruned.config_path} and {pruned.checkpoint_path}")
        if fmt is None:
            return
        config, checkpoint, model, opts = pruned.cfg, None, pruned.model, []
        output = str(pruned.config_path.with_suffix(".onnx" if fmt == "onnx" else ".pt"))
    int8_options = None
    if int8:
        from alphapose_kit.deploy.quantize import Int8Options

        int8_options = Int8Options(
            method=calib_method, calib_size=calib_size, per_channel=per_channel, keep_fp32=_names(keep_fp32),
            min_agreement=min_agreement,
        )  # fmt: skip
    result = export_pose(
        config, checkpoint, fmt=fmt or "onnx", output=output, opset=opset, dynamic_batch=dynamic_batch, half=half,
        int8=int8_options, calib=calib, calib_images=calib_images, detector=calib_finder, opts=opts, model=model,
    )  # fmt: skip
    typer.echo(result.comparison.line())
    if result.report:
        from alphapose_kit.deploy.int8 import summary_lines

        for line in summary_lines(result.report):
            typer.echo(line)
    typer.echo(result.line())
