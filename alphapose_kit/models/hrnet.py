"""HRNet pose network (AlphaPose MODEL.TYPE ``PoseHighResolutionNet``).

The module tree is laid out so that ``state_dict()`` has exactly the keys and shapes of the official
AlphaPose HRNet-W32 checkpoint (no prefix, strict load):

- stem ``conv1``/``bn1``/``conv2``/``bn2`` (two 3x3 stride-2 convs, 3 -> 64 -> 64), then ``layer1`` = four
  Bottlenecks (width 64, output 256);
- ``transition1..3``: a branch that keeps its width passes through (no keys); a branch whose width changes gets
  ``3x3 conv + BN + ReLU``; a new branch is made from the last branch of the previous stage by a chain of 3x3
  stride-2 ``conv + BN + ReLU`` (``transitionT.b.k.{0,1}``);
- ``stage2..4``: ``NUM_MODULES`` multi-resolution modules, each with ``branches.b.n`` blocks and
  ``fuse_layers.i.j`` (output i = ReLU(sum_j f_ij(x_j))); the last module of the last stage only fuses into
  branch 0;
- ``final_layer``: conv with bias from branch 0 (stride 4) to the K heatmaps.

W32 uses widths 32/64/128/256 and W48 48/96/192/384; both have 1/4/3 modules and 4 BasicBlocks per branch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from yacs.config import CfgNode

from alphapose_kit.config.sizes import is_multiple_of_32
from alphapose_kit.errors import ConfigError
from alphapose_kit.models.registry import register_pose_model

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "HighResolutionModule",
    "PoseHighResolutionNet",
    "StageSpec",
    "build_hrnet",
    "hrnet_stages",
    "hrnet_w32",
    "hrnet_w48",
]

_BN_MOMENTUM = 0.1


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=1e-5, momentum=_BN_MOMENTUM)


def _conv3x3(in_ch: int, out_ch: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_ch, out_ch, kernel_size=3, stride=stride, padding=1, bias=False)


def _conv1x1(in_ch: int, out_ch: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_ch, out_ch, kernel_size=1, stride=stride, padding=0, bias=False)


def _projection(in_ch: int, out_ch: int, stride: int) -> nn.Sequential | None:
    """``downsample.{0,1}`` (1x1 conv + BN) when the residual needs a new width or stride, else None."""
    if stride == 1 and in_ch == out_ch:
        return None
    return nn.Sequential(_conv1x1(in_ch, out_ch, stride), _bn(out_ch))


class BasicBlock(nn.Module):
    """Two 3x3 conv + BN; ReLU after the first and after the residual add. Output width = ``planes``."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = _conv3x3(inplanes, planes, stride)
        self.bn1 = _bn(planes)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = _bn(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _projection(inplanes, planes * self.expansion, stride)

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 -> 3x3 (stride) -> 1x1 (x4 width), BN after each, ReLU after the first two and after the add."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = _conv1x1(inplanes, planes)
        self.bn1 = _bn(planes)
        self.conv2 = _conv3x3(planes, planes, stride)
        self.bn2 = _bn(planes)
        self.conv3 = _conv1x1(planes, planes * self.expansion)
        self.bn3 = _bn(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _projection(inplanes, planes * self.expansion, stride)

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


_BLOCKS: dict[str, type[BasicBlock] | type[Bottleneck]] = {"BASIC": BasicBlock, "BOTTLENECK": Bottleneck}
_FUSE_METHODS = ("SUM",)


@dataclass(frozen=True)
class StageSpec:
    """One HRNet stage (AlphaPose ``MODEL.STAGEn``): ``num_modules`` modules of ``num_branches`` branches.

    ``num_channels[b]`` is the block width of branch b (its output has ``num_channels[b] * expansion``
    channels); ``num_blocks[b]`` blocks per branch per module. Only ``fuse_method='SUM'`` exists.
    """

    num_modules: int
    num_branches: int
    num_blocks: tuple[int, ...]
    num_channels: tuple[int, ...]
    block: str = "BASIC"
    fuse_method: str = "SUM"

    def __post_init__(self) -> None:
        object.__setattr__(self, "num_blocks", tuple(int(n) for n in self.num_blocks))
        object.__setattr__(self, "num_channels", tuple(int(c) for c in self.num_channels))
        object.__setattr__(self, "block", str(self.block).upper())
        object.__setattr__(self, "fuse_method", str(self.fuse_method).upper())
        if self.num_modules < 1:
            raise ValueError(f"NUM_MODULES must be >= 1, got {self.num_modules}")
        if self.num_branches < 1:
            raise ValueError(f"NUM_BRANCHES must be >= 1, got {self.num_branches}")
        if len(self.num_blocks) != self.num_branches:
            raise ValueError(f"NUM_BLOCKS has {len(self.num_blocks)} entries but NUM_BRANCHES is {self.num_branches}")
        if len(self.num_channels) != self.num_branches:
            raise ValueError(
                f"NUM_CHANNELS has {len(self.num_channels)} entries but NUM_BRANCHES is {self.num_branches}"
            )
        if any(n < 1 for n in self.num_blocks):
            raise ValueError(f"NUM_BLOCKS entries must be >= 1, got {list(self.num_blocks)}")
        if any(c < 1 for c in self.num_channels):
            raise ValueError(f"NUM_CHANNELS entries must be >= 1, got {list(self.num_channels)}")
        if self.block not in _BLOCKS:
            raise ValueError(f"BLOCK must be one of {', '.join(_BLOCKS)}, got {self.block!r}")
        if self.fuse_method not in _FUSE_METHODS:
            raise ValueError(f"FUSE_METHOD must be 'SUM', got {self.fuse_method!r}")

    @property
    def out_channels(self) -> tuple[int, ...]:
        """Channels of each branch's output (width x block expansion)."""
        expansion = _BLOCKS[self.block].expansion
        return tuple(c * expansion for c in self.num_channels)


def hrnet_stages(width: int) -> tuple[StageSpec, StageSpec, StageSpec]:
    """STAGE2..4 of the standard HRNet-W<width> (widths w, 2w, 4w, 8w; 1/4/3 modules; 4 BasicBlocks)."""
    widths = (width, 2 * width, 4 * width, 8 * width)
    return (
        StageSpec(1, 2, (4, 4), widths[:2]),
        StageSpec(4, 3, (4, 4, 4), widths[:3]),
        StageSpec(3, 4, (4, 4, 4, 4), widths[:4]),
    )


class _FuseUp(nn.Sequential):
    """``{0: 1x1 conv C_j -> C_i, 1: BN}`` followed by nearest upsampling x ``factor`` (no parameters)."""

    def __init__(self, in_ch: int, out_ch: int, factor: int) -> None:
        super().__init__(_conv1x1(in_ch, out_ch), _bn(out_ch), nn.Upsample(scale_factor=factor, mode="nearest"))


def _fuse_down(in_ch: int, out_ch: int, steps: int) -> nn.Sequential:
    """``steps`` x (3x3 stride-2 conv + BN), ReLU after all but the last; only the last changes the width."""
    chain: list[nn.Module] = []
    for k in range(steps):
        if k < steps - 1:
            chain.append(nn.Sequential(_conv3x3(in_ch, in_ch, 2), _bn(in_ch), nn.ReLU(inplace=True)))
        else:
            chain.append(nn.Sequential(_conv3x3(in_ch, out_ch, 2), _bn(out_ch)))
    return nn.Sequential(*chain)


class HighResolutionModule(nn.Module):
    """Parallel branches of blocks, then multi-resolution fusion (sum, then ReLU).

    Branch b runs on the resolution 1/2^b of branch 0. Output i (for i < number of outputs) is
    ``ReLU(sum_j f_ij(x_j))`` with f_ii the identity, f_ij for j > i a 1x1 conv + BN + nearest upsample x2^(j-i),
    and for j < i a chain of (i-j) 3x3 stride-2 convs. With ``multi_scale_output=False`` only output 0 exists.
    """

    def __init__(
        self,
        num_inchannels: Sequence[int],
        block: str,
        num_blocks: Sequence[int],
        num_channels: Sequence[int],
        multi_scale_output: bool = True,
    ) -> None:
        super().__init__()
        n = len(num_channels)
        if not (len(num_inchannels) == len(num_blocks) == n):
            raise ValueError("num_inchannels, num_blocks and num_channels need one entry per branch")
        block_cls = _BLOCKS[block]
        self.num_branches = n
        self.out_channels = [c * block_cls.expansion for c in num_channels]

        branches = []
        for b in range(n):
            layers = [block_cls(num_inchannels[b], num_channels[b])]
            layers += [block_cls(self.out_channels[b], num_channels[b]) for _ in range(1, num_blocks[b])]
            branches.append(nn.Sequential(*layers))
        self.branches = nn.ModuleList(branches)

        self.fuse_layers: nn.ModuleList | None = None
        if n > 1:
            ch = self.out_channels
            fuse = []
            for i in range(n if multi_scale_output else 1):
                row: list[nn.Module] = []
                for j in range(n):
                    if j > i:
                        row.append(_FuseUp(ch[j], ch[i], 2 ** (j - i)))
                    elif j == i:
                        row.append(nn.Identity())
                    else:
                        row.append(_fuse_down(ch[j], ch[i], i - j))
                fuse.append(nn.ModuleList(row))
            self.fuse_layers = nn.ModuleList(fuse)
        self.relu = nn.ReLU(inplace=False)

    def forward(self, xs: list[Tensor]) -> list[Tensor]:
        if len(xs) != self.num_branches:
            raise ValueError(f"expected {self.num_branches} inputs, got {len(xs)}")
        ys = [branch(x) for branch, x in zip(self.branches, xs, strict=True)]
        if self.fuse_layers is None:
            return ys
        out = []
        rows: list[nn.ModuleList] = list(self.fuse_layers)  # type: ignore[arg-type]
        for row in rows:
            # Sum in branch order j = 0, 1, ... (same order as the original, for identical rounding).
            total = row[0](ys[0])
            for j in range(1, self.num_branches):
                total = total + row[j](ys[j])
            out.append(self.relu(total))
        return out


def _transition(pre: Sequence[int], cur: Sequence[int]) -> nn.ModuleList:
    """Map the previous stage's branch outputs (widths ``pre``) to the next stage's inputs (widths ``cur``)."""
    layers: list[nn.Module] = []
    for i, out_ch in enumerate(cur):
        if i < len(pre):
            if pre[i] == out_ch:
                layers.append(nn.Identity())
            else:
                layers.append(nn.Sequential(_conv3x3(pre[i], out_ch), _bn(out_ch), nn.ReLU(inplace=True)))
        else:
            in_ch = pre[-1]
            steps = i + 1 - len(pre)
            chain = []
            for k in range(steps):
                c = out_ch if k == steps - 1 else in_ch
                chain.append(nn.Sequential(_conv3x3(in_ch, c, 2), _bn(c), nn.ReLU(inplace=True)))
            layers.append(nn.Sequential(*chain))
    return nn.ModuleList(layers)


def _eager() -> bool:
    """True outside TorchScript, tracing and torch.compile/export (input checks run only in eager mode)."""
    compiling = getattr(getattr(torch, "compiler", None), "is_compiling", None)
    return not (torch.jit.is_scripting() or torch.jit.is_tracing() or (compiling is not None and compiling()))


class PoseHighResolutionNet(nn.Module):
    """HRNet heatmap network: ``(N, 3, H, W) -> (N, num_joints, H/4, W/4)``; H and W must be multiples of 32
    (the four branches run at strides 4, 8, 16, 32 and are summed after up/down-sampling).

    ``stages`` = (STAGE2, STAGE3, STAGE4) specs. Parameters keep PyTorch's default initialisation; call
    :meth:`init_weights` for AlphaPose's training initialisation.
    """

    # built with setattr in a loop; declared here so their type is known
    transition1: nn.ModuleList
    transition2: nn.ModuleList
    transition3: nn.ModuleList
    stage2: nn.Sequential
    stage3: nn.Sequential
    stage4: nn.Sequential

    def __init__(
        self,
        num_joints: int = 17,
        stages: Sequence[StageSpec] | None = None,
        final_conv_kernel: int = 1,
    ) -> None:
        super().__init__()
        stages = tuple(hrnet_stages(32) if stages is None else stages)
        if len(stages) != 3:
            raise ValueError(f"HRNet needs exactly 3 stage specs (STAGE2..4), got {len(stages)}")
        if num_joints < 1:
            raise ValueError(f"num_joints must be >= 1, got {num_joints}")
        if final_conv_kernel < 1 or final_conv_kernel % 2 == 0:
            raise ValueError(f"FINAL_CONV_KERNEL must be odd (1 or 3), got {final_conv_kernel}")
        self.num_joints = num_joints
        self.stages_spec = stages

        self.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=2, padding=1, bias=False)
        self.bn1 = _bn(64)
        self.conv2 = nn.Conv2d(64, 64, kernel_size=3, stride=2, padding=1, bias=False)
        self.bn2 = _bn(64)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(Bottleneck(64, 64), Bottleneck(256, 64), Bottleneck(256, 64), Bottleneck(256, 64))

        pre: Sequence[int] = [256]
        for s, spec in enumerate(stages):
            cur = spec.out_channels
            setattr(self, f"transition{s + 1}", _transition(pre, cur))
            modules = []
            in_ch = list(cur)
            last_stage = s == len(stages) - 1
            for m in range(spec.num_modules):
                module = HighResolutionModule(
                    in_ch,
                    spec.block,
                    spec.num_blocks,
                    spec.num_channels,
                    multi_scale_output=not (last_stage and m == spec.num_modules - 1),
                )
                in_ch = module.out_channels
                modules.append(module)
            setattr(self, f"stage{s + 2}", nn.Sequential(*modules))
            pre = in_ch

        self.final_layer = nn.Conv2d(
            pre[0], num_joints, kernel_size=final_conv_kernel, stride=1, padding=final_conv_kernel // 2
        )

    def forward(self, x: Tensor) -> Tensor:
        if _eager() and (
            x.dim() != 4 or x.shape[1] != 3 or not (is_multiple_of_32(x.shape[-2]) and is_multiple_of_32(x.shape[-1]))
        ):
            raise ValueError(
                "PoseHighResolutionNet expects N x 3 x H x W input with H and W multiples of 32 "
                f"(e.g. 256 x 192), got {tuple(x.shape)}"
            )
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        x = self.layer1(x)
        ys = [x]
        for transition, stage in (
            (self.transition1, self.stage2),
            (self.transition2, self.stage3),
            (self.transition3, self.stage4),
        ):
            xs = []
            for i, t in enumerate(transition):
                # Existing branches take their own output; new branches grow from the last one.
                xs.append(t(ys[i] if i < len(ys) else ys[-1]))
            ys = stage(xs)
        return self.final_layer(ys[0])

    @torch.no_grad()
    def init_weights(self) -> None:
        """AlphaPose's HRNet training init: every conv N(0, 0.001) with zero bias, BN weight 1 / bias 0."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
                nn.init.normal_(m.weight, std=0.001)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)


def hrnet_w32(num_joints: int = 17) -> PoseHighResolutionNet:
    """HRNet-W32 (the AlphaPose model-zoo architecture; loads ``hrnet_w32_256x192`` checkpoints strictly)."""
    return PoseHighResolutionNet(num_joints, hrnet_stages(32))


def hrnet_w48(num_joints: int = 17) -> PoseHighResolutionNet:
    """HRNet-W48: the W32 structure with branch widths 48/96/192/384."""
    return PoseHighResolutionNet(num_joints, hrnet_stages(48))


def _stage_from_cfg(cfg: CfgNode, name: str) -> StageSpec:
    node = cfg.MODEL.get(name)
    if node is None:
        raise ConfigError(f"MODEL.{name} is missing; PoseHighResolutionNet needs MODEL.STAGE2, STAGE3 and STAGE4")
    try:
        return StageSpec(
            num_modules=int(node.NUM_MODULES),
            num_branches=int(node.NUM_BRANCHES),
            num_blocks=tuple(node.NUM_BLOCKS),
            num_channels=tuple(node.NUM_CHANNELS),
            block=node.get("BLOCK", "BASIC"),
            fuse_method=node.get("FUSE_METHOD", "SUM"),
        )
    except (AttributeError, KeyError) as exc:
        raise ConfigError(f"MODEL.{name} lacks a key: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"MODEL.{name}: {exc}") from None


@register_pose_model("PoseHighResolutionNet", "HRNet")
def build_hrnet(cfg: CfgNode) -> PoseHighResolutionNet:
    """Build HRNet from an AlphaPose-style config (DATA_PRESET.NUM_JOINTS, MODEL.FINAL_CONV_KERNEL, STAGE2..4)."""
    stages = tuple(_stage_from_cfg(cfg, name) for name in ("STAGE2", "STAGE3", "STAGE4"))
    kernel = cfg.MODEL.get("FINAL_CONV_KERNEL", 1)
    try:
        return PoseHighResolutionNet(int(cfg.DATA_PRESET.NUM_JOINTS), stages, int(kernel))
    except ValueError as exc:
        raise ConfigError(f"PoseHighResolutionNet: {exc}") from None
