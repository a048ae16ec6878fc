"""ResNet / SE-ResNet trunks (Bottleneck, depths 50/101/152) with AlphaPose's parameter names.

The pose networks keep the trunk under the key prefix ``preact.``; inside it the names follow torchvision's
ResNet (``conv1``, ``bn1``, ``layer1..4``, ``downsample.0/1``) plus AlphaPose's additions:

- SE: a squeeze-excitation module ``se`` (``se.fc.0`` Linear(C, C), ReLU, ``se.fc.2`` Linear(C, C), Sigmoid;
  reduction 1) only in block 0 of every stage, scaling the ``bn3`` output before the residual add.
- DCN: in the stages flagged by ``stage_with_dcn`` every block replaces ``conv2`` by ``conv2_offset`` (3x3 conv
  with bias predicting the offsets) and ``conv2`` (deformable 3x3 conv, no bias).
- 'shuffle' downsampling (FastPose_DUC's trunk): the strided blocks (layer2.0, layer3.0, layer4.0) have
  ``conv2 = [PixelUnshuffle(2), 3x3 stride-1 conv 4*planes -> planes]``; the downsample branch stays a
  1x1 stride-2 conv.

The stride sits on ``conv2`` (ResNet v1.5). BN: eps 1e-5, momentum 0.1. Input height and width should be multiples
of 32 (the trunk's output stride); the 'shuffle' trunk requires it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from alphapose_kit.errors import ConfigError
from alphapose_kit.models.dcn import DeformConv2d, ModulatedDeformConv2d, offset_channels

BN_EPS = 1e-5
BN_MOMENTUM = 0.1

#: Bottleneck blocks per stage for each supported depth.
RESNET_DEPTHS: dict[int, tuple[int, int, int, int]] = {
    50: (3, 4, 6, 3),
    101: (3, 4, 23, 3),
    152: (3, 8, 36, 3),
}

STAGE_WIDTHS = (64, 128, 256, 512)


def batch_norm(channels: int) -> nn.BatchNorm2d:
    """BatchNorm2d with AlphaPose's settings (eps 1e-5, momentum 0.1)."""
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


def init_head_conv(conv: nn.Conv2d) -> None:
    """AlphaPose's training init of a pose head's last conv: weights ~ N(0, 0.001), bias 0."""
    nn.init.normal_(conv.weight, std=0.001)
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


class SELayer(nn.Module):
    """Squeeze-excitation: x * sigmoid(fc2(relu(fc1(mean_hw(x))))), reduction 1 by default."""

    def __init__(self, channels: int, reduction: int = 1) -> None:
        super().__init__()
        hidden = channels // reduction
        self.fc = nn.Sequential(
            nn.Linear(channels, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, channels),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.fc(x.mean(dim=(2, 3)))
        return x * scale[:, :, None, None]


class Bottleneck(nn.Module):
    """1x1 -> 3x3 (stride) -> 1x1 (x4) residual block, optionally with SE, DCN or unshuffle downsampling."""

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        *,
        downsample: nn.Module | None = None,
        with_se: bool = False,
        with_dcn: bool = False,
        dcn_modulated: bool = False,
        deform_groups: int = 1,
        unshuffle: bool = False,
    ) -> None:
        super().__init__()
        self.with_dcn = with_dcn
        self.dcn_modulated = dcn_modulated
        self.deform_groups = deform_groups

        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False)
        self.bn1 = batch_norm(planes)
        if with_dcn:
            if unshuffle and stride > 1:
                raise ValueError("DCN is not supported in the unshuffle-downsampling ('shuffle') trunk")
            self.conv2_offset = nn.Conv2d(
                planes,
                offset_channels(3, deform_groups, dcn_modulated),
                kernel_size=3,
                stride=stride,
                padding=1,
                bias=True,
            )
            conv_cls = ModulatedDeformConv2d if dcn_modulated else DeformConv2d
            self.conv2: nn.Module = conv_cls(
                planes, planes, kernel_size=3, stride=stride, padding=1, deform_groups=deform_groups, bias=False
            )
        elif unshuffle and stride > 1:
            self.conv2 = nn.Sequential(
                nn.PixelUnshuffle(stride),
                nn.Conv2d(planes * stride * stride, planes, kernel_size=3, stride=1, padding=1, bias=False),
            )
        else:
            self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = batch_norm(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, kernel_size=1, bias=False)
        self.bn3 = batch_norm(planes * self.expansion)
        self.se = SELayer(planes * self.expansion) if with_se else None
        self.downsample = downsample

    def _conv2(self, x: torch.Tensor) -> torch.Tensor:
        if not self.with_dcn:
            return self.conv2(x)
        offset = self.conv2_offset(x)
        if not self.dcn_modulated:
            return self.conv2(x, offset)
        # 27 * g channels: the first 18 * g are offsets, the last 9 * g mask logits.
        n_offset = 18 * self.deform_groups
        return self.conv2(x, offset[:, :n_offset], offset[:, n_offset:].sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = F.relu(self.bn2(self._conv2(out)), inplace=True)
        out = self.bn3(self.conv3(out))
        if self.se is not None:
            out = self.se(out)
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity, inplace=True)


class ResNet(nn.Module):
    """ResNet-50/101/152 feature trunk (no avgpool / fc): N x 3 x H x W -> N x 2048 x H/32 x W/32.

    ``with_se`` makes it AlphaPose's SE-ResNet; ``unshuffle_downsample`` its 'shuffle' variant (implies nothing
    about SE; FastPose_DUC's 'shuffle' backbone uses both); ``stage_with_dcn`` puts deformable convs into every
    block of the flagged stages.
    """

    # built with add_module in a loop; declared here so their type is known
    layer1: nn.Sequential
    layer2: nn.Sequential
    layer3: nn.Sequential
    layer4: nn.Sequential

    out_channels = 2048

    def __init__(
        self,
        num_layers: int = 50,
        *,
        with_se: bool = False,
        unshuffle_downsample: bool = False,
        stage_with_dcn: Sequence[bool] = (False, False, False, False),
        dcn_modulated: bool = False,
        deform_groups: int = 1,
    ) -> None:
        super().__init__()
        if num_layers not in RESNET_DEPTHS:
            raise ValueError(f"num_layers must be one of {sorted(RESNET_DEPTHS)}, got {num_layers}")
        stage_with_dcn = tuple(bool(flag) for flag in stage_with_dcn)
        if len(stage_with_dcn) != 4:
            raise ValueError(f"stage_with_dcn needs 4 flags (one per stage), got {len(stage_with_dcn)}")
        if unshuffle_downsample and any(stage_with_dcn[1:]):
            raise ValueError("DCN is not supported in the unshuffle-downsampling ('shuffle') trunk")
        if deform_groups < 1:
            raise ValueError(f"deform_groups must be >= 1, got {deform_groups}")
        self.num_layers = num_layers

        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = batch_norm(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

        inplanes = 64
        for index, (blocks, planes, with_dcn) in enumerate(
            zip(RESNET_DEPTHS[num_layers], STAGE_WIDTHS, stage_with_dcn, strict=True)
        ):
            stride = 1 if index == 0 else 2
            layers = []
            for block_index in range(blocks):
                downsample = None
                if block_index == 0:
                    # every stage's first block changes the width (64 -> 256 in layer1) or the resolution
                    downsample = nn.Sequential(
                        nn.Conv2d(inplanes, planes * Bottleneck.expansion, kernel_size=1, stride=stride, bias=False),
                        batch_norm(planes * Bottleneck.expansion),
                    )
                layers.append(
                    Bottleneck(
                        inplanes,
                        planes,
                        stride if block_index == 0 else 1,
                        downsample=downsample,
                        with_se=with_se and block_index == 0,
                        with_dcn=with_dcn,
                        dcn_modulated=dcn_modulated,
                        deform_groups=deform_groups,
                        unshuffle=unshuffle_downsample,
                    )
                )
                inplanes = planes * Bottleneck.expansion
            self.add_module(f"layer{index + 1}", nn.Sequential(*layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        return self.layer4(x)

    def stages(self) -> list[nn.Sequential]:
        return [self.layer1, self.layer2, self.layer3, self.layer4]


# --- shared helpers for the config builders -------------------------------------------------------------------

_MISSING = object()


def cfg_get(cfg: Mapping[str, Any], dotted_key: str, default: Any = _MISSING) -> Any:
    """``cfg.A.B.C`` for ``dotted_key`` "A.B.C"; ``default`` when a part is missing (ConfigError if none given)."""
    node: Any = cfg
    for part in dotted_key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            if default is _MISSING:
                raise ConfigError(f"config key {dotted_key} is missing")
            return default
        node = node[part]
    return node


def cfg_num_joints(cfg: Mapping[str, Any]) -> int:
    num_joints = cfg_get(cfg, "DATA_PRESET.NUM_JOINTS")
    if not isinstance(num_joints, int) or isinstance(num_joints, bool) or num_joints <= 0:
        raise ConfigError(f"DATA_PRESET.NUM_JOINTS must be a positive integer, got {num_joints!r}")
    return num_joints


def cfg_num_layers(cfg: Mapping[str, Any], model_type: str) -> int:
    num_layers = cfg_get(cfg, "MODEL.NUM_LAYERS", 50)
    if num_layers not in RESNET_DEPTHS:
        choices = ", ".join(str(depth) for depth in sorted(RESNET_DEPTHS))
        raise ConfigError(f"MODEL.NUM_LAYERS must be one of {choices} for {model_type}, got {num_layers!r}")
    return int(num_layers)


def cfg_dcn(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Trunk DCN arguments from MODEL.STAGE_WITH_DCN and MODEL.DCN.{MODULATED, DEFORM_GROUP, FALLBACK_ON_STRIDE}.

    As in AlphaPose, FALLBACK_ON_STRIDE true means plain 3x3 convs everywhere (no DCN at all).
    """
    flags = cfg_get(cfg, "MODEL.STAGE_WITH_DCN", None) or [False] * 4
    if not isinstance(flags, Sequence) or len(flags) != 4:
        raise ConfigError(f"MODEL.STAGE_WITH_DCN must be a list of 4 booleans, got {flags!r}")
    if cfg_get(cfg, "MODEL.DCN.FALLBACK_ON_STRIDE", False):
        flags = [False] * 4
    deform_groups = cfg_get(cfg, "MODEL.DCN.DEFORM_GROUP", 1)
    if not isinstance(deform_groups, int) or deform_groups < 1:
        raise ConfigError(f"MODEL.DCN.DEFORM_GROUP must be a positive integer, got {deform_groups!r}")
    return {
        "stage_with_dcn": tuple(bool(flag) for flag in flags),
        "dcn_modulated": bool(cfg_get(cfg, "MODEL.DCN.MODULATED", False)),
        "deform_groups": deform_groups,
    }
