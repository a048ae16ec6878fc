"""YOLOX nano / tiny / s / m / l / x (Megvii's anchor-free detector), built with the module names of the official
``YOLOX(YOLOPAFPN, YOLOXHead)`` so that its state_dict keys equal those of the released ``yolox_*.pth`` files
(``backbone.backbone.stem.conv.conv.weight`` ... ``head.obj_preds.2.bias``).

Architecture facts (github.com/Megvii-BaseDetection/YOLOX, yolox/models/{network_blocks,darknet,yolo_pafpn,
yolo_head}.py and exps/default/yolox_*.py; AlphaPose vendors the same code under detector/yolox/): a CSPDarknet
backbone (Focus stem, four stride-2 stages of CSP blocks, SPP in the last), a PAN neck over strides 8, 16, 32 and a
decoupled head (per level a 1x1 stem, then two 3x3 convs for classes and two for box + objectness). Width multiple w
scales channels by int(c * w), depth multiple d the CSP repeats (backbone: max(round(3 d), 1), three times that in
the middle stages; neck: round(3 d)). Nano uses depthwise-separable 3x3 convs. Every BatchNorm has eps 1e-3 (the
Exp's ``init_yolo``), every activation is SiLU.

Eval forward on N x 3 x S x S (BGR, 0-255, see ``detectors.letterbox.pad_batch``) returns (N, rows, 5 + classes):
cx, cy, w, h in input pixels, sigmoid objectness, sigmoid class scores. Rows run stride 8, 16, 32, each level row
by row. Decoding (anchor-free): xy = (t_xy + cell) * stride, wh = exp(t_wh) * stride.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from alphapose_kit.errors import ConfigError

__all__ = ["STRIDES", "VARIANTS", "YOLOX", "build_yolox", "load_yolox_weights"]

# variant -> (depth multiple, width multiple, depthwise), as in exps/default/yolox_{nano,tiny,s,m,l,x}.py
VARIANTS: dict[str, tuple[float, float, bool]] = {
    "nano": (0.33, 0.25, True),
    "tiny": (0.33, 0.375, False),
    "s": (0.33, 0.50, False),
    "m": (0.67, 0.75, False),
    "l": (1.00, 1.00, False),
    "x": (1.33, 1.25, False),
}
STRIDES = (8, 16, 32)
_NECK_CHANNELS = (256, 512, 1024)  # at width 1: the three levels the neck and head see
_HEAD_CHANNELS = 256


class BaseConv(nn.Module):
    """Conv2d (no bias, 'same' padding, optional groups) + BatchNorm2d (eps 1e-3) + SiLU."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class DWConv(nn.Module):
    """Depthwise k x k BaseConv then pointwise 1x1 BaseConv (YOLOX-Nano's 3x3 convolutions)."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1) -> None:
        super().__init__()
        self.dconv = BaseConv(c_in, c_in, k, stride, groups=c_in)
        self.pconv = BaseConv(c_in, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pconv(self.dconv(x))


def _conv(depthwise: bool, c_in: int, c_out: int, k: int, stride: int = 1) -> nn.Module:
    return DWConv(c_in, c_out, k, stride) if depthwise else BaseConv(c_in, c_out, k, stride)


class Bottleneck(nn.Module):
    """1x1 BaseConv then a 3x3 conv, plus the input when ``shortcut`` and the channel counts agree."""

    def __init__(self, c_in: int, c_out: int, shortcut: bool, depthwise: bool) -> None:
        super().__init__()
        self.conv1 = BaseConv(c_in, c_out, 1)
        self.conv2 = _conv(depthwise, c_out, c_out, 3)
        self.use_add = shortcut and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(self.conv1(x))
        return x + y if self.use_add else y


class CSPLayer(nn.Module):
    """Two 1x1 branches of c_out/2 channels, n Bottlenecks on the first, concat, 1x1 to c_out (YOLOv5's C3)."""

    def __init__(self, c_in: int, c_out: int, n: int, shortcut: bool = True, depthwise: bool = False) -> None:
        super().__init__()
        hidden = int(c_out * 0.5)
        self.conv1 = BaseConv(c_in, hidden, 1)
        self.conv2 = BaseConv(c_in, hidden, 1)
        self.conv3 = BaseConv(2 * hidden, c_out, 1)
        self.m = nn.Sequential(*(Bottleneck(hidden, hidden, shortcut, depthwise) for _ in range(n)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv3(torch.cat((self.m(self.conv1(x)), self.conv2(x)), 1))


class SPPBottleneck(nn.Module):
    """1x1 to c_in/2, parallel 5/9/13 stride-1 max pools, concat with the input, 1x1 to c_out."""

    def __init__(self, c_in: int, c_out: int, kernels: Sequence[int] = (5, 9, 13)) -> None:
        super().__init__()
        hidden = c_in // 2
        self.conv1 = BaseConv(c_in, hidden, 1)
        self.m = nn.ModuleList(nn.MaxPool2d(k, 1, k // 2) for k in kernels)
        self.conv2 = BaseConv(hidden * (len(kernels) + 1), c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        return self.conv2(torch.cat([x, *(pool(x) for pool in self.m)], 1))


class Focus(nn.Module):
    """Space-to-depth (the four pixel phases top-left, bottom-left, top-right, bottom-right) then a BaseConv."""

    def __init__(self, c_in: int, c_out: int, k: int = 3) -> None:
        super().__init__()
        self.conv = BaseConv(c_in * 4, c_out, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        phases = (x[..., ::2, ::2], x[..., 1::2, ::2], x[..., ::2, 1::2], x[..., 1::2, 1::2])
        return self.conv(torch.cat(phases, 1))


class CSPDarknet(nn.Module):
    """The backbone: Focus stem, then dark2..dark5 (stride-2 conv + CSP; SPP before dark5's CSP); C3-C5 out."""

    def __init__(self, depth: float, width: float, depthwise: bool) -> None:
        super().__init__()
        base = int(width * 64)
        repeats = max(round(depth * 3), 1)
        self.stem = Focus(3, base, 3)
        self.dark2 = nn.Sequential(
            _conv(depthwise, base, base * 2, 3, 2), CSPLayer(base * 2, base * 2, repeats, depthwise=depthwise)
        )
        self.dark3 = nn.Sequential(
            _conv(depthwise, base * 2, base * 4, 3, 2), CSPLayer(base * 4, base * 4, repeats * 3, depthwise=depthwise)
        )
        self.dark4 = nn.Sequential(
            _conv(depthwise, base * 4, base * 8, 3, 2), CSPLayer(base * 8, base * 8, repeats * 3, depthwise=depthwise)
        )
        self.dark5 = nn.Sequential(
            _conv(depthwise, base * 8, base * 16, 3, 2),
            SPPBottleneck(base * 16, base * 16),
            CSPLayer(base * 16, base * 16, repeats, shortcut=False, depthwise=depthwise),
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        c3 = self.dark3(self.dark2(self.stem(x)))
        c4 = self.dark4(c3)
        return c3, c4, self.dark5(c4)


class YOLOPAFPN(nn.Module):
    """The neck: top-down (lateral 1x1, upsample, concat, CSP) then bottom-up (stride-2 conv, concat, CSP)."""

    def __init__(self, depth: float, width: float, depthwise: bool) -> None:
        super().__init__()
        c3, c4, c5 = (int(c * width) for c in _NECK_CHANNELS)
        n = round(3 * depth)
        self.backbone = CSPDarknet(depth, width, depthwise)
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.lateral_conv0 = BaseConv(c5, c4, 1)
        self.C3_p4 = CSPLayer(2 * c4, c4, n, False, depthwise)
        self.reduce_conv1 = BaseConv(c4, c3, 1)
        self.C3_p3 = CSPLayer(2 * c3, c3, n, False, depthwise)
        self.bu_conv2 = _conv(depthwise, c3, c3, 3, 2)
        self.C3_n3 = CSPLayer(2 * c3, c4, n, False, depthwise)
        self.bu_conv1 = _conv(depthwise, c4, c4, 3, 2)
        self.C3_n4 = CSPLayer(2 * c4, c5, n, False, depthwise)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        c3, c4, c5 = self.backbone(x)
        top5 = self.lateral_conv0(c5)
        p4 = self.C3_p4(torch.cat([self.upsample(top5), c4], 1))
        top4 = self.reduce_conv1(p4)
        out3 = self.C3_p3(torch.cat([self.upsample(top4), c3], 1))
        out4 = self.C3_n3(torch.cat([self.bu_conv2(out3), top4], 1))
        out5 = self.C3_n4(torch.cat([self.bu_conv1(out4), top5], 1))
        return out3, out4, out5


class YOLOXHead(nn.Module):
    """Decoupled head per level: 1x1 stem; two 3x3 convs -> class logits; two 3x3 convs -> box (4) and objectness."""

    def __init__(self, num_classes: int, width: float, depthwise: bool) -> None:
        super().__init__()
        hidden = int(_HEAD_CHANNELS * width)
        self.num_classes = num_classes
        self.strides = STRIDES
        self.cls_convs = nn.ModuleList(
            nn.Sequential(_conv(depthwise, hidden, hidden, 3), _conv(depthwise, hidden, hidden, 3)) for _ in STRIDES
        )
        self.reg_convs = nn.ModuleList(
            nn.Sequential(_conv(depthwise, hidden, hidden, 3), _conv(depthwise, hidden, hidden, 3)) for _ in STRIDES
        )
        self.cls_preds = nn.ModuleList(nn.Conv2d(hidden, num_classes, 1) for _ in STRIDES)
        self.reg_preds = nn.ModuleList(nn.Conv2d(hidden, 4, 1) for _ in STRIDES)
        self.obj_preds = nn.ModuleList(nn.Conv2d(hidden, 1, 1) for _ in STRIDES)
        # registered last, as in the official head, so that state_dict() lists the keys in the files' order
        self.stems = nn.ModuleList(BaseConv(int(c * width), hidden, 1) for c in _NECK_CHANNELS)

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        levels = []
        for k, x in enumerate(feats):
            x = self.stems[k](x)
            reg = self.reg_convs[k](x)
            out = torch.cat(
                [
                    self.reg_preds[k](reg),
                    self.obj_preds[k](reg).sigmoid(),
                    self.cls_preds[k](self.cls_convs[k](x)).sigmoid(),
                ],
                1,
            )
            levels.append(self.decode(out, self.strides[k]))
        return torch.cat(levels, 1)

    @staticmethod
    def decode(out: torch.Tensor, stride: int) -> torch.Tensor:
        """One level's (N, 5 + C, ny, nx) outputs -> (N, ny * nx, 5 + C) with boxes in input pixels."""
        ny, nx = out.shape[-2:]
        rows = out.flatten(2).permute(0, 2, 1)
        gy, gx = torch.meshgrid(
            torch.arange(ny, device=out.device, dtype=out.dtype),
            torch.arange(nx, device=out.device, dtype=out.dtype),
            indexing="ij",
        )
        grid = torch.stack((gx, gy), 2).view(1, ny * nx, 2)
        xy = (rows[..., :2] + grid) * stride
        wh = torch.exp(rows[..., 2:4]) * stride
        return torch.cat([xy, wh, rows[..., 4:]], -1)


class YOLOX(nn.Module):
    """The whole detector: ``backbone`` (PAN neck over CSPDarknet) and ``head``, as the official ``YOLOX``."""

    def __init__(self, variant: str, num_classes: int = 80) -> None:
        super().__init__()
        key = variant_key(variant)
        depth, width, depthwise = VARIANTS[key]
        self.variant = key
        self.backbone = YOLOPAFPN(depth, width, depthwise)
        self.head = YOLOXHead(num_classes, width, depthwise)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))

    def extra_repr(self) -> str:
        return f"yolox-{self.variant}, {self.head.num_classes} classes"


def variant_key(variant: str) -> str:
    """``nano``/``tiny``/``s``/``m``/``l``/``x`` from a variant or detector name (``yolox-s`` -> ``s``)."""
    key = str(variant).strip().lower().replace("_", "-").removeprefix("yolox-")
    if key not in VARIANTS:
        raise ConfigError(f"unknown YOLOX variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    return key


def build_yolox(variant: str = "s", num_classes: int = 80) -> YOLOX:
    """A randomly initialised YOLOX variant in eval mode (weights: :func:`load_yolox_weights`)."""
    return YOLOX(variant, num_classes).eval()


def load_yolox_weights(path: str | Path, variant: str, device: torch.device | str = "cpu") -> YOLOX:
    """A YOLOX with the weights of an official ``yolox_*.pth`` (the state_dict under ``"model"``) or a plain
    state_dict, read tensor-only (``weights_only=True``) and loaded strictly; CheckpointError (one line) otherwise."""
    from alphapose_kit.io.checkpoint import load_into, read_state_dict

    model = YOLOX(variant)
    load_into(model, read_state_dict(path), f"YOLOX-{model.variant}", path)
    return model.to(device).eval()
