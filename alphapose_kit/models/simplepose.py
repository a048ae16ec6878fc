"""SimplePose (AlphaPose MODEL.TYPE 'SimplePose', "Simple Baselines"): plain ResNet + 3 deconvolutions.

State-dict layout: ``preact.*`` plain ResNet, ``deconv_layers.{0,3,6}`` ConvTranspose2d k4 s2 p1 (no bias; weight
(in, out, 4, 4)) with BN at ``.1, .4, .7`` and ReLU after each, ``final_layer`` 1x1 conv (bias) -> K.
Output N x K x H/4 x W/4.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from yacs.config import CfgNode

from alphapose_kit.errors import ConfigError
from alphapose_kit.models.registry import register_pose_model
from alphapose_kit.models.resnet import ResNet, batch_norm, cfg_get, cfg_num_joints, cfg_num_layers, init_head_conv


class SimplePose(nn.Module):
    """ResNet-{50,101,152} + three x2 deconvolutions (``deconv_filters`` wide) + 1x1 joint classifier."""

    def __init__(
        self, num_joints: int = 17, num_layers: int = 50, deconv_filters: Sequence[int] = (256, 256, 256)
    ) -> None:
        super().__init__()
        if num_joints <= 0:
            raise ValueError(f"num_joints must be positive, got {num_joints}")
        if len(deconv_filters) != 3 or min(deconv_filters) <= 0:
            raise ValueError(f"deconv_filters needs 3 positive widths, got {tuple(deconv_filters)}")
        self.num_joints = num_joints
        self.preact = ResNet(num_layers)
        layers: list[nn.Module] = []
        channels = ResNet.out_channels
        for width in deconv_filters:
            layers += [
                nn.ConvTranspose2d(channels, width, kernel_size=4, stride=2, padding=1, bias=False),
                batch_norm(width),
                nn.ReLU(inplace=True),
            ]
            channels = width
        self.deconv_layers = nn.Sequential(*layers)
        self.final_layer = nn.Conv2d(channels, num_joints, kernel_size=1, stride=1, padding=0)
        self.init_weights()

    def init_weights(self) -> None:
        """AlphaPose's training init of the head: deconvs and final_layer ~ N(0, 0.001), biases 0, BN 1 / 0."""
        for module in self.deconv_layers:
            if isinstance(module, nn.ConvTranspose2d):
                nn.init.normal_(module.weight, std=0.001)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        init_head_conv(self.final_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.final_layer(self.deconv_layers(self.preact(x)))


@register_pose_model("SimplePose")
def build_simplepose(cfg: CfgNode) -> SimplePose:
    """SimplePose from DATA_PRESET.NUM_JOINTS, MODEL.{NUM_LAYERS, NUM_DECONV_FILTERS}."""
    filters = cfg_get(cfg, "MODEL.NUM_DECONV_FILTERS", None) or [256, 256, 256]
    if (
        not isinstance(filters, Sequence)
        or len(filters) != 3
        or not all(isinstance(f, int) and not isinstance(f, bool) and f > 0 for f in filters)
    ):
        raise ConfigError(f"MODEL.NUM_DECONV_FILTERS must be 3 positive integers, got {filters!r}")
    try:
        return SimplePose(
            num_joints=cfg_num_joints(cfg),
            num_layers=cfg_num_layers(cfg, "SimplePose"),
            deconv_filters=tuple(filters),
        )
    except ValueError as exc:
        raise ConfigError(f"cannot build SimplePose: {exc}") from None
