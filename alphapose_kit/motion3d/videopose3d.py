"""VideoPose3D's temporal lifting network (Pavllo et al., "3D human pose estimation in video with temporal
convolutions and semi-supervised training", CVPR 2019; github.com/facebookresearch/VideoPose3D, common/model.py).

A 1D convolution over time of the flattened 2D joints (``expand_conv``, width w0) is followed by residual blocks,
each a dilated convolution of width w_i (dilation w0 * ... * w_{i-1}) and a 1x1 convolution, with BatchNorm, ReLU and
dropout, and ``shrink`` (1x1) to 3 coordinates per output joint. The receptive field is the product of the widths:
3,3,3 -> 27 frames, 3,3,3,3 -> 81, 3,3,3,3,3 -> 243. Each block trims its residual by its padding, so an input of
T + field - 1 frames gives T outputs. State-dict keys are the original's (``expand_conv``, ``expand_bn``,
``layers_conv.{i}``, ``layers_bn.{i}``, ``shrink``), so its checkpoints load strictly.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class TemporalModel(nn.Module):
    """Dilated temporal convolutions: (N, T + field - 1, J_in, F) 2D poses -> (N, T, J_out, 3)."""

    def __init__(
        self,
        joints_in: int = 17,
        features: int = 2,
        joints_out: int = 17,
        filter_widths: Sequence[int] = (3, 3, 3, 3, 3),
        causal: bool = False,
        dropout: float = 0.25,
        channels: int = 1024,
    ) -> None:
        super().__init__()
        widths = tuple(int(w) for w in filter_widths)
        if not widths or any(w < 1 or w % 2 == 0 for w in widths):
            raise ValueError(f"filter widths must be odd positive integers, got {filter_widths}")
        self.joints_in, self.features, self.joints_out = joints_in, features, joints_out
        self.filter_widths = widths
        self.drop = nn.Dropout(dropout)
        self.relu = nn.ReLU(inplace=True)
        self.expand_conv = nn.Conv1d(joints_in * features, channels, widths[0], bias=False)
        self.expand_bn = nn.BatchNorm1d(channels, momentum=0.1)
        self.pads = [widths[0] // 2]
        self.shifts = [widths[0] // 2 if causal else 0]
        convs: list[nn.Module] = []
        norms: list[nn.Module] = []
        dilation = widths[0]
        for width in widths[1:]:
            self.pads.append((width - 1) * dilation // 2)
            self.shifts.append(width // 2 * dilation if causal else 0)
            convs += [nn.Conv1d(channels, channels, width, dilation=dilation, bias=False)]
            norms += [nn.BatchNorm1d(channels, momentum=0.1)]
            convs += [nn.Conv1d(channels, channels, 1, bias=False)]
            norms += [nn.BatchNorm1d(channels, momentum=0.1)]
            dilation *= width
        self.layers_conv = nn.ModuleList(convs)
        self.layers_bn = nn.ModuleList(norms)
        self.shrink = nn.Conv1d(channels, joints_out * 3, 1)

    @property
    def receptive_field(self) -> int:
        """Frames of input that one output frame sees: 1 + 2 * (sum of the paddings)."""
        return 1 + 2 * sum(self.pads)

    @property
    def causal_shift(self) -> int:
        """How many frames the window leans into the past (0 for the symmetric, non-causal model)."""
        shift, dilation = self.shifts[0], self.filter_widths[0]
        for width, block_shift in zip(self.filter_widths[1:], self.shifts[1:], strict=True):
            shift += block_shift * dilation
            dilation *= width
        return shift

    def forward(self, poses: torch.Tensor) -> torch.Tensor:
        if poses.dim() != 4 or poses.shape[-2:] != (self.joints_in, self.features):
            raise ValueError(f"expected (N, T, {self.joints_in}, {self.features}) poses, got {tuple(poses.shape)}")
        n, t = poses.shape[:2]
        x = poses.reshape(n, t, -1).permute(0, 2, 1)
        x = self.drop(self.relu(self.expand_bn(self.expand_conv(x))))
        for block, (pad, shift) in enumerate(zip(self.pads[1:], self.shifts[1:], strict=True)):
            residual = x[:, :, pad + shift : x.shape[2] - pad + shift]
            x = self.drop(self.relu(self.layers_bn[2 * block](self.layers_conv[2 * block](x))))
            x = residual + self.drop(self.relu(self.layers_bn[2 * block + 1](self.layers_conv[2 * block + 1](x))))
        x = self.shrink(x).permute(0, 2, 1)
        return x.reshape(n, -1, self.joints_out, 3)


def filter_widths_of(state_dict: dict[str, torch.Tensor]) -> tuple[int, ...]:
    """The filter widths a state dict was trained with: ``expand_conv``'s width, then every even ``layers_conv``'s."""
    widths = [int(state_dict["expand_conv.weight"].shape[-1])]
    index = 0
    while f"layers_conv.{index}.weight" in state_dict:
        widths.append(int(state_dict[f"layers_conv.{index}.weight"].shape[-1]))
        index += 2
    return tuple(widths)
