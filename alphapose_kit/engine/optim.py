"""The optimiser of a training run: ``TRAIN.OPTIMIZER`` (AlphaPose's Adam, or AdamW, SGD, RMSprop) over the
model's trainable parameters. The rate itself is set each step from :mod:`alphapose_kit.engine.schedule`."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from yacs.config import CfgNode

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")


def build_optimizer(model: nn.Module, cfg: CfgNode) -> torch.optim.Optimizer:
    """``TRAIN.OPTIMIZER`` over the model's parameters; weight decay (when set) skips biases and norm weights."""
    train = cfg.TRAIN
    name, lr, decay = train.OPTIMIZER.lower(), float(train.LR), float(train.WEIGHT_DECAY)
    params = [p for p in model.parameters() if p.requires_grad]
    groups: list[dict[str, Any]] = [{"params": params}]
    if decay > 0:
        groups = [
            {"params": [p for p in params if p.ndim > 1], "weight_decay": decay},
            {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0},
        ]
    if name == "adam":
        return torch.optim.Adam(groups, lr=lr)
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr, weight_decay=decay)
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=float(train.MOMENTUM))
    return torch.optim.RMSprop(groups, lr=lr)
