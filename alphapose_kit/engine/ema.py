"""Exponential moving average of a model's weights, for evaluation and the saved checkpoints (Polyak averaging).

The decay ramps up with the number of updates as TensorFlow's ``ExponentialMovingAverage(num_updates=...)`` does,
``min(decay, (1 + n) / (10 + n))``, so the first steps do not drag the average towards the random initialisation.
Buffers (BatchNorm statistics) are copied, not averaged.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class ModelEMA:
    """A frozen copy of ``model`` updated after each optimiser step: ``ema = d * ema + (1 - d) * weights``."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0 < decay < 1:
            raise ValueError(f"EMA decay must lie in (0, 1), got {decay}")
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.decay = decay
        self.updates = 0

    def current_decay(self) -> float:
        """The decay the next update uses."""
        n = self.updates + 1
        return min(self.decay, (1 + n) / (10 + n))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Fold the model's current weights into the average."""
        d = self.current_decay()
        self.updates += 1
        params = dict(model.named_parameters())
        for name, avg in self.module.named_parameters():
            avg.mul_(d).add_(params[name].detach(), alpha=1 - d)
        buffers = dict(model.named_buffers())
        for name, buf in self.module.named_buffers():
            buf.copy_(buffers[name])

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The averaged weights (a plain state_dict, loadable by ``load_pose_model``)."""
        return self.module.state_dict()
