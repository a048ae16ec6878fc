"""Deformable convolution (DCN v1 and the modulated v2) on ``torchvision.ops.deform_conv2d``.

No custom CUDA extension: torchvision ships CPU and CUDA kernels. The parameter layout is the one AlphaPose's
checkpoints use for a deformable ``conv2``: a single ``weight`` of shape (out, in / groups, kh, kw) and no bias.

Offsets and masks come from outside (AlphaPose predicts them with a sibling ``conv2_offset`` convolution).
Offset layout, per deformable group and kernel tap ``t = kw * i + j`` (row-major over the kernel):
channel ``2 t`` is the vertical shift dy and ``2 t + 1`` the horizontal shift dx, in input pixels. Samples are
taken by bilinear interpolation with zeros outside the feature map. A modulated conv additionally multiplies
the sample of tap ``t`` by ``mask[:, t]`` (one mask channel per tap and deformable group).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.modules.utils import _pair


def offset_channels(kernel_size: int | tuple[int, int], deform_groups: int = 1, modulated: bool = False) -> int:
    """Channels of the offset (and mask) map a deformable conv needs: 2 per tap (+1 mask per tap if modulated)."""
    kh, kw = _pair(kernel_size)
    per_tap = 3 if modulated else 2
    return deform_groups * per_tap * kh * kw


class DeformConv2d(nn.Module):
    """Deformable convolution (DCN v1): ``forward(x, offset)``.

    ``offset`` has ``deform_groups * 2 * kh * kw`` channels and the spatial size of the output.
    With all offsets zero this is exactly ``nn.functional.conv2d`` with the same weight.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int] = 3,
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 1,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        deform_groups: int = 1,
        bias: bool = False,
    ) -> None:
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"in_channels {in_channels} and out_channels {out_channels} must divide by groups {groups}"
            )
        if in_channels % deform_groups:
            raise ValueError(f"in_channels {in_channels} must divide by deform_groups {deform_groups}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride)
        self.padding = _pair(padding)
        self.dilation = _pair(dilation)
        self.groups = groups
        self.deform_groups = deform_groups
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels // groups, *self.kernel_size))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_channels))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # Same distribution as nn.Conv2d's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        fan_in = (self.in_channels // self.groups) * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / math.sqrt(fan_in)
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    @property
    def offset_channels(self) -> int:
        return offset_channels(self.kernel_size, self.deform_groups, modulated=False)

    def _run(self, x: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        from torchvision.ops import deform_conv2d  # lazy: only DCN models pay torchvision's import time

        return deform_conv2d(
            x,
            offset,
            self.weight,
            self.bias,
            stride=self.stride,
            padding=self.padding,
            dilation=self.dilation,
            mask=mask,
        )

    def forward(self, x: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
        return self._run(x, offset, None)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, dilation={self.dilation}, groups={self.groups}, "
            f"deform_groups={self.deform_groups}, bias={self.bias is not None}"
        )


class ModulatedDeformConv2d(DeformConv2d):
    """Modulated deformable convolution (DCN v2): ``forward(x, offset, mask)``.

    ``offset`` has ``deform_groups * 2 * kh * kw`` channels, ``mask`` ``deform_groups * kh * kw`` (already
    passed through a sigmoid by the caller).
    """

    @property
    def offset_channels(self) -> int:
        return offset_channels(self.kernel_size, self.deform_groups, modulated=True)

    def forward(self, x: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return self._run(x, offset, mask)
