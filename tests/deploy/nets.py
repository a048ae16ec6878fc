"""A small FastPose-shaped network registered as MODEL.TYPE ``TinyDUCDeployTest`` (importing this module registers
it): strided conv stem, one residual block, FastPose's DUC (conv -> BN -> ReLU -> PixelShuffle(2)) and a 3x3 joint
classifier, so exports, INT8 and PixelShuffle-aware pruning run in seconds. Output ``(N, K, H/4, W/4)``."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from yacs.config import CfgNode

from alphapose_kit.config import load_config
from alphapose_kit.models.fastpose import DUC
from alphapose_kit.models.registry import build_pose_model, register_pose_model

SMALL = ["DATA_PRESET.IMAGE_SIZE", "[128,96]", "DATA_PRESET.HEATMAP_SIZE", "[32,24]"]
TINY = ["MODEL.TYPE", "TinyDUCDeployTest", *SMALL]
COCO_CFG = "coco/fastpose_res50_256x192"


def _block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class TinyDUC(nn.Module):
    def __init__(self, num_joints: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(_block(3, 16, 2), _block(16, 32, 2), _block(32, 64, 2))
        self.res = nn.Sequential(_block(64, 32), nn.Conv2d(32, 64, 1, bias=False), nn.BatchNorm2d(64))
        self.duc = DUC(64, 128)
        self.conv_out = nn.Conv2d(32, num_joints, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = torch.relu(x + self.res(x))
        return self.conv_out(self.duc(x))


@register_pose_model("TinyDUCDeployTest")
def build_tiny(cfg: CfgNode) -> TinyDUC:
    return TinyDUC(int(cfg.DATA_PRESET.NUM_JOINTS))


def tiny_cfg() -> CfgNode:
    return load_config(COCO_CFG, TINY)


def random_checkpoint(path: Path, config: str = COCO_CFG, opts: list[str] | None = None, seed: int = 0) -> Path:
    """Random weights with BN statistics and a head scaled so heatmaps have clear, varied peaks."""
    torch.manual_seed(seed)
    model = build_pose_model(load_config(config, opts if opts is not None else TINY))
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
                module.weight.uniform_(0.5, 1.5)
        head = [m for m in model.modules() if isinstance(m, nn.Conv2d)][-1]
        nn.init.normal_(head.weight, std=0.3)
        head.bias.fill_(1.0)  # every joint scores about 1, so pose NMS keeps the people
    torch.save(model.state_dict(), path)
    return path
