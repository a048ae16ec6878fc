"""Darknet YOLO networks built from parsed ``.cfg`` blocks, and darknet's binary ``.weights`` format.

:class:`DarknetYOLO` builds the layers of a YOLOv3-family cfg (convolutional, shortcut, route, upsample, maxpool,
yolo) and returns decoded boxes; :func:`load_darknet_weights` / :func:`save_darknet_weights` read and write the
original ``.weights`` layout, so the official ``yolov3-spp.weights`` loads unchanged.

``.weights`` layout (little-endian): a header of int32 major, minor, revision and int64 ``seen`` (images seen in
training; 20 bytes in all), then float32 values; for each ``[convolutional]`` in cfg order: with batch norm, BN bias
(beta), BN weight (gamma), running mean, running var, then the conv weights (out, in, kh, kw); without batch norm,
the conv bias, then the conv weights. Darknet files older than version 0.2 store ``seen`` as int32 (16-byte header);
those load too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from alphapose_kit.detectors.nets.darknet_cfg import Block, parse_darknet_cfg
from alphapose_kit.errors import AkitError, CheckpointError, ConfigError
from alphapose_kit.hub.file_kind import DARKNET, UNKNOWN, describe_kind, file_kind
from alphapose_kit.io.atomic import atomic_path

__all__ = [
    "DarknetYOLO",
    "expected_weights_bytes",
    "load_darknet_weights",
    "parse_darknet_cfg",
    "save_darknet_weights",
]

LEAKY_SLOPE = 0.1
BN_EPS = 1e-5
HEADER_BYTES = 20
_DEFAULT_HEADER = (0, 2, 0, 0)  # major, minor, revision, seen


# --------------------------------------------------------------------------------------------------- cfg options
def _int_opt(block: Block, key: str, default: int | None, where: str, minimum: int | None = None) -> int:
    value = block.get(key, default)
    if value is None:
        raise ConfigError(f"{where}: missing option '{key}'")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}: '{key}' must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{where}: '{key}' must be >= {minimum}, got {value}")
    return value


def _int_list_opt(block: Block, key: str, default: list[int] | None, where: str) -> list[int]:
    value = block.get(key, default)
    if value is None:
        raise ConfigError(f"{where}: missing option '{key}'")
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, int) for v in value):
        raise ConfigError(f"{where}: '{key}' must be a comma-separated list of integers, got {value!r}")
    return list(value)


def _activation(block: Block, where: str, default: str) -> nn.Module:
    name = block.get("activation", default)
    if name == "leaky":
        return nn.LeakyReLU(LEAKY_SLOPE)
    if name == "linear":
        return nn.Identity()
    if name == "relu":
        return nn.ReLU()
    if name == "logistic":
        return nn.Sigmoid()
    raise ConfigError(f"{where}: activation {name!r} is not supported (use leaky, linear, relu or logistic)")


# --------------------------------------------------------------------------------------------------------- layers
class ConvLayer(nn.Module):
    """Conv2d (bias only without batch norm) -> BatchNorm2d(eps 1e-5) -> activation."""

    def __init__(
        self, in_channels: int, filters: int, size: int, stride: int, padding: int, batch_norm: bool, act: nn.Module
    ):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, filters, size, stride, padding, bias=not batch_norm)
        self.bn = nn.BatchNorm2d(filters, eps=BN_EPS) if batch_norm else None
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return self.act(x)


class MaxPoolLayer(nn.Module):
    """Darknet maxpool. QUIRK (AlphaPose): stride-1 pools (the SPP block) pad with zeros, not -inf."""

    def __init__(self, size: int, stride: int):
        super().__init__()
        self.size, self.stride = size, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            lo = (self.size - 1) // 2
            hi = self.size - 1 - lo
            return F.max_pool2d(F.pad(x, (lo, hi, lo, hi), value=0.0), self.size, 1)
        return F.max_pool2d(x, self.size, self.stride, padding=(self.size - 1) // 2)

    def extra_repr(self) -> str:
        return f"size={self.size}, stride={self.stride}"


class UpsampleLayer(nn.Module):
    """Nearest-neighbour upsampling by an integer factor."""

    def __init__(self, stride: int):
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=float(self.stride), mode="nearest")

    def extra_repr(self) -> str:
        return f"stride={self.stride}"


class RouteLayer(nn.Module):
    """Concatenates (along channels, in the listed order) the outputs of earlier layers."""

    def __init__(self, sources: list[int]):
        super().__init__()
        self.sources = sources

    def extra_repr(self) -> str:
        return f"sources={self.sources}"


class ShortcutLayer(nn.Module):
    """Adds the previous layer's output and an earlier layer's output, then applies an activation."""

    def __init__(self, source: int, act: nn.Module):
        super().__init__()
        self.source = source
        self.act = act

    def extra_repr(self) -> str:
        return f"source={self.source}"


class YOLOLayer(nn.Module):
    """Decodes one detection head: (N, A*(5+C), H, W) -> (N, H*W*A, 5+C) rows [cx, cy, w, h, obj, classes...].

    Rows are grid cells row-major, then anchor. cx = (sigmoid(tx) + col) * stride, w = exp(tw) * anchor_w, both in
    input pixels; objectness and class scores are independent sigmoids.
    """

    def __init__(self, anchors: list[tuple[float, float]], num_classes: int, stride: int):
        super().__init__()
        self.num_classes = num_classes
        self.stride = stride
        self.anchors = tuple(anchors)
        # a plain CPU tensor, not a buffer: it survives to_empty() (meta-device construction) and is a trace constant
        self._anchor_wh = torch.tensor(anchors, dtype=torch.float32, device="cpu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, gh, gw = x.shape
        na, attrs = len(self.anchors), 5 + self.num_classes
        p = x.view(n, na, attrs, gh, gw).permute(0, 3, 4, 1, 2)  # N, rows, cols, anchors, attrs
        rows = torch.arange(gh, device=x.device, dtype=x.dtype)
        cols = torch.arange(gw, device=x.device, dtype=x.dtype)
        grid = torch.stack(torch.meshgrid(cols, rows, indexing="xy"), dim=-1)[:, :, None, :]  # rows, cols, 1, (x,y)
        xy = (p[..., 0:2].sigmoid() + grid) * self.stride
        wh = p[..., 2:4].exp() * self._anchor_wh.to(x)
        scores = p[..., 4:].sigmoid()
        return torch.cat((xy, wh, scores), dim=-1).reshape(n, gh * gw * na, attrs)

    def extra_repr(self) -> str:
        return f"anchors={list(self.anchors)}, classes={self.num_classes}, stride={self.stride}"


# ---------------------------------------------------------------------------------------------------------- model
class DarknetYOLO(nn.Module):
    """A YOLOv3-family detector built from :func:`parse_darknet_cfg` blocks.

    ``forward(x)`` takes N x C x H x W (RGB / 255, letterboxed; H and W multiples of ``input_multiple``, 32 for
    YOLOv3) and returns one tensor (N, sum over yolo layers of A*gh*gw, 5 + classes): cx, cy, w, h in input pixels,
    sigmoid objectness, sigmoid class probabilities. Rows: yolo layers in cfg order, then grid cell row-major, then
    anchor. The decoding is the same in train and eval mode.

    Layer indices are darknet's: the [net] section is not a layer, the first section after it is layer 0.
    """

    def __init__(self, blocks: Sequence[Block], in_channels: int = 3):
        super().__init__()
        blocks = [dict(b) for b in blocks]
        self.net_info: Block = blocks.pop(0) if blocks and blocks[0].get("type") == "net" else {}
        self.blocks: list[Block] = blocks
        self.in_channels = in_channels

        layers: list[nn.Module] = []
        channels: list[int] = []  # output channels of each layer
        scales: list[Fraction] = []  # input size / output size of each layer
        keep: set[int] = set()
        yolo_layers: list[YOLOLayer] = []
        c, scale = in_channels, Fraction(1)

        def resolve(ref: int, i: int, where: str) -> int:
            j = i + ref if ref < 0 else ref
            if not 0 <= j < i:
                raise ConfigError(f"{where}: layer reference {ref} does not name an earlier layer (0..{i - 1})")
            return j

        for i, block in enumerate(blocks):
            kind = block.get("type")
            where = f"layer {i} [{kind}]"
            if kind == "convolutional":
                filters = _int_opt(block, "filters", None, where, 1)
                size = _int_opt(block, "size", 1, where, 1)
                stride = _int_opt(block, "stride", 1, where, 1)
                pad = _int_opt(block, "pad", 0, where, 0)
                padding = size // 2 if pad else _int_opt(block, "padding", 0, where, 0)
                for unsupported in ("groups", "dilation"):
                    if _int_opt(block, unsupported, 1, where) != 1:
                        raise ConfigError(f"{where}: '{unsupported}' other than 1 is not supported")
                batch_norm = bool(_int_opt(block, "batch_normalize", 0, where, 0))
                act = _activation(block, where, "logistic")
                layers.append(ConvLayer(c, filters, size, stride, padding, batch_norm, act))
                c, scale = filters, scale * stride
            elif kind == "maxpool":
                stride = _int_opt(block, "stride", 1, where, 1)
                size = _int_opt(block, "size", stride, where, 1)
                layers.append(MaxPoolLayer(size, stride))
                scale = scale * stride
            elif kind == "upsample":
                stride = _int_opt(block, "stride", 2, where, 1)
                layers.append(UpsampleLayer(stride))
                scale = scale / stride
            elif kind == "route":
                if _int_opt(block, "groups", 1, where) != 1:
                    raise ConfigError(f"{where}: 'groups' other than 1 is not supported")
                sources = [resolve(r, i, where) for r in _int_list_opt(block, "layers", None, where)]
                if len({scales[j] for j in sources}) != 1:
                    raise ConfigError(f"{where}: routes layers {sources}, whose feature maps differ in size")
                layers.append(RouteLayer(sources))
                keep.update(sources)
                c, scale = sum(channels[j] for j in sources), scales[sources[0]]
            elif kind == "shortcut":
                source = resolve(_int_opt(block, "from", None, where), i, where)
                if (channels[source], scales[source]) != (c, scale):
                    raise ConfigError(
                        f"{where}: adds layer {source} ({channels[source]} channels) to layer {i - 1} "
                        f"({c} channels) but their shapes differ"
                    )
                layers.append(ShortcutLayer(source, _activation(block, where, "linear")))
                keep.add(source)
            elif kind == "yolo":
                yolo = self._yolo_layer(block, c, scale, where)
                layers.append(yolo)
                yolo_layers.append(yolo)
            elif kind == "net":
                raise ConfigError(f"{where}: [net] may only be the first section")
            else:
                raise ConfigError(f"{where}: unsupported section type {kind!r}")
            channels.append(c)
            scales.append(scale)

        if not yolo_layers:
            raise ConfigError("the darknet cfg has no [yolo] section, so the network detects nothing")
        if len({y.num_classes for y in yolo_layers}) != 1:
            raise ConfigError("the [yolo] sections of the darknet cfg disagree on 'classes'")
        max_scale = max(scales)
        if max_scale.denominator != 1:
            raise ConfigError("the darknet cfg downsamples by a non-integer factor")

        self.layers = nn.ModuleList(layers)
        self._keep = frozenset(keep)
        self.num_classes: int = yolo_layers[0].num_classes
        self.strides: tuple[int, ...] = tuple(y.stride for y in yolo_layers)
        self.anchors: tuple[tuple[tuple[float, float], ...], ...] = tuple(y.anchors for y in yolo_layers)
        self.input_multiple: int = int(max_scale)
        #: (major, minor, revision, seen) of the last loaded .weights file; written back by save_darknet_weights.
        self.header: tuple[int, int, int, int] = _DEFAULT_HEADER

    @staticmethod
    def _yolo_layer(block: Block, c: int, scale: Fraction, where: str) -> YOLOLayer:
        anchors = block.get("anchors")
        if not isinstance(anchors, list) or not anchors or len(anchors) % 2:
            raise ConfigError(f"{where}: 'anchors' must list w,h pairs, got {anchors!r}")
        pairs = [(anchors[k], anchors[k + 1]) for k in range(0, len(anchors), 2)]
        num = _int_opt(block, "num", len(pairs), where, 1)
        if num != len(pairs):
            raise ConfigError(f"{where}: num={num} but 'anchors' lists {len(pairs)} pairs")
        mask = _int_list_opt(block, "mask", list(range(num)), where)
        if not all(0 <= m < num for m in mask):
            raise ConfigError(f"{where}: mask {mask} indexes anchors outside 0..{num - 1}")
        classes = _int_opt(block, "classes", 20, where, 1)
        expected = len(mask) * (5 + classes)
        if c != expected:
            raise ConfigError(
                f"{where}: the layer before has {c} channels but {len(mask)} anchors x (5 + {classes} classes) "
                f"needs {expected}"
            )
        if scale.denominator != 1:
            raise ConfigError(f"{where}: its input has a non-integer stride {scale}")
        return YOLOLayer([pairs[m] for m in mask], classes, int(scale))

    @classmethod
    def from_cfg(cls, source: str | Path, in_channels: int = 3) -> DarknetYOLO:
        """Build from a darknet cfg path or cfg text."""
        return cls(parse_darknet_cfg(source), in_channels)

    def conv_layers(self) -> Iterator[ConvLayer]:
        """The convolutional layers in cfg order (the order of the ``.weights`` file)."""
        return (m for m in self.layers if isinstance(m, ConvLayer))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_tracing():
            m = self.input_multiple
            if x.dim() != 4 or x.shape[1] != self.in_channels or x.shape[2] % m or x.shape[3] % m:
                raise AkitError(
                    f"the detector needs input N x {self.in_channels} x H x W with H and W multiples of {m}; "
                    f"got {tuple(x.shape)}"
                )
        cache: dict[int, torch.Tensor] = {}
        detections: list[torch.Tensor] = []
        for i, layer in enumerate(self.layers):
            if isinstance(layer, RouteLayer):
                parts = [cache[j] for j in layer.sources]
                x = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
            elif isinstance(layer, ShortcutLayer):
                x = layer.act(x + cache[layer.source])
            elif isinstance(layer, YOLOLayer):
                detections.append(layer(x))  # x passes through unchanged
            else:
                x = layer(x)
            if i in self._keep:
                cache[i] = x
        return torch.cat(detections, dim=1)


# ------------------------------------------------------------------------------------------------- .weights files
def _values_per_conv(layer: ConvLayer) -> int:
    out = layer.conv.out_channels
    return layer.conv.weight.numel() + (4 * out if layer.bn is not None else out)


def expected_weights_bytes(model: DarknetYOLO) -> int:
    """Size of the ``.weights`` file that fits ``model``: 20-byte header + 4 bytes per stored float32."""
    return HEADER_BYTES + 4 * sum(_values_per_conv(layer) for layer in model.conv_layers())


def _tensors_in_file_order(model: DarknetYOLO) -> Iterator[torch.Tensor]:
    for layer in model.conv_layers():
        if layer.bn is not None:
            yield from (layer.bn.bias, layer.bn.weight)
            yield from (t for t in (layer.bn.running_mean, layer.bn.running_var) if t is not None)
        elif layer.conv.bias is not None:
            yield layer.conv.bias
        yield layer.conv.weight


def load_darknet_weights(model: DarknetYOLO, path: str | Path) -> DarknetYOLO:
    """Load a darknet ``.weights`` file into ``model`` (in place; also returned).

    Raises :class:`CheckpointError` (one line, with the byte count this network needs) when the file is missing,
    not a darknet weights file, or does not fit the network (truncated, too large, or for another cfg).
    """
    path = Path(path)
    expected = expected_weights_bytes(model)
    n_conv = sum(1 for _ in model.conv_layers())
    need = (
        f"this network ({n_conv} conv layers) needs a {expected:,}-byte file "
        f"(20-byte header + {(expected - HEADER_BYTES) // 4:,} float32 values)"
    )
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "does not exist"
        raise CheckpointError(f"darknet weights file {path} {what}; {need}")
    size = path.stat().st_size
    found = f"found {size:,} bytes"
    kind = file_kind(path)
    if kind not in (DARKNET, UNKNOWN):  # named in words: an empty file, notes, a PyTorch checkpoint...
        raise CheckpointError(f"{path} is not a darknet .weights file: it is {describe_kind(kind)}; {need}, {found}")
    with open(path, "rb") as f:
        head = f.read(HEADER_BYTES)
    if len(head) < 12:
        raise CheckpointError(f"{path} is not a darknet .weights file: {need}, {found}")
    major, minor, revision = (int(v) for v in np.frombuffer(head[:12], dtype="<i4"))
    if not (0 <= major < 1000 and 0 <= minor < 1000):
        raise CheckpointError(f"{path} is not a darknet .weights file: its header is not darknet's; {need}, {found}")
    header_bytes = HEADER_BYTES if major * 10 + minor >= 2 else 16
    if size - header_bytes != expected - HEADER_BYTES:
        short = size - header_bytes < expected - HEADER_BYTES
        how = "is truncated or for a smaller network" if short else "is too large: it is for another network"
        raise CheckpointError(f"{path} does not fit this network, it {how}: {need}, {found}")
    seen = int(np.frombuffer(head[12:header_bytes], dtype="<i8" if header_bytes == 20 else "<i4")[0])
    data = np.fromfile(path, dtype="<f4", offset=header_bytes)
    if not np.isfinite(data).all():
        raise CheckpointError(f"{path} is not a valid darknet .weights file: it holds NaN/inf values ({need}, {found})")
    offset = 0
    with torch.no_grad():
        for tensor in _tensors_in_file_order(model):
            n = tensor.numel()
            tensor.copy_(torch.from_numpy(data[offset : offset + n]).view(tensor.shape))
            offset += n
    model.header = (major, minor, revision, seen)
    return model


def save_darknet_weights(model: DarknetYOLO, path: str | Path) -> Path:
    """Write ``model`` as a darknet ``.weights`` file (the layout :func:`load_darknet_weights` reads).

    The header keeps the version and ``seen`` of the last loaded file (0.2.0, seen 0 for a fresh model). The file is
    written to a temporary name first and renamed, so a failed write leaves no partial file.
    """
    path = Path(path)
    major, minor, revision, seen = getattr(model, "header", _DEFAULT_HEADER)
    if major * 10 + minor < 2:  # always write the 20-byte header layout
        major, minor, revision = _DEFAULT_HEADER[:3]
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.array([major, minor, revision], dtype="<i4").tofile(f)
            np.array([seen], dtype="<i8").tofile(f)
            for tensor in _tensors_in_file_order(model):
                tensor.detach().to("cpu", torch.float32).contiguous().numpy().astype("<f4", copy=False).tofile(f)
    except AkitError as err:
        raise CheckpointError(f"cannot write darknet weights: {err}") from None
    return path
