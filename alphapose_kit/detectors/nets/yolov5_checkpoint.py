"""Reading YOLOv5 checkpoints into :class:`~.yolov5.YOLOv5`: official Ultralytics files (a pickled
``DetectionModel`` under ``"model"`` / ``"ema"``, half precision) through :mod:`alphapose_kit.io.safe_pickle`, which
never runs code from the file, and plain state_dicts. A file that is no checkpoint at all (text, empty, darknet
weights, cut short) is named as such in one line.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from alphapose_kit.detectors.nets.yolov5 import (
    COCO_ANCHORS,
    LAYOUT,
    STRIDES,
    VARIANTS,
    YOLOv5,
    scale_channels,
    variant_key,
)
from alphapose_kit.errors import CheckpointError
from alphapose_kit.hub.file_kind import PICKLE, TORCH_ZIP, describe_kind, file_kind
from alphapose_kit.io.checkpoint import as_state_dict, describe_state_dict
from alphapose_kit.io.safe_pickle import (
    TORCH_NN_MODULES,
    Placeholder,
    attribute,
    is_placeholder,
    load_checkpoint,
    module_state_dict,
)

__all__ = ["ULTRALYTICS_CLASSES", "load_yolov5_weights"]

_WANTED = "pass an Ultralytics yolov5*.pt release file (or a YOLOv5 state_dict)"

# Classes an official checkpoint pickles (v6.0 names the top module models.yolo.Model, v6.2+ DetectionModel).
# Focus / SPP / BottleneckCSP (pre-v6.0 files) load too, so that the mismatch is reported, not refused.
ULTRALYTICS_CLASSES: tuple[str, ...] = (
    "models.yolo.DetectionModel",
    "models.yolo.Model",
    "models.yolo.Detect",
    "models.common.Conv",
    "models.common.Bottleneck",
    "models.common.C3",
    "models.common.SPPF",
    "models.common.Concat",
    "models.common.Focus",
    "models.common.SPP",
    "models.common.BottleneckCSP",
)


def _label(depth: float, width: float, variant: str | None) -> str:
    name = f"YOLOv5{variant}" if variant else "YOLOv5"
    return f"{name} (depth {depth:g}, width {width:g})"


def _variant_of(depth: float, width: float) -> str | None:
    for key, (d, w) in VARIANTS.items():
        if math.isclose(d, depth) and math.isclose(w, width):
            return key
    return None


def _check_layout(yaml: Mapping[str, Any], origin: Path) -> None:
    layers = list(yaml.get("backbone") or []) + list(yaml.get("head") or [])

    def norm(value: Any) -> Any:
        # yaml.safe_load reads the official files' bare ``None`` as the string 'None' (YAML's null is ``null``
        # or ``~``); Ultralytics' parse_model evals each string argument, so both spellings mean None.
        if isinstance(value, (list, tuple)):
            return [norm(v) for v in value]
        return None if value == "None" else value

    for index, expected in enumerate(LAYOUT):
        got = norm(layers[index]) if index < len(layers) else None
        if got != expected:
            raise CheckpointError(
                f"{origin}: not the YOLOv5 v6.0/v7.0 P5 layout akit builds: its yaml layer {index} is {got}, "
                f"expected {expected} (pre-v6.0 Focus models and P6 models are not supported)"
            )
    if len(layers) != len(LAYOUT):
        raise CheckpointError(f"{origin}: its yaml has {len(layers)} layers; the YOLOv5 P5 layout has {len(LAYOUT)}")
    activation = yaml.get("activation")
    if activation not in (None, "nn.SiLU()"):
        raise CheckpointError(f"{origin}: activation {activation!r} is not supported (YOLOv5 uses nn.SiLU())")
    if yaml.get("ch", 3) != 3:
        raise CheckpointError(f"{origin}: the model takes {yaml.get('ch')} input channels, not 3 (RGB)")


def _anchors_from_yaml(yaml: Mapping[str, Any]) -> Sequence[Sequence[float]]:
    anchors = yaml.get("anchors")
    if (
        isinstance(anchors, (list, tuple))
        and len(anchors) == len(STRIDES)
        and all(isinstance(a, (list, tuple)) and len(a) == 6 for a in anchors)
    ):
        return anchors
    return COCO_ANCHORS  # e.g. "anchors: 3" (autoanchor); the checkpoint's anchors buffer overrides them


def _names_list(names: Any) -> list[str] | None:
    if isinstance(names, Mapping):
        try:
            return [str(names[k]) for k in sorted(names, key=int)]
        except (TypeError, ValueError):
            return None
    if isinstance(names, (list, tuple)):
        return [str(n) for n in names]
    return None


def _unpack(obj: Any, origin: Path) -> tuple[dict[str, torch.Tensor], Placeholder | None]:
    """(state_dict, the pickled model node or None) from whatever the file held."""
    node: Any = obj
    if isinstance(obj, Mapping) and as_state_dict(obj) is None:
        for key in ("ema", "model", "state_dict", "model_state_dict"):
            if obj.get(key) is not None:
                node = obj[key]
                break
        else:
            raise CheckpointError(
                f"{origin}: no YOLOv5 model found (expected a state_dict, or 'model' / 'ema' / 'state_dict' "
                f"entries; it has {', '.join(map(str, list(obj)[:6]))})"
            )
    if isinstance(node, Placeholder):
        if not (is_placeholder(node, "models.yolo.DetectionModel") or is_placeholder(node, "models.yolo.Model")):
            raise CheckpointError(f"{origin}: holds a {node._akit_name}, not a YOLOv5 DetectionModel")
        return module_state_dict(node), node
    state = as_state_dict(node)
    if state is None:
        raise CheckpointError(f"{origin}: no YOLOv5 model found (the model entry is a {type(node).__name__})")
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    return state, None


def _infer_from_state(state: Mapping[str, torch.Tensor], origin: Path) -> str:
    stem = state.get("model.0.conv.weight")
    if stem is None or stem.ndim != 4:
        raise CheckpointError(f"{origin}: no model.0.conv.weight, so not a YOLOv5 state_dict; pass the variant")
    by_width = {scale_channels(64, w): key for key, (_, w) in VARIANTS.items()}
    key = by_width.get(int(stem.shape[0]))
    if key is None:
        raise CheckpointError(
            f"{origin}: model.0.conv.weight has {stem.shape[0]} output channels; YOLOv5 n/s/m/l/x have "
            f"{', '.join(f'{c} ({k})' for c, k in by_width.items())}"
        )
    return key


def _num_classes(state: Mapping[str, torch.Tensor]) -> int | None:
    """Classes from the Detect conv bias (anchors x (5 + classes)), or None when there is none to read."""
    bias = state.get("model.24.m.0.bias")
    anchors = state.get("model.24.anchors")
    na = int(anchors.shape[1]) if anchors is not None and anchors.ndim == 3 else 3
    if bias is None or bias.ndim != 1 or bias.numel() % na or bias.numel() // na <= 5:
        return None
    return bias.numel() // na - 5


def _mismatch(model: nn.Module, state: Mapping[str, torch.Tensor]) -> str | None:
    own = model.state_dict()
    missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in own]
    shapes = [
        f"{k} {tuple(state[k].shape)} in the file vs {tuple(v.shape)}"
        for k, v in own.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    parts = []
    if shapes:
        parts.append(f"{len(shapes)} shape mismatch(es): " + "; ".join(shapes[:3]))
    if missing:
        parts.append(f"{len(missing)} missing key(s): " + ", ".join(missing[:3]))
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected key(s): " + ", ".join(unexpected[:3]))
    return "; ".join(parts) or None


def read_ultralytics_file(origin: Path, family: str, wanted: str, placeholders: tuple[str, ...]) -> Any:
    """An Ultralytics release file unpickled under the allow-list ``placeholders``, or CheckpointError naming what
    the file is when it is no such checkpoint (``family`` names the model in the message, ``wanted`` what to use)."""
    if not origin.is_file():
        raise CheckpointError(f"{family} weights not found: {origin}" + (" (a directory)" if origin.is_dir() else ""))
    kind = file_kind(origin)
    if kind not in (TORCH_ZIP, PICKLE):
        raise CheckpointError(f"{origin} is not a {family} checkpoint: it is {describe_kind(kind)}; {wanted}")
    try:
        return load_checkpoint(origin, placeholders=placeholders)
    except CheckpointError as exc:
        if "refused to unpickle" in str(exc):
            raise
        raise CheckpointError(f"{origin} is not a {family} checkpoint: truncated or corrupt; {wanted}") from None
    except Exception as exc:  # a malformed pickle can raise nearly anything from inside torch.load
        raise CheckpointError(
            f"{origin} is not a {family} checkpoint: truncated or corrupt ({type(exc).__name__}); {wanted}"
        ) from None


def load_yolov5_weights(
    path: str | os.PathLike, variant: str | None = None, device: str | torch.device = "cpu"
) -> YOLOv5:
    """A YOLOv5 in eval mode with the weights of an official Ultralytics checkpoint or a state_dict.

    Accepted files: an official ``yolov5*.pt`` / ``best.pt`` / ``last.pt`` (pickled model under ``"ema"`` or
    ``"model"``; read by the restricted unpickler of :mod:`.safe_pickle`, so nothing in the file can run),
    a pickled DetectionModel on its own, a plain state_dict, or one under ``"state_dict"`` / ``"model"``.
    Depth / width / anchors come from the checkpoint's ``yaml`` when it has one (``variant``, if given, must
    agree), else ``variant``, else the stem width (model.0 out-channels 16/32/48/64/80 -> n/s/m/l/x); the
    class count from the Detect layer's shape. Anything that does not fit raises CheckpointError (one line).
    """
    origin = Path(path)
    obj = read_ultralytics_file(origin, "YOLOv5", _WANTED, ULTRALYTICS_CLASSES + TORCH_NN_MODULES)
    state, node = _unpack(obj, origin)
    if node is None and not any(key.startswith("model.") for key in state):  # e.g. a pose checkpoint
        raise CheckpointError(
            f"{origin} is not a YOLOv5 checkpoint: its weights look like {describe_state_dict(state)}; {_WANTED}"
        )
    yaml = attribute(node, "yaml") if node is not None else None
    requested = variant_key(variant) if variant is not None else None
    names = _names_list(attribute(node, "names")) if node is not None else None

    if isinstance(yaml, Mapping) and "depth_multiple" in yaml and "width_multiple" in yaml:
        _check_layout(yaml, origin)
        depth, width = yaml["depth_multiple"], yaml["width_multiple"]
        if not all(isinstance(v, (int, float)) and 0 < v <= 2 for v in (depth, width)):
            raise CheckpointError(f"{origin}: its yaml has depth/width multiples {depth!r}/{width!r}; expected (0, 2]")
        depth, width = float(depth), float(width)
        found = _variant_of(depth, width)
        if requested is not None and found != requested:
            hint = f"use yolov5{found}" if found else "its multiples match none of n/s/m/l/x; pass variant=None"
            raise CheckpointError(f"{origin} is {_label(depth, width, found)}, not YOLOv5{requested}; {hint}")
        num_classes = _num_classes(state) or 80  # the Detect weights decide; without them the mismatch says so
        anchors = _anchors_from_yaml(yaml)
    else:
        found = requested or _infer_from_state(state, origin)
        depth, width = VARIANTS[found]
        num_classes = _num_classes(state) or 80  # without a Detect layer the mismatch below says so
        anchors = COCO_ANCHORS
    model = YOLOv5(depth, width, num_classes, anchors, names=names, variant=found)

    problem = _mismatch(model, state)
    if problem:
        raise CheckpointError(
            f"{origin} does not fit {_label(depth, width, found)} with {num_classes} classes: {problem}"
        )
    own = model.state_dict()
    full = {k: state.get(k, own[k]) for k in own}  # only num_batches_tracked may be absent
    try:
        model.load_state_dict(full, strict=True)
    except RuntimeError as exc:  # e.g. a dtype that cannot be copied
        first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), "load failed")
        raise CheckpointError(f"{origin}: cannot load into {_label(depth, width, found)}: {first}") from None
    return model.to(device).eval()
