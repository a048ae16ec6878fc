"""``akit train``'s options, declared once: each field carries its CLI flags and help (the CLI is made from them).
Kept apart from the trainer so that building the CLI imports no torch."""

from __future__ import annotations

from dataclasses import dataclass, field

from alphapose_kit.engine.options import config_option, device_option, option, outdir_option, quiet_option


@dataclass(kw_only=True)
class TrainOptions:
    """What ``akit train`` takes, declared once (each field carries its CLI flags and help). ``None`` keeps the
    config's value; ``--opts`` pairs are applied before the flags. ``config`` may also be a loaded CfgNode."""

    config: str | None = config_option()
    train_ann: str | None = option(None, "--train-ann", help="COCO-format keypoint file to train on")
    train_images: str | None = option(None, "--train-images", help="folder of the training images")
    val_ann: str | None = option(None, "--val-ann", help="COCO-format keypoint file to validate on")
    val_images: str | None = option(None, "--val-images", help="folder of the validation images")
    epochs: int | None = option(None, "--epochs", help="TRAIN.END_EPOCH")
    batch: int | None = option(None, "--batch", "-b", help="TRAIN.BATCH_SIZE per process")
    lr: float | None = option(None, "--lr", help="TRAIN.LR")
    seed: int | None = option(None, "--seed", help="TRAIN.SEED (sample order and augmentation)")
    device: str = device_option("auto, cpu, cuda or cuda:N (torchrun: one GPU per process)")
    outdir: str | None = outdir_option("train")
    resume: str | None = option(None, "--resume", help="continue a run: its folder or its last.pth")
    init_from: str | None = option(None, "--init-from", help="start from these weights (AlphaPose, akit, ImageNet)")
    quiet: bool = quiet_option()
    opts: list[str] = field(default_factory=list)  # config overrides: --opts KEY VALUE ... (last on the line)
