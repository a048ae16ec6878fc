"""Reading Ultralytics YOLOv8 / YOLO11 release files (``yolov8n.pt`` ... ``yolo11x.pt``) into
:class:`~.yolov8.UltralyticsYOLO`, without the ultralytics package and without running code from the file.

A release file is ``torch.save`` of a dict whose ``"model"`` (``"ema"`` in a training checkpoint) is the whole
pickled ``ultralytics.nn.tasks.DetectionModel`` in half precision (Ultralytics' ``utils/torch_utils.strip_optimizer``
and ``engine/trainer.save_model``). :mod:`alphapose_kit.io.safe_pickle` reads it with inert placeholders for the
classes listed in :data:`ULTRALYTICS_CLASSES`; the weights come from the placeholder tree, the family and scale from
the pickled ``yaml`` attribute (its layer table, ``scale`` and ``scales``), the class names from ``names``. Plain
state_dicts with the same keys load too, given the model name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from alphapose_kit.detectors.nets.yolov5_checkpoint import ULTRALYTICS_CLASSES as YOLOV5_CLASSES
from alphapose_kit.detectors.nets.yolov5_checkpoint import _mismatch, _names_list, read_ultralytics_file
from alphapose_kit.detectors.nets.yolov8 import LAYOUTS, SCALES, UltralyticsYOLO, parse_name
from alphapose_kit.errors import CheckpointError
from alphapose_kit.io.checkpoint import as_state_dict, describe_state_dict
from alphapose_kit.io.safe_pickle import (
    TORCH_NN_MODULES,
    Placeholder,
    attribute,
    is_placeholder,
    module_state_dict,
)

__all__ = ["ULTRALYTICS_CLASSES", "load_ultralytics_weights"]

_TOP = "ultralytics.nn.tasks.DetectionModel"
_WANTED = "pass an Ultralytics yolov8*.pt / yolo11*.pt release file (or such a state_dict)"
_BLOCKS = ("Bottleneck", "C2f", "C3k2", "C3k", "SPPF", "C2PSA", "PSABlock", "Attention", "DFL")

# The classes a YOLOv8 / YOLO11 detection file pickles: ultralytics >= 8.0.5x keeps them in nn/modules/{conv,block,
# head}.py; the first 8.0 releases had them in one ultralytics/nn/modules.py. IterableSimpleNamespace: a training
# checkpoint's ``args``. The YOLOv5 repository's classes load too, so that such a file is named, not refused.
ULTRALYTICS_CLASSES: tuple[str, ...] = (
    _TOP,
    "ultralytics.nn.modules.conv.Conv",
    "ultralytics.nn.modules.conv.DWConv",
    "ultralytics.nn.modules.conv.Concat",
    "ultralytics.nn.modules.head.Detect",
    *(f"ultralytics.nn.modules.block.{name}" for name in _BLOCKS),
    *(f"ultralytics.nn.modules.{name}" for name in ("Conv", "DWConv", "Concat", "Detect", *_BLOCKS)),
    "ultralytics.utils.IterableSimpleNamespace",
    *YOLOV5_CLASSES,
)


def _unpack(obj: Any, origin: Path) -> tuple[dict[str, torch.Tensor], Placeholder | None]:
    """(state_dict, the pickled DetectionModel or None): ``ema`` when set, else ``model``, as Ultralytics loads."""
    node: Any = obj
    if isinstance(obj, Mapping) and as_state_dict(obj) is None:
        node = next((obj[k] for k in ("ema", "model", "state_dict") if obj.get(k) is not None), None)
        if node is None:
            keys = ", ".join(map(str, list(obj)[:6]))
            raise CheckpointError(f"{origin}: no YOLOv8/YOLO11 model found (no 'model' or 'ema' entry; it has {keys})")
    if isinstance(node, Placeholder):
        if node._akit_name.startswith("models."):
            raise CheckpointError(
                f"{origin} is a YOLOv5 checkpoint (the yolov5 repository's {node._akit_name}), not YOLOv8/YOLO11; "
                "use --detector yolov5n/s/m/l/x"
            )
        if not is_placeholder(node, _TOP):
            raise CheckpointError(f"{origin}: holds a {node._akit_name}, not a YOLOv8/YOLO11 DetectionModel")
        return module_state_dict(node), node
    state = as_state_dict(node)
    if state is None:
        raise CheckpointError(f"{origin}: no YOLOv8/YOLO11 model found (the model entry is a {type(node).__name__})")
    if not any(key.endswith(".dfl.conv.weight") for key in state):  # every YOLOv8/11 Detect head has a DFL
        raise CheckpointError(
            f"{origin} is not a YOLOv8/YOLO11 checkpoint: its weights look like {describe_state_dict(state)}; {_WANTED}"
        )
    return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}, None


def _norm(value: Any) -> Any:
    # yaml.safe_load reads the official files' bare None as the string 'None' (parse_model evaluates it back)
    if isinstance(value, (list, tuple)):
        return [_norm(v) for v in value]
    return None if value == "None" else value


def _model_of_yaml(yaml: Mapping[str, Any], origin: Path) -> tuple[str, str]:
    """(family, scale) of a pickled ``DetectionModel.yaml``; CheckpointError for any other layout or scale table."""
    layers = _norm(list(yaml.get("backbone") or []) + list(yaml.get("head") or []))
    family = next((f for f, layout in LAYOUTS.items() if layers == _norm(list(layout))), None)
    if family is None:
        kinds = [layer[2] for layer in layers if isinstance(layer, list) and len(layer) == 4]
        raise CheckpointError(
            f"{origin}: its yaml is not the YOLOv8 or YOLO11 detection layout akit builds "
            f"({len(layers)} layers: {', '.join(map(str, kinds[:12]))}{'...' if len(kinds) > 12 else ''})"
        )
    scale = yaml.get("scale")
    if scale not in SCALES[family]:
        stem = Path(str(yaml.get("yaml_file", ""))).stem.lower()
        scale = stem[len(family)] if stem.startswith(family) and len(stem) > len(family) else scale
    if scale not in SCALES[family]:
        raise CheckpointError(f"{origin}: its yaml names no scale of {family} (n/s/m/l/x): {yaml.get('scale')!r}")
    scales = yaml.get("scales")
    if isinstance(scales, Mapping) and [float(v) for v in scales.get(scale, ())] != list(SCALES[family][scale]):
        raise CheckpointError(
            f"{origin}: its {family}{scale} scale is {scales.get(scale)}, "
            f"not the official {list(SCALES[family][scale])}"
        )
    if yaml.get("channels", yaml.get("ch", 3)) != 3:
        raise CheckpointError(f"{origin}: the model takes {yaml.get('channels', yaml.get('ch'))} input channels, not 3")
    return family, scale


def _num_classes(state: Mapping[str, torch.Tensor], family: str) -> int:
    bias = state.get(f"model.{len(LAYOUTS[family]) - 1}.cv3.0.2.bias")
    return int(bias.numel()) if bias is not None and bias.ndim == 1 and bias.numel() > 0 else 80


def load_ultralytics_weights(
    path: str | os.PathLike, name: str | None = None, device: str | torch.device = "cpu"
) -> UltralyticsYOLO:
    """A YOLOv8 / YOLO11 network in eval mode with the weights of an Ultralytics release file or a state_dict.

    ``name`` (``yolov8n`` ... ``yolo11x``): for a release file it must agree with the file's yaml; a plain state_dict
    needs it. The class count comes from the Detect head's shape. Anything that does not fit raises CheckpointError
    (one line): a text or darknet file, a YOLOv5 or pose checkpoint, another layout, a missing or misshapen tensor.
    """
    origin = Path(path)
    requested = parse_name(name) if name is not None else None
    state, node = _unpack(
        read_ultralytics_file(origin, "YOLOv8/YOLO11", _WANTED, ULTRALYTICS_CLASSES + TORCH_NN_MODULES), origin
    )
    yaml = attribute(node, "yaml") if node is not None else None
    if node is not None:
        if not isinstance(yaml, Mapping):
            raise CheckpointError(f"{origin}: its DetectionModel has no yaml, so its family and scale are unknown")
        family, scale = _model_of_yaml(yaml, origin)
        if requested is not None and requested != (family, scale):
            raise CheckpointError(
                f"{origin} is {family}{scale}, not {''.join(requested)}; use --detector {family}{scale}"
            )
    elif requested is None:
        raise CheckpointError(f"{origin} is a plain state_dict; name the model (yolov8n ... yolo11x) to load it")
    else:
        family, scale = requested
    names = _names_list(attribute(node, "names")) if node is not None else None
    model = UltralyticsYOLO(family, scale, _num_classes(state, family), names=names)
    problem = _mismatch(model, state)
    if problem:
        raise CheckpointError(f"{origin} does not fit {family}{scale}: {problem}")
    own = model.state_dict()
    try:
        model.load_state_dict({k: state.get(k, own[k]) for k in own}, strict=True)  # only num_batches_tracked may lack
    except RuntimeError as exc:
        first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), "load failed")
        raise CheckpointError(f"{origin}: cannot load into {family}{scale}: {first}") from None
    return model.to(device).eval()
