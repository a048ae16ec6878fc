"""YOLOv5 n/s/m/l/x (the Ultralytics v6.0 / v7.0 "P5" layout), built and loaded without the yolov5 repository.

The network reproduces the layer table of the official ``yolov5{n,s,m,l,x}.yaml`` (v6.0 onwards: a 6x6 stem
convolution and SPPF, no Focus) scaled by a depth multiple (repeats of C3 blocks: max(round(n * d), 1)) and a
width multiple (channels: ceil(c * w / 8) * 8). Module names match the official ``DetectionModel``, so its
state_dict keys are identical (``model.0.conv.weight`` ... ``model.24.m.2.bias``, ``model.24.anchors``).

Eval forward on N x 3 x S x S (RGB / 255, letterboxed, S a multiple of 32) returns ``(pred, raw)`` like the
original Detect: ``pred`` is (N, 3 * (S/8)^2 + 3 * (S/16)^2 + 3 * (S/32)^2, 5 + classes) with cx, cy, w, h in
input pixels, sigmoid objectness and sigmoid class scores. Rows run stride 8, 16, 32; within a level anchor,
then grid row, then grid column (not Darknet's cell-then-anchor order). Decoding (v5 formula):
xy = (2 sigmoid(t) - 0.5 + cell) * stride, wh = (2 sigmoid(t))^2 * anchor. Train mode returns ``raw``: per
level the (N, 3, ny, nx, 5 + classes) logits. Reading checkpoints into it: :mod:`.yolov5_checkpoint`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import torch
from torch import nn

from alphapose_kit.errors import ConfigError

__all__ = ["COCO_ANCHORS", "LAYOUT", "STRIDES", "VARIANTS", "YOLOv5", "build_yolov5", "scale_channels", "variant_key"]

# variant -> (depth multiple, width multiple), as in the official yolov5{n,s,m,l,x}.yaml
VARIANTS: dict[str, tuple[float, float]] = {
    "n": (0.33, 0.25),
    "s": (0.33, 0.50),
    "m": (0.67, 0.75),
    "l": (1.00, 1.00),
    "x": (1.33, 1.25),
}
COCO_ANCHORS: tuple[tuple[int, ...], ...] = (
    (10, 13, 16, 30, 33, 23),  # stride 8
    (30, 61, 62, 45, 59, 119),  # stride 16
    (116, 90, 156, 198, 373, 326),  # stride 32
)
STRIDES = (8, 16, 32)

# The layer table at depth = width = 1 ("l"), in the official yaml's own notation so that a checkpoint's
# ``yaml["backbone"] + yaml["head"]`` can be compared with it: [from, repeats, module, args].
LAYOUT: tuple[list[Any], ...] = (
    [-1, 1, "Conv", [64, 6, 2, 2]],  # 0  stride 2
    [-1, 1, "Conv", [128, 3, 2]],  # 1  stride 4
    [-1, 3, "C3", [128]],  # 2
    [-1, 1, "Conv", [256, 3, 2]],  # 3  stride 8
    [-1, 6, "C3", [256]],  # 4
    [-1, 1, "Conv", [512, 3, 2]],  # 5  stride 16
    [-1, 9, "C3", [512]],  # 6
    [-1, 1, "Conv", [1024, 3, 2]],  # 7  stride 32
    [-1, 3, "C3", [1024]],  # 8
    [-1, 1, "SPPF", [1024, 5]],  # 9
    [-1, 1, "Conv", [512, 1, 1]],  # 10
    [-1, 1, "nn.Upsample", [None, 2, "nearest"]],  # 11
    [[-1, 6], 1, "Concat", [1]],  # 12
    [-1, 3, "C3", [512, False]],  # 13
    [-1, 1, "Conv", [256, 1, 1]],  # 14
    [-1, 1, "nn.Upsample", [None, 2, "nearest"]],  # 15
    [[-1, 4], 1, "Concat", [1]],  # 16
    [-1, 3, "C3", [256, False]],  # 17  P3 out
    [-1, 1, "Conv", [256, 3, 2]],  # 18
    [[-1, 14], 1, "Concat", [1]],  # 19
    [-1, 3, "C3", [512, False]],  # 20  P4 out
    [-1, 1, "Conv", [512, 3, 2]],  # 21
    [[-1, 10], 1, "Concat", [1]],  # 22
    [-1, 3, "C3", [1024, False]],  # 23  P5 out
    [[17, 20, 23], 1, "Detect", ["nc", "anchors"]],  # 24
)


def scale_channels(channels: int, width_multiple: float) -> int:
    """Official width scaling: the nearest multiple of 8 at or above channels * width."""
    return math.ceil(channels * width_multiple / 8) * 8


def scale_depth(repeats: int, depth_multiple: float) -> int:
    """Official depth scaling of a block's repeat count."""
    return max(round(repeats * depth_multiple), 1) if repeats > 1 else repeats


class Conv(nn.Module):
    """Conv2d (no bias, 'same' padding unless given) + BatchNorm2d (eps 1e-3, as trained) + SiLU."""

    def __init__(self, c_in: int, c_out: int, k: int = 1, s: int = 1, p: int | None = None) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, s, k // 2 if p is None else p, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    """1x1 Conv then 3x3 Conv, plus the input when ``shortcut`` and the channel counts agree."""

    def __init__(self, c_in: int, c_out: int, shortcut: bool = True) -> None:
        super().__init__()
        self.cv1 = Conv(c_in, c_out, 1)
        self.cv2 = Conv(c_out, c_out, 3)
        self.add = shortcut and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C3(nn.Module):
    """CSP block: two 1x1 branches of c_out/2 channels, n Bottlenecks on the first, concat, 1x1 to c_out."""

    def __init__(self, c_in: int, c_out: int, n: int = 1, shortcut: bool = True) -> None:
        super().__init__()
        hidden = c_out // 2
        self.cv1 = Conv(c_in, hidden, 1)
        self.cv2 = Conv(c_in, hidden, 1)
        self.cv3 = Conv(2 * hidden, c_out, 1)
        self.m = nn.Sequential(*(Bottleneck(hidden, hidden, shortcut) for _ in range(n)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class SPPF(nn.Module):
    """Fast spatial pyramid pooling: 1x1 to c_in/2, three chained k x k stride-1 max pools, concat, 1x1."""

    def __init__(self, c_in: int, c_out: int, k: int = 5) -> None:
        super().__init__()
        hidden = c_in // 2
        self.cv1 = Conv(c_in, hidden, 1)
        self.cv2 = Conv(hidden * 4, c_out, 1)
        self.m = nn.MaxPool2d(kernel_size=k, stride=1, padding=k // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.cv1(x)
        y1 = self.m(x)
        y2 = self.m(y1)
        return self.cv2(torch.cat((x, y1, y2, self.m(y2)), 1))


class Concat(nn.Module):
    """Concatenate a list of tensors along ``dimension``."""

    def __init__(self, dimension: int = 1) -> None:
        super().__init__()
        self.d = dimension

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(xs, self.d)


class Detect(nn.Module):
    """Per level a 1x1 Conv2d (with bias) to anchors x (5 + classes) logits, and the v5 box decoding.

    The ``anchors`` buffer holds the anchors in units of each level's stride, as the official one does.
    """

    anchors: torch.Tensor

    def __init__(
        self,
        num_classes: int,
        anchors: Sequence[Sequence[float]],
        channels: Sequence[int],
        strides: Sequence[int] = STRIDES,
    ) -> None:
        super().__init__()
        self.nc = num_classes
        self.no = num_classes + 5
        self.nl = len(anchors)
        self.na = len(anchors[0]) // 2
        if len(channels) != self.nl or len(strides) != self.nl:
            raise ConfigError("YOLOv5 Detect needs one anchor set and one stride per input level")
        self.strides = tuple(float(s) for s in strides)
        pixels = torch.tensor(anchors, dtype=torch.float32).view(self.nl, -1, 2)
        self.register_buffer("anchors", pixels / torch.tensor(self.strides).view(-1, 1, 1))
        self.m = nn.ModuleList(nn.Conv2d(c, self.no * self.na, 1) for c in channels)

    def forward(self, feats: list[torch.Tensor]) -> list[torch.Tensor] | tuple[torch.Tensor, list[torch.Tensor]]:
        raw: list[torch.Tensor] = []
        decoded: list[torch.Tensor] = []
        for i, conv in enumerate(self.m):
            p = conv(feats[i])
            bs, _, ny, nx = p.shape
            p = p.view(bs, self.na, self.no, ny, nx).permute(0, 1, 3, 4, 2).contiguous()
            raw.append(p)
            if not self.training:
                decoded.append(self.decode(p, i))
        if self.training:
            return raw
        return torch.cat(decoded, 1), raw

    def decode(self, p: torch.Tensor, level: int) -> torch.Tensor:
        """Level ``level`` logits (N, na, ny, nx, no) -> (N, na * ny * nx, no) boxes in input pixels."""
        bs, _, ny, nx, _ = p.shape
        stride = self.strides[level]
        ys = torch.arange(ny, device=p.device, dtype=p.dtype)
        xs = torch.arange(nx, device=p.device, dtype=p.dtype)
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        grid = torch.stack((gx, gy), 2).view(1, 1, ny, nx, 2) - 0.5  # 2 sigmoid - 0.5 + cell
        anchor_px = (self.anchors[level] * stride).view(1, self.na, 1, 1, 2).to(p.dtype)
        xy, wh, conf = p.sigmoid().split((2, 2, self.no - 4), 4)
        xy = (xy * 2 + grid) * stride
        wh = (wh * 2) ** 2 * anchor_px
        return torch.cat((xy, wh, conf), 4).view(bs, self.na * ny * nx, self.no)


def run_layer_graph(layers: nn.Sequential, sources: list, kept: set[int], x: torch.Tensor) -> Any:
    """Ultralytics' layer graph (its YAML's ``from`` column): each layer takes the previous output (-1), an earlier
    layer's (an index) or several (a tuple, for Concat and Detect); only outputs a later layer reads are kept."""
    outputs: list[torch.Tensor | None] = []
    y: Any = x
    for index, layer in enumerate(layers):
        source = sources[index]
        if isinstance(source, tuple):
            y = [y if j == -1 else outputs[j] for j in source]
        elif source != -1:
            y = outputs[source]
        y = layer(y)
        outputs.append(y if index in kept else None)
    return y


class YOLOv5(nn.Module):
    """The YOLOv5 P5 network at one depth / width multiple; ``model`` is the official 25-layer Sequential."""

    def __init__(
        self,
        depth_multiple: float,
        width_multiple: float,
        num_classes: int = 80,
        anchors: Sequence[Sequence[float]] = COCO_ANCHORS,
        names: list[str] | None = None,
        variant: str | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ConfigError(f"YOLOv5 num_classes must be a positive integer, got {num_classes!r}")
        self.depth_multiple = float(depth_multiple)
        self.width_multiple = float(width_multiple)
        self.num_classes = num_classes
        self.variant = variant
        self.names = names
        self.strides = STRIDES

        channels: list[int] = []  # output channels per layer
        layers: list[nn.Module] = []
        self._sources: list[int | tuple[int, ...]] = []
        for index, (source, repeats, kind, args) in enumerate(LAYOUT):
            c_in = 3 if index == 0 else channels[-1]
            if kind == "Conv":
                c_out = scale_channels(args[0], width_multiple)
                layer: nn.Module = Conv(c_in, c_out, *args[1:])
            elif kind == "C3":
                c_out = scale_channels(args[0], width_multiple)
                shortcut = args[1] if len(args) > 1 else True
                layer = C3(c_in, c_out, scale_depth(repeats, depth_multiple), shortcut)
            elif kind == "SPPF":
                c_out = scale_channels(args[0], width_multiple)
                layer = SPPF(c_in, c_out, args[1])
            elif kind == "nn.Upsample":
                c_out = c_in
                layer = nn.Upsample(scale_factor=2.0, mode="nearest")
            elif kind == "Concat":
                c_out = sum(channels[j] for j in source if j != -1) + c_in
                layer = Concat(args[0])
            else:  # Detect
                c_out = 0
                layer = Detect(num_classes, anchors, [channels[j] for j in source])
            layers.append(layer)
            channels.append(c_out)
            self._sources.append(source if isinstance(source, int) else tuple(source))
        self.model = nn.Sequential(*layers)
        self._kept = {j for s in self._sources for j in ((s,) if isinstance(s, int) else s) if j != -1}
        self._init_detect_biases()

    @torch.no_grad()
    def _init_detect_biases(self) -> None:
        # Priors as Ultralytics trains from (about 8 objects per 640 image, class score 0.6 / nc); only a
        # randomly initialised model sees them, any checkpoint overwrites them.
        detect = cast(Detect, self.model[-1])
        for conv, stride in zip(detect.m, detect.strides, strict=True):
            bias = cast(nn.Conv2d, conv).bias.view(detect.na, -1)
            bias[:, 4] += math.log(8 / (640 / stride) ** 2)
            bias[:, 5:] += math.log(0.6 / (detect.nc - 0.99999))

    def forward(self, x: torch.Tensor) -> Any:
        return run_layer_graph(self.model, self._sources, self._kept, x)

    def extra_repr(self) -> str:
        name = f"yolov5{self.variant}" if self.variant else "custom"
        return f"{name}, depth {self.depth_multiple}, width {self.width_multiple}, {self.num_classes} classes"


def variant_key(variant: str) -> str:
    """``n``/``s``/``m``/``l``/``x`` from a variant or model name (``yolov5s`` -> ``s``); ConfigError otherwise."""
    key = str(variant).strip().lower()
    key = key[len("yolov5") :] if key.startswith("yolov5") else key
    if key not in VARIANTS:
        raise ConfigError(f"unknown YOLOv5 variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    return key


def build_yolov5(variant: str = "s", num_classes: int = 80) -> YOLOv5:
    """A randomly initialised YOLOv5 ``n``/``s``/``m``/``l``/``x`` (``yolov5s`` etc. accepted too)."""
    key = variant_key(variant)
    depth, width = VARIANTS[key]
    return YOLOv5(depth, width, num_classes, variant=key)
