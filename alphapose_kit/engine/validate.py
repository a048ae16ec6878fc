"""Validation during training through ``akit eval``'s evaluator (``alphapose_kit.evaluate``): COCO AP with the
ground-truth boxes of ``DATASET.VAL`` (AlphaPose's ``validate_gt``, no flip), and with detected boxes as well when
``DATASET.VAL.DET_FILE`` names a detection file (AlphaPose's ``validate``). Under torchrun every process takes its
share of the images and all of them get the numbers."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
from yacs.config import CfgNode

from alphapose_kit.data.coco import CocoAnnotations
from alphapose_kit.errors import AkitError

#: ``validator(model, epoch) -> {"AP": ..., "AP_det": ...}``; called on every process with the model in eval mode.
Validator = Callable[[nn.Module, int], dict[str, float]]


def coco_validator(
    cfg: CfgNode, ann_file: Path, image_dir: Path, config_file: Path, outdir: Path, device: torch.device
) -> Validator:
    """A validator over a COCO-format annotation file; the file and its images are checked now, not mid-run.

    ``config_file`` is the run's resolved config (the evaluator reads the keypoint set and decoder from it);
    ``outdir`` receives the evaluator's ``metrics.json`` and results of the latest validation.
    """
    annotations = CocoAnnotations(ann_file)
    if annotations.num_joints != int(cfg.DATA_PRESET.NUM_JOINTS):
        raise AkitError(
            f"validation: the model predicts {cfg.DATA_PRESET.NUM_JOINTS} joints but {annotations.path.name} scores "
            f"{annotations.num_joints} ('keypoints'); pass --val-ann with a file of the model's joints, or --opts "
            "TRAIN.VAL_INTERVAL 0 to train without validation"
        )
    annotations.check_images(image_dir)
    det_file = str(cfg.DATASET.VAL.DET_FILE or "")
    boxes = f"gt,{det_file}" if det_file else "gt"

    def validate(model: nn.Module, epoch: int) -> dict[str, float]:
        from alphapose_kit.evaluation import evaluate

        metrics = evaluate(
            annotations.path,
            image_dir,
            model=copy.deepcopy(model),  # the evaluator may change the memory format; training must not see it
            config=str(config_file),
            boxes=boxes,
            device=str(device),
            outdir=str(outdir),
            exist_ok=True,  # the run's own val/ folder: each validation (a resumed run's too) replaces the last
            quiet=True,
        )
        if det_file:
            return {"AP": float(metrics["gt"]["AP"]), "AP_det": float(metrics["det"]["AP"])}
        return {"AP": float(metrics["AP"])}

    return validate
