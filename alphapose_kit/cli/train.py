"""``akit train``: train or fine-tune a pose network (AlphaPose's recipe by default); DDP under torchrun.

The flags are made from :class:`~alphapose_kit.engine.train_options.TrainOptions`'s fields; the work is
:func:`alphapose_kit.engine.trainer.train`. Under torchrun only rank 0 prints.
"""

from __future__ import annotations

from typing import Any

import typer

from alphapose_kit.cli.options_signature import apply_signature, trailing_opts
from alphapose_kit.engine.train_options import TrainOptions
from alphapose_kit.utils.logging import is_main_process


def train_command(ctx: typer.Context, **flags: Any) -> None:
    """Train a pose network on COCO-format keypoints; writes runs/train/expN (last.pth, best.pth, metrics.csv ...).

    akit train --config coco/fastpose_res50_256x192 --train-ann A.json --train-images DIR --val-ann V.json
    --val-images DIR [--epochs N] [--batch N] [--lr X] [--resume RUN] [--init-from CKPT] [--opts KEY VALUE ...]

    Many GPUs: torchrun --nproc_per_node N -m alphapose_kit train ...
    """
    from alphapose_kit.engine.trainer import train

    result = train(TrainOptions(opts=trailing_opts(list(ctx.args), "train"), **flags))
    if not is_main_process():
        return
    best = f"; best AP {result.best_ap:.4f} (best.pth)" if result.best_ap is not None else ""
    typer.echo(f"trained {result.epochs_done} epochs{best} -> {result.run_dir}")


apply_signature(train_command, TrainOptions)
