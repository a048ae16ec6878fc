"""``akit bench``: latency percentiles and throughput of a pose network per backend and batch, side by side.

Backends are measured in one run, alternating, after a warm-up; ratios are against torch fp32 from the same run.
Writes runs/bench/expN/bench.json and bench.png; ``--source`` adds the pipeline's end-to-end frames/s.
"""

from __future__ import annotations

from typing import Annotated

import typer

from alphapose_kit.errors import AkitError


def bench(
    ctx: typer.Context,
    config: Annotated[str | None, typer.Option("--cfg", "--config", "-c", help="akit or AlphaPose YAML")] = None,
    checkpoint: Annotated[str | None, typer.Option("--checkpoint", "-w", help="pose weights or zoo name")] = None,
    backends: Annotated[str, typer.Option("--backends", help="torch,torchscript,onnxruntime,int8,pruned")] = (
        "torch,onnxruntime,int8"
    ),
    batch: Annotated[str, typer.Option("--batch", "-b", help="batch sizes, e.g. 1,8,32")] = "1,8",
    device: Annotated[str, typer.Option("--device", help="cpu, cuda or cuda:N")] = "cpu",
    rounds: Annotated[int, typer.Option("--rounds", help="timed calls per backend and batch")] = 10,
    warmup: Annotated[int, typer.Option("--warmup", help="untimed calls first")] = 2,
    output: Annotated[str | None, typer.Option("--output", "-o", help="JSON path (default runs/bench/expN)")] = None,
    calib: Annotated[str | None, typer.Option("--calib", help="COCO keypoint file for checks and INT8")] = None,
    prune_ratio: Annotated[float, typer.Option("--prune-ratio", help="for the pruned backend")] = 0.3,
    source: Annotated[str | None, typer.Option("--source", help="video/images for end-to-end frames/s")] = None,
    frames: Annotated[int, typer.Option("--frames", help="frames of --source to time")] = 50,
    detector: Annotated[str, typer.Option("--detector", "-d", help="end-to-end detector")] = "yolov3-spp",
    detector_weights: Annotated[str | None, typer.Option("--detector-weights")] = None,
    detfile: Annotated[str | None, typer.Option("--detfile", help="precomputed boxes instead of a detector")] = None,
    threads: Annotated[int | None, typer.Option("--threads", help="CPU threads for torch")] = None,
) -> None:
    """Benchmark a pose network: p50/p90/p99 latency and throughput per backend and batch, ratios to torch."""
    import torch

    from alphapose_kit.deploy.bench import parse_list, run_bench, table
    from alphapose_kit.deploy.prune import check_ratio
    from alphapose_kit.engine.infer import resolve_model_choice

    extra = list(ctx.args)
    if extra and extra[0] != "--opts":
        raise AkitError(f"unexpected argument {extra[0]!r}; see akit bench --help")
    if threads is not None:
        if threads < 1:
            raise AkitError(f"--threads must be at least 1, got {threads}")
        torch.set_num_threads(threads)
    for flag, value, least in (("--rounds", rounds, 1), ("--warmup", warmup, 0), ("--frames", frames, 1)):
        if value < least:
            raise AkitError(f"{flag} must be at least {least}, got {value}")
    names = parse_list(backends)
    batches = parse_list(batch, int)
    if "pruned" in names:
        check_ratio(prune_ratio)
    config, checkpoint = resolve_model_choice(config, checkpoint)  # type: ignore[assignment]
    finder = None
    if source is not None:
        from alphapose_kit.data.sources import open_source
        from alphapose_kit.deploy.calibration import make_detector

        open_source(source)  # a missing or unreadable source is named before any detector weights are fetched

        finder = make_detector(detector, detector_weights, detfile, device)
    result = run_bench(
        config, checkpoint, backends=names, batches=batches, device=device, rounds=rounds, warmup=warmup,
        output=output, calib=calib, prune_ratio=prune_ratio, source=source, frames=frames, detector=finder,
        opts=extra[1:],
    )  # fmt: skip
    info = result.info
    typer.echo(
        f"# {info['model']}, input {info['input_size']}, {info['machine']} ({info['device']}, {info['threads']} "
        f"threads), {info['rounds']} alternating rounds after {info['warmup']} warm-up"
    )
    typer.echo(table(result.rows))
    for row in result.end_to_end:
        ratio = "" if row["x_torch"] is None else f" ({row['x_torch']:.2f}x torch)"
        typer.echo(f"end to end ({row['backend']}): {row['fps']:.2f} frames/s over {row['frames']} frames{ratio}")
    typer.echo(f"wrote {result.json_path} and {result.png_path}")
