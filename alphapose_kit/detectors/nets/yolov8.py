"""Ultralytics YOLOv8 and YOLO11 detection networks (n/s/m/l/x), built without the ultralytics package.

Facts from Ultralytics' own files (github.com/ultralytics/ultralytics, read for facts only, AGPL-3.0):
``ultralytics/cfg/models/v8/yolov8.yaml`` and ``cfg/models/11/yolo11.yaml`` (the layer tables, written out in
:data:`LAYOUTS` in the yaml's own notation, and the scales: depth, width, max channels), ``nn/tasks.py``
``parse_model`` (channels: ceil(min(c, max_channels) * width / 8) * 8; repeats: max(round(n * depth), 1) when n > 1;
C3k2 uses C3k blocks for every layer of the m/l/x scales; a Detect after a C3k2 is the YOLO11 head, whose class
branch starts with depthwise convolutions), ``nn/modules/{conv,block,head}.py`` (what each block computes) and
``utils/torch_utils.initialize_weights`` (every BatchNorm has eps 1e-3). Module names follow the official
``DetectionModel``, so the state_dict keys are the release files' own (``model.0.conv.weight`` ...
``model.22.dfl.conv.weight``).

Eval forward on N x 3 x S x S (RGB / 255, letterboxed, S a multiple of 32) returns ``(pred, raw)``. ``pred`` is
(N, rows, 5 + classes) in akit's YOLO layout (:class:`~alphapose_kit.detectors.yolo.YOLODetector`): cx, cy, w, h
in input pixels, then 1.0 in the objectness column (the head is anchor-free and has none, so objectness x class
is the class score Ultralytics ranks by), then the sigmoid class scores. Rows run stride 8, 16, 32, each level
row by row. Boxes use DFL decoding: per side a softmax over 16 bins, its expectation is the distance (in strides)
from the anchor point (cell centre, +0.5) to that side; x1 = ax - left, x2 = ax + right, and so on. ``raw`` is
(box logits (N, 64, rows), class logits (N, classes, rows)), what Ultralytics' head computes before decoding.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from alphapose_kit.detectors.nets.yolov5 import SPPF, Concat, run_layer_graph  # the blocks both families share
from alphapose_kit.errors import ConfigError

__all__ = [
    "FAMILIES", "LAYOUTS", "MODEL_NAMES", "REG_MAX", "SCALES", "STRIDES", "UltralyticsYOLO", "build_yolov8",
    "parse_name",
]  # fmt: skip

STRIDES = (8, 16, 32)
REG_MAX = 16  # DFL bins per box side
FAMILIES = ("yolov8", "yolo11")
MODEL_NAMES = tuple(f"{family}{scale}" for family in FAMILIES for scale in "nsmlx")

# family -> scale -> (depth, width, max channels), as in the ``scales`` of yolov8.yaml / yolo11.yaml
SCALES: dict[str, dict[str, tuple[float, float, int]]] = {
    "yolov8": {
        "n": (0.33, 0.25, 1024),
        "s": (0.33, 0.50, 1024),
        "m": (0.67, 0.75, 768),
        "l": (1.00, 1.00, 512),
        "x": (1.00, 1.25, 512),
    },
    "yolo11": {
        "n": (0.50, 0.25, 1024),
        "s": (0.50, 0.50, 1024),
        "m": (0.50, 1.00, 512),
        "l": (1.00, 1.00, 512),
        "x": (1.00, 1.50, 512),
    },
}

_UP = [-1, 1, "nn.Upsample", [None, 2, "nearest"]]

# The layer tables before scaling, [from, repeats, module, args], so that a checkpoint's yaml can be compared.
LAYOUTS: dict[str, tuple[list[Any], ...]] = {
    "yolov8": (
        [-1, 1, "Conv", [64, 3, 2]],  # 0  stride 2
        [-1, 1, "Conv", [128, 3, 2]],  # 1  stride 4
        [-1, 3, "C2f", [128, True]],  # 2
        [-1, 1, "Conv", [256, 3, 2]],  # 3  stride 8
        [-1, 6, "C2f", [256, True]],  # 4
        [-1, 1, "Conv", [512, 3, 2]],  # 5  stride 16
        [-1, 6, "C2f", [512, True]],  # 6
        [-1, 1, "Conv", [1024, 3, 2]],  # 7  stride 32
        [-1, 3, "C2f", [1024, True]],  # 8
        [-1, 1, "SPPF", [1024, 5]],  # 9
        _UP,  # 10
        [[-1, 6], 1, "Concat", [1]],  # 11
        [-1, 3, "C2f", [512]],  # 12
        _UP,  # 13
        [[-1, 4], 1, "Concat", [1]],  # 14
        [-1, 3, "C2f", [256]],  # 15  P3 out
        [-1, 1, "Conv", [256, 3, 2]],  # 16
        [[-1, 12], 1, "Concat", [1]],  # 17
        [-1, 3, "C2f", [512]],  # 18  P4 out
        [-1, 1, "Conv", [512, 3, 2]],  # 19
        [[-1, 9], 1, "Concat", [1]],  # 20
        [-1, 3, "C2f", [1024]],  # 21  P5 out
        [[15, 18, 21], 1, "Detect", ["nc"]],  # 22
    ),
    "yolo11": (
        [-1, 1, "Conv", [64, 3, 2]],  # 0
        [-1, 1, "Conv", [128, 3, 2]],  # 1
        [-1, 2, "C3k2", [256, False, 0.25]],  # 2
        [-1, 1, "Conv", [256, 3, 2]],  # 3
        [-1, 2, "C3k2", [512, False, 0.25]],  # 4
        [-1, 1, "Conv", [512, 3, 2]],  # 5
        [-1, 2, "C3k2", [512, True]],  # 6
        [-1, 1, "Conv", [1024, 3, 2]],  # 7
        [-1, 2, "C3k2", [1024, True]],  # 8
        [-1, 1, "SPPF", [1024, 5]],  # 9
        [-1, 2, "C2PSA", [1024]],  # 10
        _UP,  # 11
        [[-1, 6], 1, "Concat", [1]],  # 12
        [-1, 2, "C3k2", [512, False]],  # 13
        _UP,  # 14
        [[-1, 4], 1, "Concat", [1]],  # 15
        [-1, 2, "C3k2", [256, False]],  # 16  P3 out
        [-1, 1, "Conv", [256, 3, 2]],  # 17
        [[-1, 13], 1, "Concat", [1]],  # 18
        [-1, 2, "C3k2", [512, False]],  # 19  P4 out
        [-1, 1, "Conv", [512, 3, 2]],  # 20
        [[-1, 10], 1, "Concat", [1]],  # 21
        [-1, 2, "C3k2", [1024, True]],  # 22  P5 out
        [[16, 19, 22], 1, "Detect", ["nc"]],  # 23
    ),
}


def scale_channels(channels: int, width: float, max_channels: int) -> int:
    """parse_model's width rule: min(c, max_channels) * width, rounded up to a multiple of 8."""
    return math.ceil(min(channels, max_channels) * width / 8) * 8


def scale_depth(repeats: int, depth: float) -> int:
    """parse_model's depth rule for a block's repeat count."""
    return max(round(repeats * depth), 1) if repeats > 1 else repeats


class Conv(nn.Module):
    """Conv2d (no bias, 'same' padding, optional groups) + BatchNorm2d (eps 1e-3) + SiLU (or none)."""

    def __init__(self, c_in: int, c_out: int, k: int = 1, s: int = 1, groups: int = 1, act: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, s, k // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=1e-3, momentum=0.03)
        self.act: nn.Module = nn.SiLU(inplace=True) if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    """k1 x k1 Conv to c_out * e channels, k2 x k2 Conv to c_out, plus the input when ``shortcut`` and sizes agree."""

    def __init__(
        self, c_in: int, c_out: int, shortcut: bool = True, k: tuple[int, int] = (3, 3), e: float = 0.5
    ) -> None:
        super().__init__()
        hidden = int(c_out * e)
        self.cv1 = Conv(c_in, hidden, k[0])
        self.cv2 = Conv(hidden, c_out, k[1])
        self.add = shortcut and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C2f(nn.Module):
    """1x1 Conv to 2c (c = c_out * e), split in halves, n blocks chained on the second half, every output
    concatenated, 1x1 Conv to c_out. YOLOv8's blocks are two 3x3 Convs of c channels."""

    def __init__(self, c_in: int, c_out: int, n: int = 1, shortcut: bool = False, e: float = 0.5) -> None:
        super().__init__()
        self.c = int(c_out * e)
        self.cv1 = Conv(c_in, 2 * self.c, 1)
        self.cv2 = Conv((2 + n) * self.c, c_out, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, self.c, shortcut, (3, 3), e=1.0) for _ in range(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = list(self.cv1(x).chunk(2, 1))
        for block in self.m:
            y.append(block(y[-1]))
        return self.cv2(torch.cat(y, 1))


class C3k(nn.Module):
    """YOLOv5's C3 with 3x3 + 3x3 bottlenecks: two 1x1 branches of c_out/2, n blocks on the first, concat, 1x1."""

    def __init__(self, c_in: int, c_out: int, n: int = 2, shortcut: bool = True) -> None:
        super().__init__()
        hidden = c_out // 2
        self.cv1 = Conv(c_in, hidden, 1)
        self.cv2 = Conv(c_in, hidden, 1)
        self.cv3 = Conv(2 * hidden, c_out, 1)
        self.m = nn.Sequential(*(Bottleneck(hidden, hidden, shortcut, (3, 3), e=1.0) for _ in range(n)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class C3k2(C2f):
    """YOLO11's C2f: its blocks are C3k (two bottlenecks) when ``c3k``, else a Bottleneck that halves the channels."""

    def __init__(
        self, c_in: int, c_out: int, n: int = 1, c3k: bool = False, e: float = 0.5, shortcut: bool = True
    ) -> None:
        super().__init__(c_in, c_out, n, shortcut, e)
        self.m = nn.ModuleList(
            C3k(self.c, self.c, 2, shortcut) if c3k else Bottleneck(self.c, self.c, shortcut) for _ in range(n)
        )


class Attention(nn.Module):
    """Multi-head self-attention over the H x W positions, with 1x1 qkv / projection Convs (no activation) and a
    depthwise 3x3 positional term on the values; the key size per head is half the head size."""

    def __init__(self, dim: int, num_heads: int, attn_ratio: float = 0.5) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.key_dim = int(self.head_dim * attn_ratio)
        self.scale = self.key_dim**-0.5
        self.qkv = Conv(dim, dim + 2 * self.key_dim * num_heads, 1, act=False)
        self.proj = Conv(dim, dim, 1, act=False)
        self.pe = Conv(dim, dim, 3, 1, groups=dim, act=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        qkv = self.qkv(x).view(b, self.num_heads, 2 * self.key_dim + self.head_dim, h * w)
        q, k, v = qkv.split([self.key_dim, self.key_dim, self.head_dim], dim=2)
        weights = ((q * self.scale).transpose(-2, -1) @ k).softmax(dim=-1)
        out = (v @ weights.transpose(-2, -1)).view(b, c, h, w) + self.pe(v.reshape(b, c, h, w))
        return self.proj(out)


class PSABlock(nn.Module):
    """x + attention(x), then + a 1x1 feed-forward (c -> 2c with SiLU -> c)."""

    def __init__(self, c: int, num_heads: int) -> None:
        super().__init__()
        self.attn = Attention(c, num_heads)
        self.ffn = nn.Sequential(Conv(c, 2 * c, 1), Conv(2 * c, c, 1, act=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(x)
        return x + self.ffn(x)


class C2PSA(nn.Module):
    """1x1 Conv to 2c (c = c_in / 2), n PSABlocks (c / 64 heads) on the second half, concat, 1x1 back to c_in."""

    def __init__(self, c_in: int, c_out: int, n: int = 1) -> None:
        super().__init__()
        if c_in != c_out:
            raise ConfigError(f"C2PSA keeps its channel count; got {c_in} in and {c_out} out")
        self.c = c_in // 2
        self.cv1 = Conv(c_in, 2 * self.c, 1)
        self.cv2 = Conv(2 * self.c, c_in, 1)
        self.m = nn.Sequential(*(PSABlock(self.c, max(self.c // 64, 1)) for _ in range(n)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.cv1(x).split((self.c, self.c), dim=1)
        return self.cv2(torch.cat((a, self.m(b)), 1))


class DFL(nn.Module):
    """The expectation of a softmax over ``bins`` distance bins, as a fixed 1x1 conv with weights 0..bins-1."""

    def __init__(self, bins: int = REG_MAX) -> None:
        super().__init__()
        self.conv = nn.Conv2d(bins, 1, 1, bias=False).requires_grad_(False)
        with torch.no_grad():
            self.conv.weight.copy_(torch.arange(bins, dtype=torch.float32).view(1, bins, 1, 1))
        self.bins = bins

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, rows = x.shape  # (N, 4 * bins, rows) -> (N, 4, rows)
        return self.conv(x.view(b, 4, self.bins, rows).transpose(2, 1).softmax(1)).view(b, 4, rows)


def _dw_then_pointwise(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(Conv(c_in, c_in, 3, groups=c_in), Conv(c_in, c_out, 1))


class Detect(nn.Module):
    """The anchor-free head: per level a box branch (two 3x3 Convs, 1x1 to 4 x 16 DFL logits) and a class branch
    (YOLOv8: two 3x3 Convs; YOLO11: depthwise 3x3 + 1x1, twice), then a 1x1 to the class logits."""

    def __init__(self, num_classes: int, channels: list[int], yolo11: bool) -> None:
        super().__init__()
        self.nc = num_classes
        self.nl = len(channels)
        self.reg_max = REG_MAX
        box_c = max(16, channels[0] // 4, 4 * REG_MAX)
        cls_c = max(channels[0], min(num_classes, 100))
        self.cv2 = nn.ModuleList(
            nn.Sequential(Conv(c, box_c, 3), Conv(box_c, box_c, 3), nn.Conv2d(box_c, 4 * REG_MAX, 1)) for c in channels
        )
        if yolo11:
            self.cv3 = nn.ModuleList(
                nn.Sequential(
                    _dw_then_pointwise(c, cls_c), _dw_then_pointwise(cls_c, cls_c), nn.Conv2d(cls_c, self.nc, 1)
                )
                for c in channels
            )
        else:
            self.cv3 = nn.ModuleList(
                nn.Sequential(Conv(c, cls_c, 3), Conv(cls_c, cls_c, 3), nn.Conv2d(cls_c, self.nc, 1)) for c in channels
            )
        self.dfl = DFL(REG_MAX)

    def forward(self, feats: list[torch.Tensor]) -> Any:
        bs = feats[0].shape[0]
        boxes = torch.cat([self.cv2[i](f).view(bs, 4 * self.reg_max, -1) for i, f in enumerate(feats)], -1)
        logits = torch.cat([self.cv3[i](f).view(bs, self.nc, -1) for i, f in enumerate(feats)], -1)
        if self.training:
            return boxes, logits
        return self.decode(boxes, logits, feats), (boxes, logits)

    def decode(self, boxes: torch.Tensor, logits: torch.Tensor, feats: list[torch.Tensor]) -> torch.Tensor:
        """(N, 64, rows) box and (N, C, rows) class logits -> (N, rows, 5 + C) in akit's layout (module docstring)."""
        points, strides = [], []
        for f, stride in zip(feats, STRIDES, strict=True):
            ny, nx = f.shape[2:]
            ys = torch.arange(ny, device=f.device, dtype=boxes.dtype) + 0.5
            xs = torch.arange(nx, device=f.device, dtype=boxes.dtype) + 0.5
            gy, gx = torch.meshgrid(ys, xs, indexing="ij")
            points.append(torch.stack((gx, gy), 0).view(2, -1))
            strides.append(torch.full((1, ny * nx), float(stride), device=f.device, dtype=boxes.dtype))
        anchor, stride_row = torch.cat(points, 1).unsqueeze(0), torch.cat(strides, 1).unsqueeze(0)
        left_top, right_bottom = self.dfl(boxes).chunk(2, 1)
        top_left, bottom_right = anchor - left_top, anchor + right_bottom
        xywh = torch.cat(((top_left + bottom_right) / 2, bottom_right - top_left), 1) * stride_row
        objectness = torch.ones_like(xywh[:, :1])
        return torch.cat((xywh, objectness, logits.sigmoid()), 1).transpose(1, 2)


class UltralyticsYOLO(nn.Module):
    """A YOLOv8 or YOLO11 detection network at one scale; ``model`` is the official Sequential of layers."""

    def __init__(self, family: str, scale: str, num_classes: int = 80, names: list[str] | None = None) -> None:
        super().__init__()
        if family not in SCALES or scale not in SCALES[family]:
            raise ConfigError(f"unknown Ultralytics model {family}{scale}; choose one of {', '.join(MODEL_NAMES)}")
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ConfigError(f"{family} num_classes must be a positive integer, got {num_classes!r}")
        depth, width, max_channels = SCALES[family][scale]
        self.family, self.scale, self.num_classes, self.names = family, scale, num_classes, names
        self.strides = STRIDES
        big = scale in ("m", "l", "x")  # parse_model: C3k2 switches to C3k blocks for these scales

        channels: list[int] = []
        layers: list[nn.Module] = []
        self._sources: list[int | tuple[int, ...]] = []
        for index, (source, repeats, kind, args) in enumerate(LAYOUTS[family]):
            c_in = 3 if index == 0 else channels[-1]
            n = scale_depth(repeats, depth)
            c_out = scale_channels(args[0], width, max_channels) if isinstance(args[0], int) else c_in
            layer: nn.Module
            if kind == "Conv":
                layer = Conv(c_in, c_out, args[1], args[2])
            elif kind == "C2f":
                layer = C2f(c_in, c_out, n, shortcut=len(args) > 1 and bool(args[1]))
            elif kind == "C3k2":
                c3k = big or (len(args) > 1 and bool(args[1]))
                layer = C3k2(c_in, c_out, n, c3k, args[2] if len(args) > 2 else 0.5)
            elif kind == "SPPF":
                layer = SPPF(c_in, c_out, args[1])
            elif kind == "C2PSA":
                layer = C2PSA(c_in, c_out, n)
            elif kind == "nn.Upsample":
                c_out, layer = c_in, nn.Upsample(scale_factor=2.0, mode="nearest")
            elif kind == "Concat":
                c_out, layer = sum(channels[j] for j in source), Concat(args[0])
            else:  # Detect
                c_out, layer = 0, Detect(num_classes, [channels[j] for j in source], yolo11=family == "yolo11")
            layers.append(layer)
            channels.append(c_out)
            self._sources.append(source if isinstance(source, int) else tuple(source))
        self.model = nn.Sequential(*layers)
        self._kept = {j for s in self._sources for j in ((s,) if isinstance(s, int) else s) if j != -1}

    def forward(self, x: torch.Tensor) -> Any:
        return run_layer_graph(self.model, self._sources, self._kept, x)

    def extra_repr(self) -> str:
        return f"{self.family}{self.scale}, {self.num_classes} classes"


def parse_name(name: str) -> tuple[str, str]:
    """(family, scale) from a model name such as ``yolov8s`` or ``yolo11x``; ConfigError otherwise."""
    key = str(name).strip().lower().removesuffix(".pt")
    for family in FAMILIES:
        if key.startswith(family) and key[len(family) :] in SCALES[family]:
            return family, key[len(family) :]
    raise ConfigError(f"unknown Ultralytics model {name!r}; choose one of {', '.join(MODEL_NAMES)}")


def build_yolov8(name: str = "yolov8n", num_classes: int = 80) -> UltralyticsYOLO:
    """A randomly initialised ``yolov8{n,s,m,l,x}`` or ``yolo11{n,s,m,l,x}``."""
    family, scale = parse_name(name)
    return UltralyticsYOLO(family, scale, num_classes)
