"""A tiny pose network registered as MODEL.TYPE ``TinyPoseTest`` for fast training tests (mechanics and the
memorisation proof): conv-BN-ReLU stem at strides 2 and 4, a small encoder-decoder for context, 1x1 joint head.
Output ``(N, K, H/4, W/4)`` like every AlphaPose network; importing this module registers it."""

from __future__ import annotations

import torch
from torch import nn
from yacs.config import CfgNode

from alphapose_kit.models.registry import register_pose_model

TINY_OPTS = ["MODEL.TYPE", "TinyPoseTest"]


def _block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class TinyPose(nn.Module):
    def __init__(self, num_joints: int, width: int = 32) -> None:
        super().__init__()
        self.stem = nn.Sequential(_block(3, width // 2, 2), _block(width // 2, width, 2), _block(width, width))
        self.down = nn.Sequential(
            _block(width, 2 * width, 2), _block(2 * width, 2 * width, 2), _block(2 * width, 2 * width)
        )
        self.up = nn.Sequential(
            nn.Upsample(scale_factor=4, mode="bilinear", align_corners=False), _block(2 * width, width)
        )
        self.head = nn.Sequential(_block(2 * width, width), nn.Conv2d(width, num_joints, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = self.stem(x)
        return self.head(torch.cat([skip, self.up(self.down(skip))], dim=1))


@register_pose_model("TinyPoseTest")
def build_tiny(cfg: CfgNode) -> TinyPose:
    return TinyPose(int(cfg.DATA_PRESET.NUM_JOINTS))
