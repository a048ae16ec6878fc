"""``akit infer``: detect people and their keypoints in images, videos, cameras and streams."""

from __future__ import annotations

from typing import Annotated

import typer

from alphapose_kit.errors import AkitError


def _split_opts(extra: list[str]) -> list[str]:
    if not extra:
        return []
    if extra[0] != "--opts":
        kind = "option" if extra[0].startswith("-") else "argument"
        raise AkitError(f"unexpected {kind} {extra[0]!r}; see akit infer --help")
    return extra[1:]


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
    from alphapose_kit.engine.infer import InferOptions, run_inference

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
