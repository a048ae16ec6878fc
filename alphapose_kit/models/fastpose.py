"""FastPose (AlphaPose MODEL.TYPE 'FastPose'): SE-ResNet trunk + PixelShuffle/DUC upsampling head.

State-dict layout (loads AlphaPose checkpoints with strict=True):
``preact.*`` SE-ResNet (optionally with DCN), ``suffle1`` PixelShuffle(2) (misspelt as in AlphaPose; no params),
``duc1.{conv,bn}`` 3x3 512 -> 1024 + BN + ReLU + PixelShuffle(2),
``duc2.{conv,bn}`` 3x3 256 -> 4 * conv_dim + BN + ReLU + PixelShuffle(2), ``conv_out`` 3x3 conv_dim -> K (bias).
Output: N x K x H/4 x W/4 heatmaps.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from yacs.config import CfgNode

from alphapose_kit.errors import ConfigError
from alphapose_kit.models.registry import register_pose_model
from alphapose_kit.models.resnet import (
    ResNet,
    batch_norm,
    cfg_dcn,
    cfg_get,
    cfg_num_joints,
    cfg_num_layers,
    init_head_conv,
)


class DUC(nn.Module):
    """Dense upsampling convolution: 3x3 conv (no bias) -> BN -> ReLU -> PixelShuffle(r)."""

    def __init__(self, in_channels: int, out_channels: int, upscale_factor: int = 2) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False)
        self.bn = batch_norm(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pixel_shuffle(self.relu(self.bn(self.conv(x))))


class FastPose(nn.Module):
    """SE-ResNet-{50,101,152} + DUC head; ``conv_dim`` 128 or 256 in the published models."""

    def __init__(
        self,
        num_joints: int = 17,
        num_layers: int = 50,
        conv_dim: int = 128,
        stage_with_dcn: Sequence[bool] = (False, False, False, False),
        dcn_modulated: bool = False,
        deform_groups: int = 1,
    ) -> None:
        super().__init__()
        if num_joints <= 0:
            raise ValueError(f"num_joints must be positive, got {num_joints}")
        if conv_dim <= 0:
            raise ValueError(f"conv_dim must be positive, got {conv_dim}")
        self.num_joints = num_joints
        self.conv_dim = conv_dim
        self.preact = ResNet(
            num_layers,
            with_se=True,
            stage_with_dcn=stage_with_dcn,
            dcn_modulated=dcn_modulated,
            deform_groups=deform_groups,
        )
        self.suffle1 = nn.PixelShuffle(2)  # 2048 -> 512 channels, H/32 -> H/16
        self.duc1 = DUC(512, 1024)  # -> 256 channels, H/8
        self.duc2 = DUC(256, 4 * conv_dim)  # -> conv_dim channels, H/4
        self.conv_out = nn.Conv2d(conv_dim, num_joints, kernel_size=3, stride=1, padding=1)
        self.init_weights()

    def init_weights(self) -> None:
        """AlphaPose's training init of the head: conv_out ~ N(0, 0.001), bias 0 (the trunk keeps its weights)."""
        init_head_conv(self.conv_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.suffle1(self.preact(x))
        out = self.duc2(self.duc1(out))
        return self.conv_out(out)


@register_pose_model("FastPose")
def build_fastpose(cfg: CfgNode) -> FastPose:
    """FastPose from DATA_PRESET.NUM_JOINTS, MODEL.{NUM_LAYERS, CONV_DIM, STAGE_WITH_DCN, DCN.*}."""
    conv_dim = cfg_get(cfg, "MODEL.CONV_DIM", 128)
    if not isinstance(conv_dim, int) or isinstance(conv_dim, bool) or conv_dim <= 0:
        raise ConfigError(f"MODEL.CONV_DIM must be a positive integer (128 or 256), got {conv_dim!r}")
    try:
        return FastPose(
            num_joints=cfg_num_joints(cfg),
            num_layers=cfg_num_layers(cfg, "FastPose"),
            conv_dim=conv_dim,
            **cfg_dcn(cfg),
        )
    except ValueError as exc:
        raise ConfigError(f"cannot build FastPose: {exc}") from None
