"""FastPose_DUC (AlphaPose MODEL.TYPE 'FastPose_DUC'): ResNet trunk + three multi-conv DUC stages.

Backbone: 'shuffle' = SE-ResNet whose strided blocks downsample by PixelUnshuffle(2) + stride-1 3x3 conv,
'se-resnet' = SE-ResNet, anything else = plain ResNet (as in AlphaPose).

Head: ``duc1`` (2048 -> 1024, n1 convs), ``duc2`` (1024 -> 512, n2), ``duc3`` (512 -> 256, n3), each
``Sequential[PixelShuffle(2), (n-1) x (3x3 conv c->c, BN, ReLU), 3x3 conv c->out, BN, ReLU]`` with c = in / 4,
so convs sit at indices 1 + 3m and BNs at 2 + 3m; then ``conv_out`` 3x3 256 -> K (bias). Output N x K x H/4 x W/4.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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

DUC_CONV_DIM = 256  # duc3's output width (fixed in AlphaPose)


def make_duc_stage(in_channels: int, out_channels: int, num_conv: int) -> nn.Sequential:
    """PixelShuffle(2) then ``num_conv`` 3x3 conv + BN + ReLU; the last conv maps in/4 -> out channels."""
    if num_conv < 1:
        raise ValueError(f"a DUC stage needs at least 1 conv, got {num_conv}")
    channels = in_channels // 4
    layers: list[nn.Module] = [nn.PixelShuffle(2)]
    for index in range(num_conv):
        out = out_channels if index == num_conv - 1 else channels
        layers += [
            nn.Conv2d(channels, out, kernel_size=3, padding=1, bias=False),
            batch_norm(out),
            nn.ReLU(inplace=True),
        ]
    return nn.Sequential(*layers)


class FastPoseDUC(nn.Module):
    """ResNet-{50,101,152} trunk (see ``backbone``) + DUC head with ``stage_num_conv`` convs per stage."""

    def __init__(
        self,
        num_joints: int = 17,
        num_layers: int = 50,
        backbone: str = "se-resnet",
        stage_num_conv: Sequence[int] = (4, 2, 1),
    ) -> None:
        super().__init__()
        if num_joints <= 0:
            raise ValueError(f"num_joints must be positive, got {num_joints}")
        if len(stage_num_conv) != 3:
            raise ValueError(f"stage_num_conv needs 3 counts, got {tuple(stage_num_conv)}")
        self.num_joints = num_joints
        self.backbone = backbone
        self.preact = ResNet(
            num_layers,
            with_se=backbone in ("shuffle", "se-resnet"),
            unshuffle_downsample=backbone == "shuffle",
        )
        n1, n2, n3 = (int(n) for n in stage_num_conv)
        self.duc1 = make_duc_stage(2048, 1024, n1)
        self.duc2 = make_duc_stage(1024, 512, n2)
        self.duc3 = make_duc_stage(512, DUC_CONV_DIM, n3)
        self.conv_out = nn.Conv2d(DUC_CONV_DIM, num_joints, kernel_size=3, stride=1, padding=1)
        self.init_weights()

    def init_weights(self) -> None:
        """AlphaPose's training init of the head: conv_out ~ N(0, 0.001), bias 0 (the trunk keeps its weights)."""
        init_head_conv(self.conv_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.preact(x)
        out = self.duc3(self.duc2(self.duc1(out)))
        return self.conv_out(out)


def _backbone(cfg: CfgNode) -> str:
    backbone = cfg_get(cfg, "MODEL.BACKBONE", "se-resnet")
    if not isinstance(backbone, str):
        raise ConfigError(f"MODEL.BACKBONE must be a string ('shuffle', 'se-resnet' or 'resnet'), got {backbone!r}")
    return backbone


def _stage_num_conv(cfg: CfgNode, model_type: str) -> tuple[int, int, int]:
    counts = []
    for stage, default in (("STAGE1", 4), ("STAGE2", 2), ("STAGE3", 1)):
        num_conv = cfg_get(cfg, f"MODEL.{stage}.NUM_CONV", default)
        if not isinstance(num_conv, int) or isinstance(num_conv, bool) or num_conv < 1:
            raise ConfigError(f"MODEL.{stage}.NUM_CONV must be a positive integer for {model_type}, got {num_conv!r}")
        counts.append(num_conv)
    return counts[0], counts[1], counts[2]


@register_pose_model("FastPose_DUC")
def build_fastpose_duc(cfg: CfgNode) -> FastPoseDUC:
    """FastPoseDUC from DATA_PRESET.NUM_JOINTS, MODEL.{NUM_LAYERS, BACKBONE, STAGE1/2/3.NUM_CONV}."""
    if any(cfg_dcn(cfg)["stage_with_dcn"]):
        raise ConfigError("FastPose_DUC with DCN (MODEL.STAGE_WITH_DCN) is not supported; use MODEL.TYPE FastPose")
    try:
        return FastPoseDUC(
            num_joints=cfg_num_joints(cfg),
            num_layers=cfg_num_layers(cfg, "FastPose_DUC"),
            backbone=_backbone(cfg),
            stage_num_conv=_stage_num_conv(cfg, "FastPose_DUC"),
        )
    except ValueError as exc:
        raise ConfigError(f"cannot build FastPose_DUC: {exc}") from None


class FastPoseDUCDense(nn.Module):
    """FastPose_DUC with a second, "dense" DUC branch (AlphaPose's ``FastPose_DUC_Dense``, dense_coco configs).

    One trunk feeds two DUC heads of the same shape: ``duc`` -> ``conv_out`` (K body joints) and ``duc_dense`` ->
    ``conv_out_dense`` (the K_dense - K extra points); the output is both, concatenated (N x K_dense x H/4 x W/4).
    AlphaPose's writer decodes only the first K channels (``EVAL_JOINTS``), so inference uses the body joints.
    """

    def __init__(
        self,
        num_joints: int = 17,
        num_dense_joints: int = 49,
        num_layers: int = 50,
        backbone: str = "se-resnet",
        stage_num_conv: Sequence[int] = (4, 2, 1),
        dcn: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if not 0 < num_joints < num_dense_joints:
            raise ValueError(f"need 0 < NUM_JOINTS < NUM_JOINTS_DENSE, got {num_joints} and {num_dense_joints}")
        if len(stage_num_conv) != 3:
            raise ValueError(f"stage_num_conv needs 3 counts, got {tuple(stage_num_conv)}")
        self.num_joints = num_joints
        self.preact = ResNet(
            num_layers,
            with_se=backbone in ("shuffle", "se-resnet"),
            unshuffle_downsample=backbone == "shuffle",
            **(dict(dcn) if dcn else {}),
        )
        n1, n2, n3 = (int(n) for n in stage_num_conv)
        self.duc = nn.Sequential(
            make_duc_stage(2048, 1024, n1), make_duc_stage(1024, 512, n2), make_duc_stage(512, DUC_CONV_DIM, n3)
        )
        self.duc_dense = nn.Sequential(
            make_duc_stage(2048, 1024, n1), make_duc_stage(1024, 512, n2), make_duc_stage(512, DUC_CONV_DIM, n3)
        )
        self.conv_out = nn.Conv2d(DUC_CONV_DIM, num_joints, kernel_size=3, stride=1, padding=1)
        self.conv_out_dense = nn.Conv2d(DUC_CONV_DIM, num_dense_joints - num_joints, kernel_size=3, padding=1)
        self.init_weights()

    def init_weights(self) -> None:
        """AlphaPose's initialisation of both output convs: N(0, 0.001), bias 0."""
        init_head_conv(self.conv_out)
        init_head_conv(self.conv_out_dense)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.preact(x)
        body = self.conv_out(self.duc(features))
        return torch.cat([body, self.conv_out_dense(self.duc_dense(features))], 1)


@register_pose_model("FastPose_DUC_Dense")
def build_fastpose_duc_dense(cfg: CfgNode) -> FastPoseDUCDense:
    """FastPoseDUCDense from DATA_PRESET.{NUM_JOINTS, NUM_JOINTS_DENSE} and FastPose_DUC's MODEL keys plus DCN."""
    dense = cfg_get(cfg, "DATA_PRESET.NUM_JOINTS_DENSE", None)
    if not isinstance(dense, int) or isinstance(dense, bool):
        raise ConfigError(f"FastPose_DUC_Dense needs DATA_PRESET.NUM_JOINTS_DENSE (an integer), got {dense!r}")
    try:
        return FastPoseDUCDense(
            num_joints=cfg_num_joints(cfg),
            num_dense_joints=dense,
            num_layers=cfg_num_layers(cfg, "FastPose_DUC_Dense"),
            backbone=_backbone(cfg),
            stage_num_conv=_stage_num_conv(cfg, "FastPose_DUC_Dense"),
            dcn=cfg_dcn(cfg),
        )
    except ValueError as exc:
        raise ConfigError(f"cannot build FastPose_DUC_Dense: {exc}") from None
