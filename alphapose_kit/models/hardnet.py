"""HarDNet pose networks (AlphaPose MODEL.TYPE 'HarDNetPose', NUM_LAYERS 68 or 85).

Harmonic DenseNet (Chao et al., "HarDNet: A Low Memory Traffic Network", ICCV 2019) as AlphaPose builds it for pose
(``alphapose/models/hardnet.py``): a HarDNet trunk, then a U-shaped decoder of three up-sampling stages whose dense
blocks see each feature map beside its 9x9 average and its spatially normalised copy, and a two-conv head.

Harmonic links: layer ``l`` (1-based) of a block reads layer ``l - 2^i`` for every ``2^i`` dividing ``l``, and its
width is the growth rate times ``grmul`` per link beyond the first, rounded to an even number. A block outputs its
odd layers and its last one, concatenated.

State-dict layout (the original's, so official checkpoints load strictly): ``base.{i}`` the trunk's modules in
order (``ConvLayer`` = ``conv`` + ``norm`` + ReLU; ``HarDBlock`` = ``layers.{j}.conv/norm``; pools have no
weights), ``last_proj``, ``last_blk``, ``conv1x1_up.{0,1,2}``, ``denseBlocksUp.{0,1,2}``, ``conv_out.{0,2}``.
Output N x K x H/4 x W/4 (for any allowed DOWN_RATIO: the original builds the same network for each).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from yacs.config import CfgNode

from alphapose_kit.errors import ConfigError
from alphapose_kit.models.registry import register_pose_model
from alphapose_kit.models.resnet import cfg_get, cfg_num_joints

GRMUL = 1.7  # width multiplier per extra harmonic link, every HarDNet of the paper
LINK_DEPTH = 10  # links reach back at most 2^9 layers


class ConvLayer(nn.Sequential):
    """conv (no bias, 'same' padding) + BatchNorm + ReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int = 3, stride: int = 1) -> None:
        super().__init__()
        self.add_module("conv", nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2, bias=False))
        self.add_module("norm", nn.BatchNorm2d(out_channels, momentum=0.1))
        self.add_module("relu", nn.ReLU(inplace=True))


def harmonic_links(layer: int, base_channels: int, growth: int, grmul: float) -> tuple[int, int, list[int]]:
    """(out channels, in channels, linked layers) of layer ``layer`` (1-based; 0 is the block's input)."""
    if layer == 0:
        return base_channels, 0, []
    width: float = growth
    links = []
    for i in range(LINK_DEPTH):
        step = 2**i
        if layer % step == 0:
            links.append(layer - step)
            if i > 0:
                width *= grmul
    out_channels = int(int(width + 1) / 2) * 2
    in_channels = sum(harmonic_links(j, base_channels, growth, grmul)[0] for j in links)
    return out_channels, in_channels, links


class HarDBlock(nn.Module):
    """``n_layers`` 3x3 ConvLayers with harmonic links; output = the odd layers and the last, concatenated."""

    def __init__(self, in_channels: int, growth: int, grmul: float, n_layers: int) -> None:
        super().__init__()
        self.links: list[list[int]] = []
        layers = []
        self.out_channels = 0
        for index in range(n_layers):
            out_ch, in_ch, links = harmonic_links(index + 1, in_channels, growth, grmul)
            self.links.append(links)
            layers.append(ConvLayer(in_ch, out_ch))
            if index % 2 == 0 or index == n_layers - 1:
                self.out_channels += out_ch
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = [x]
        for links, layer in zip(self.links, self.layers, strict=True):
            inputs = [outputs[j] for j in links]
            outputs.append(layer(torch.cat(inputs, 1) if len(inputs) > 1 else inputs[0]))
        last = len(outputs) - 1
        return torch.cat([out for i, out in enumerate(outputs) if i == last or i % 2 == 1], 1)


@dataclass(frozen=True)
class HarDNetSpec:
    """The widths of one HarDNet pose network (AlphaPose's numbers for 68 and 85)."""

    stem: tuple[int, int]
    block_widths: tuple[int, ...]  # the 1x1 transition after each trunk block but the last
    growth: tuple[int, ...]
    n_layers: tuple[int, ...]
    last_proj: tuple[int, int]
    last_block: tuple[int, int, int]  # in channels, growth, layers
    skip_nodes: tuple[int, ...]  # trunk module indices whose outputs feed the decoder
    skip_channels: tuple[int, ...]
    shortcut: tuple[int, int, int]  # channels each up stage sets aside for the head
    up_growth: tuple[int, int, int]
    up_layers: tuple[int, int, int]
    up_widths: tuple[int, int, int]
    skip_stages: int  # how many up stages concatenate their skip input


HARDNET_SPECS = {
    68: HarDNetSpec(
        stem=(32, 64),
        block_widths=(128, 256, 320, 640),
        growth=(14, 16, 20, 40),
        n_layers=(8, 16, 16, 16),
        last_proj=(654, 192),
        last_block=(576, 72, 8),
        skip_nodes=(1, 3, 8, 11),
        skip_channels=(64, 124, 328, 654),
        shortcut=(32, 32, 0),
        up_growth=(48, 32, 20),
        up_layers=(8, 8, 4),
        up_widths=(256, 128, 64),
        skip_stages=2,
    ),
    85: HarDNetSpec(
        stem=(48, 96),
        block_widths=(192, 256, 320, 480, 720),
        growth=(24, 24, 28, 36, 48),
        n_layers=(8, 16, 16, 16, 16),
        last_proj=(784, 256),
        last_block=(768, 80, 8),
        skip_nodes=(1, 3, 8, 13),
        skip_channels=(96, 214, 458, 784),
        shortcut=(32, 32, 0),
        up_growth=(64, 48, 28),
        up_layers=(8, 8, 4),
        up_widths=(256, 192, 96),
        skip_stages=3,
    ),
}


def hardnet_trunk(spec: HarDNetSpec) -> nn.ModuleList:
    """Stem (3x3 s2, 3x3), a 3x3 s2 average pool, then the blocks with their 1x1 transitions; 2x2 average pools
    after the first block (ceil mode) and after every later one but the second, the fourth and the last."""
    trunk = nn.ModuleList([ConvLayer(3, spec.stem[0], 3, 2), ConvLayer(*spec.stem), nn.AvgPool2d(3, 2, 1)])
    channels = spec.stem[1]
    last = len(spec.n_layers) - 1
    for i, (growth, n_layers) in enumerate(zip(spec.growth, spec.n_layers, strict=True)):
        block = HarDBlock(channels, growth, GRMUL, n_layers)
        trunk.append(block)
        if i != last:
            trunk.append(ConvLayer(block.out_channels, spec.block_widths[i], 1))
        channels = spec.block_widths[i]
        if i == 0:
            trunk.append(nn.AvgPool2d(2, 2, ceil_mode=True))
        elif i not in (1, 3, last):
            trunk.append(nn.AvgPool2d(2, 2))
    return trunk


def _context(x: torch.Tensor, average: nn.AvgPool2d) -> torch.Tensor:
    """The map beside its 9x9 average and itself divided by its spatial sum (+ 0.1)."""
    return torch.cat([x, average(x), x / (x.sum((2, 3), keepdim=True) + 0.1)], 1)


def _resize(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, size=(like.size(2), like.size(3)), mode="bilinear", align_corners=True)


class HarDNetPose(nn.Module):
    """HarDNet-68/85 trunk + three up stages + head (3x3 conv to max(128, 4K), ReLU, ``final_kernel`` conv to K)."""

    def __init__(self, num_joints: int = 17, num_layers: int = 68, final_kernel: int = 1) -> None:
        super().__init__()
        if num_layers not in HARDNET_SPECS:
            raise ValueError(f"HarDNet depth must be 68 or 85, got {num_layers}")
        if num_joints <= 0:
            raise ValueError(f"num_joints must be positive, got {num_joints}")
        spec = self.spec = HARDNET_SPECS[num_layers]
        self.num_joints = num_joints
        self.base = hardnet_trunk(spec)
        self.last_pool = nn.AvgPool2d(2, 2)
        self.last_proj = ConvLayer(*spec.last_proj, 1)
        self.last_blk = HarDBlock(spec.last_block[0], spec.last_block[1], GRMUL, spec.last_block[2])
        self.denseBlocksUp = nn.ModuleList()  # registered before conv1x1_up: the original's state-dict order
        self.conv1x1_up = nn.ModuleList()
        self.avg9x9 = nn.AvgPool2d(9, 1, 4)
        channels = self.last_blk.out_channels
        for i in range(3):
            in_ch = channels + (spec.skip_channels[3 - i] if i < spec.skip_stages else 0)
            self.conv1x1_up.append(ConvLayer(in_ch, spec.up_widths[i], 1))
            block = HarDBlock((spec.up_widths[i] - spec.shortcut[i]) * 3, spec.up_growth[i], GRMUL, spec.up_layers[i])
            self.denseBlocksUp.append(block)
            channels = block.out_channels
        channels += sum(spec.shortcut)
        width = max(128, 4 * num_joints)
        self.conv_out = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1, bias=True),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, num_joints, final_kernel, padding=final_kernel // 2, bias=True),
        )
        self.init_weights()

    def init_weights(self) -> None:
        """AlphaPose's initialisation of the decoder and head: Kaiming-uniform convs (ReLU gain), zero biases, and
        the last bias -2.19 (a sigmoid prior of 0.1); the trunk keeps PyTorch's defaults (it comes pretrained)."""
        for part in (self.denseBlocksUp, self.conv1x1_up, self.last_blk, self.last_proj, self.conv_out):
            for module in part.modules():
                if isinstance(module, nn.Conv2d):
                    nn.init.kaiming_uniform_(module.weight, nonlinearity="relu")
                    if module.bias is not None:
                        nn.init.zeros_(module.bias)
        last = self.conv_out[-1]
        assert isinstance(last, nn.Conv2d) and last.bias is not None
        nn.init.constant_(last.bias, -2.19)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for index, module in enumerate(self.base):
            x = module(x)
            if index in self.spec.skip_nodes:
                skips.append(x)
        x = self.last_blk(_context(self.last_pool(self.last_proj(x)), self.avg9x9))
        set_aside = []
        for i in range(3):
            skip = skips[3 - i]
            x = _resize(x, skip)
            if i < self.spec.skip_stages:
                x = torch.cat([x, skip], 1)
            x = self.conv1x1_up[i](x)
            keep = self.spec.shortcut[i]
            if keep:
                set_aside.append(x[:, x.shape[1] - keep :].contiguous())
                x = x[:, : x.shape[1] - keep].contiguous()
            x = self.denseBlocksUp[i](_context(x, self.avg9x9))
        head_in = [_resize(s, x) for s in reversed(set_aside)]
        return self.conv_out(torch.cat([*head_in, x], 1))


@register_pose_model("HarDNetPose")
def build_hardnet_pose(cfg: CfgNode) -> HarDNetPose:
    """HarDNetPose from DATA_PRESET.NUM_JOINTS and MODEL.{NUM_LAYERS, FINAL_CONV_KERNEL, DOWN_RATIO}."""
    num_layers = cfg_get(cfg, "MODEL.NUM_LAYERS", 68)
    if num_layers not in HARDNET_SPECS:
        raise ConfigError(f"MODEL.NUM_LAYERS must be 68 or 85 for HarDNetPose, got {num_layers!r}")
    down_ratio = cfg_get(cfg, "MODEL.DOWN_RATIO", 4)
    if down_ratio not in (2, 4, 8, 16):  # AlphaPose's check; the heatmaps are 1/4 of the input whatever it says
        raise ConfigError(f"MODEL.DOWN_RATIO must be 2, 4, 8 or 16 for HarDNetPose, got {down_ratio!r}")
    final_kernel = cfg_get(cfg, "MODEL.FINAL_CONV_KERNEL", 1)
    if final_kernel not in (1, 3):
        raise ConfigError(f"MODEL.FINAL_CONV_KERNEL must be 1 or 3, got {final_kernel!r}")
    return HarDNetPose(num_joints=cfg_num_joints(cfg), num_layers=int(num_layers), final_kernel=int(final_kernel))
