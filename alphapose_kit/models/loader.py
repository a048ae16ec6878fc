"""``load_pose_model``: config (+ checkpoint) -> pose network in eval mode, ready for normalised crops."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from yacs.config import CfgNode

from alphapose_kit.config import load_config
from alphapose_kit.hub.zoo import resolve_weights
from alphapose_kit.io.checkpoint import load_into, read_state_dict
from alphapose_kit.models.choice import check_fits_checkpoint
from alphapose_kit.models.registry import build_pose_model
from alphapose_kit.utils.device import as_device


def model_name(cfg: CfgNode) -> str:
    """A readable name of the network a config builds, e.g. 'FastPose (ResNet-50, 17 joints)'."""
    model = cfg.MODEL
    if model.TYPE in ("PoseHighResolutionNet", "HRNet"):
        arch = f"HRNet-W{model.STAGE2.NUM_CHANNELS[0]}"
    else:
        arch = f"ResNet-{model.NUM_LAYERS}"
        if model.TYPE == "FastPose_DUC":
            arch = f"{model.BACKBONE} {arch}"
        if any(model.STAGE_WITH_DCN):
            arch += ", DCN"
    return f"{model.TYPE} ({arch}, {cfg.DATA_PRESET.NUM_JOINTS} joints)"


def load_pose_model(
    config: str | Path | CfgNode,
    checkpoint: str | Path | None = None,
    device: str | torch.device = "cpu",
) -> nn.Module:
    """Build the pose network an akit or AlphaPose YAML describes, load weights strictly, return it in eval mode.

    ``forward(x)`` takes N x 3 x H x W crops normalised the AlphaPose way (RGB/255 minus (0.406, 0.457, 0.480))
    and returns N x K x H/4 x W/4 heatmaps. ``checkpoint`` is a file, or a zoo name or zoo file name meaning the
    zoo's cached copy (the rule of :func:`~alphapose_kit.hub.zoo.resolve_weights`); None keeps random weights.
    An akit checkpoint trained with another network or input size than ``config`` is refused, naming the key.
    """
    cfg = load_config(config)
    target = as_device(device)
    model = build_pose_model(cfg)
    if checkpoint is not None:
        path = resolve_weights(checkpoint, kind="pose")
        check_fits_checkpoint(cfg, path)
        load_into(model, read_state_dict(path), model_name(cfg), path)
    return model.to(target).eval()
