"""Synchronised BatchNorm for ``TRAIN.SYNC_BN``: torch's ``SyncBatchNorm`` on GPUs (NCCL), and on CPUs (gloo), where
torch's class refuses to run, :class:`CpuSyncBatchNorm2d`: batch statistics summed over every process with a
differentiable ``all_reduce``, so one step of N processes with batch b equals one process with batch N * b.
State-dict names stay those of ``BatchNorm2d``: checkpoints load into the plain network."""

from __future__ import annotations

import itertools
from typing import Any

import torch
import torch.distributed as dist
from torch import nn


class _AllReduceSum(torch.autograd.Function):
    """Sum over processes whose gradient is the sum of the processes' gradients (each rank's loss reaches every
    rank's inputs through the shared statistics)."""

    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor) -> torch.Tensor:
        out = tensor.clone()
        dist.all_reduce(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        out = grad.clone()
        dist.all_reduce(out)
        return out


class CpuSyncBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training-mode mean and variance are taken over the whole distributed batch."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or not dist.is_initialized() or dist.get_world_size() == 1:
            return super().forward(x)
        channels = x.shape[1]
        dims = (0, 2, 3)
        # two passes (mean, then squared deviations), as precise as the single-process BatchNorm
        first = _AllReduceSum.apply(torch.cat([x.sum(dim=dims), x.new_tensor([x.numel() / channels])]))
        count = first[-1]
        mean = first[:channels] / count
        centred = x - mean.view(1, channels, 1, 1)
        var = _AllReduceSum.apply((centred * centred).sum(dim=dims)) / count
        if self.track_running_stats and self.running_mean is not None and self.running_var is not None:
            with torch.no_grad():
                tracked = self.num_batches_tracked
                if tracked is not None:
                    tracked.add_(1)
                if self.momentum is not None:
                    factor = float(self.momentum)
                else:  # cumulative average, as BatchNorm with momentum=None
                    factor = 1.0 / float(tracked) if tracked is not None else 1.0
                unbiased = var * count / (count - 1)
                self.running_mean.mul_(1 - factor).add_(mean.detach(), alpha=factor)
                self.running_var.mul_(1 - factor).add_(unbiased.detach(), alpha=factor)
        shape = (1, channels, 1, 1)
        out = centred * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        return out


def convert_sync_batchnorm(model: nn.Module, device: torch.device) -> nn.Module:
    """Every ``BatchNorm2d`` made synchronised: torch's ``SyncBatchNorm`` on CUDA, :class:`CpuSyncBatchNorm2d` else."""
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(model)
    for name, child in model.named_children():
        if type(child) is nn.BatchNorm2d:
            sync = CpuSyncBatchNorm2d(
                child.num_features, child.eps, child.momentum, child.affine, child.track_running_stats
            )
            sync.load_state_dict(child.state_dict())
            ref = next(itertools.chain(child.parameters(), child.buffers()), None)
            setattr(model, name, sync if ref is None else sync.to(ref.device))
        else:
            convert_sync_batchnorm(child, device)
    return model
