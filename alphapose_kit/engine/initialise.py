"""The weights a training run starts from: ``--init-from``, the config's ``MODEL.PRETRAINED`` / ``TRY_LOAD``, or
the network's own initialisation, in AlphaPose's order (``scripts/train.py``)."""

from __future__ import annotations

from pathlib import Path

from torch import nn
from yacs.config import CfgNode

from alphapose_kit.engine.checkpoints import InitReport, init_from
from alphapose_kit.io.checkpoint import load_into, read_state_dict
from alphapose_kit.models.loader import model_name
from alphapose_kit.utils.logging import get_logger

LOG = get_logger("train")


def initialise(model: nn.Module, cfg: CfgNode, source: str | Path | None) -> InitReport | None:
    """The start of a run: ``--init-from`` (``source``) loaded where names and shapes fit, with a report; else
    AlphaPose's order: ``MODEL.PRETRAINED`` loaded strictly, ``MODEL.TRY_LOAD`` loaded where it fits, or the model's
    own training initialisation (AlphaPose's ``_initialize``)."""
    init_weights = getattr(model, "init_weights", None)
    if callable(init_weights):
        init_weights()
    if source:
        return init_from(model, source)
    if cfg.MODEL.PRETRAINED:
        load_into(model, read_state_dict(cfg.MODEL.PRETRAINED), model_name(cfg), cfg.MODEL.PRETRAINED)
        return None
    if cfg.MODEL.TRY_LOAD:
        return init_from(model, cfg.MODEL.TRY_LOAD)
    if hasattr(model, "preact"):
        LOG.warning(
            "the ResNet-%d trunk starts from random weights; AlphaPose starts it from ImageNet: pass --init-from "
            "torchvision's resnet%d weights file",
            cfg.MODEL.NUM_LAYERS,
            cfg.MODEL.NUM_LAYERS,
        )
    return None
