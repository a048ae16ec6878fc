"""Building a person detector by name: ``load_detector("yolov5s")``, with each family's settings and weights rule."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from alphapose_kit.detectors.detfile import DetFileDetector
from alphapose_kit.detectors.nets.yolov8 import MODEL_NAMES as ULTRALYTICS_NAMES
from alphapose_kit.detectors.yolo import YOLODetector
from alphapose_kit.errors import AkitError
from alphapose_kit.utils.device import as_device

__all__ = ["DETECTOR_NAMES", "detector_defaults", "detector_weights", "load_detector"]

YOLOV5_NAMES = ("yolov5n", "yolov5s", "yolov5m", "yolov5l", "yolov5x")
YOLOX_NAMES = ("yolox-nano", "yolox-tiny", "yolox-s", "yolox-m", "yolox-l", "yolox-x")
DETECTOR_NAMES = ("yolov3-spp", *YOLOV5_NAMES, *YOLOX_NAMES, *ULTRALYTICS_NAMES, "detfile")
_ALIASES = {"yolo": "yolov3-spp", "yolox": "yolox-x"}  # AlphaPose's --detector names (detector/apis.py)

# How each family scores and suppresses boxes; the thresholds and input sizes (conf, nms, input_size) live in
# configs/detector/<name>.yaml: AlphaPose's detector/yolo_cfg.py for YOLOv3-SPP, Ultralytics detect.py's defaults for
# YOLOv5 (AlphaPose has no YOLOv5; the checkpoints were tuned with conf 0.25 on objectness x class, NMS 0.45 without
# +1 widths, at most 300 boxes) and AlphaPose's detector/yolox_cfg.py for YOLOX. The letterbox stays AlphaPose's
# (square, fill 128, cubic) for YOLOv3/v5; YOLOX takes AlphaPose's yolox_api input (top-left padding, BGR 0-255),
# keeps objectness x class >= conf, suppresses with torchvision's NMS on that product and passes objectness on.
_FAMILY_SETTINGS: dict[str, dict[str, Any]] = {
    "yolov3": {"score": "objectness", "legacy_box_plus1": True, "max_det": None},
    "yolov5": {"score": "objectness*class", "legacy_box_plus1": False, "max_det": 300},
    "yolox": {"score": "yolox", "legacy_box_plus1": False, "max_det": None, "preprocess": "yolox"},
    # YOLOv8 / YOLO11 as Ultralytics' predictor runs them (engine/predictor.py, utils/nms.py non_max_suppression,
    # cfg/default.yaml): its square letterbox (fill 114, linear), best class score > conf (the network's objectness
    # column is 1), torchvision NMS, at most 300 boxes; conf 0.25 / IoU 0.7 are in the YAMLs.
    "ultralytics": {
        "score": "objectness*class",
        "legacy_box_plus1": False,
        "max_det": 300,
        "preprocess": "ultralytics",
    },
}
_YAML_KEYS = {"CONFIDENCE": "conf", "NMS_THRES": "nms", "INPUT_SIZE": "input_size"}
_YOLO_OPTIONS = {
    "conf",
    "nms",
    "input_size",
    "batch_size",
    "half",
    "classes",
    "max_det",
    "score",
    "legacy_box_plus1",
    "legacy_batch_renms",
}
_DETFILE_OPTIONS = {"path", "min_score", "category_id"}


def detector_defaults(name: str) -> dict[str, Any]:
    """The YOLODetector settings akit uses for ``name``: its shipped YAML's thresholds plus the family's scoring."""
    import yaml

    from alphapose_kit.config import shipped_configs_dir

    key = _canonical_name(name)
    spec = yaml.safe_load((shipped_configs_dir() / "detector" / f"{key}.yaml").read_text(encoding="utf-8"))["DETECTOR"]
    settings = dict(_FAMILY_SETTINGS[_family(key)])
    settings.update({ours: spec[theirs] for theirs, ours in _YAML_KEYS.items()})
    return settings


def _family(key: str) -> str:
    if key in ULTRALYTICS_NAMES:
        return "ultralytics"
    return "yolov3" if key == "yolov3-spp" else key[:5] if key.startswith("yolox") else "yolov5"


def _canonical_name(name: str) -> str:
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key in DETECTOR_NAMES:
        return key
    close = difflib.get_close_matches(key, DETECTOR_NAMES, n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise AkitError(f"unknown detector {name!r}; {hint}choose one of {', '.join(DETECTOR_NAMES)}")


def _check_options(name: str, options: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise AkitError(
            f"detector {name} does not take option(s) {', '.join(unknown)}; it takes {', '.join(sorted(allowed))}"
        )


def detector_weights(name: str, weights: str | os.PathLike | None = None) -> str | os.PathLike | None:
    """What ``load_detector(name, weights)`` resolves its weights from: ``weights`` when given, else the detector's
    zoo name; None for ``detfile`` (no weights). Lets a caller fetch every file of a run at once
    (:func:`~alphapose_kit.hub.zoo.ensure_weights`) before loading anything."""
    key = _canonical_name(name)
    if key == "detfile":
        return None
    return weights if weights is not None else key


def load_detector(
    name: str,
    weights: str | os.PathLike | None = None,
    device: torch.device | str = "cpu",
    **options: Any,
) -> YOLODetector | DetFileDetector:
    """A ready person detector.

    Args:
        name: ``yolov3-spp`` (AlphaPose's default, alias ``yolo``), ``yolov5n/s/m/l/x``,
            ``yolox-nano/tiny/s/m/l/x`` (alias ``yolox`` = ``yolox-x``, as in AlphaPose), ``yolov8n/s/m/l/x``,
            ``yolo11n/s/m/l/x`` or ``detfile``.
        weights: the weight file (darknet ``.weights`` for yolov3-spp, Ultralytics ``.pt`` for yolov5/v8/11), or
            a zoo name / zoo file name meaning the zoo's cached copy (the rule of ``hub.zoo.resolve_weights``, which
            ``load_pose_model`` follows too); None fetches the model zoo's cached file. For ``detfile``: the
            detection JSON (or option ``path``).
        device: the torch.device the caller resolved (once, with ``utils.device.resolve_device``); a user's string
            (``cpu``, ``cuda``, ``cuda:N``, ``auto``) is resolved here for library callers.
        options: for YOLO models ``conf``, ``nms``, ``input_size``, ``batch_size``, ``half``, ``classes``
            (default (0,) = person), ``max_det``, ``score``, ``legacy_box_plus1``, ``legacy_batch_renms``
            (see :class:`YOLODetector`; defaults are AlphaPose's for yolov3-spp and YOLOX, Ultralytics' for the rest).
            AlphaPose raises conf to 0.3 when tracking. For detfile ``path``, ``min_score``, ``category_id``.
    """
    key = _canonical_name(name)
    if key == "detfile":
        _check_options(key, options, _DETFILE_OPTIONS)
        path = options.pop("path", None)
        if path is not None and weights is not None and Path(path) != Path(weights):
            raise AkitError(f"detfile given two files ({weights} and {path}); pass one")
        path = path if path is not None else weights
        if path is None:
            raise AkitError("the detfile detector needs a detection JSON file: load_detector('detfile', PATH)")
        return DetFileDetector(path, **options)

    _check_options(key, options, _YOLO_OPTIONS)
    target = as_device(device)  # before any weights are read: a one-line error without CUDA
    from alphapose_kit.hub.zoo import resolve_weights  # lazy: the zoo pulls in the downloader

    path = resolve_weights(weights if weights is not None else key, kind="detector")  # detector_weights' rule
    model: nn.Module
    if key == "yolov3-spp":
        from alphapose_kit.detectors.nets.darknet import load_darknet_weights
        from alphapose_kit.detectors.nets.yolov3_spp import build_yolov3_spp

        model = load_darknet_weights(build_yolov3_spp(num_classes=80), path)
    elif _family(key) == "yolox":
        from alphapose_kit.detectors.nets.yolox import load_yolox_weights

        model = load_yolox_weights(path, variant=key, device=target)
    elif _family(key) == "ultralytics":
        from alphapose_kit.detectors.nets.yolov8_checkpoint import load_ultralytics_weights

        model = load_ultralytics_weights(path, name=key, device=target)
    else:
        from alphapose_kit.detectors.nets.yolov5_checkpoint import load_yolov5_weights

        model = load_yolov5_weights(path, variant=key[-1], device=target)
    settings = detector_defaults(key)
    settings.update(options)
    return YOLODetector(model, device=target, **settings)
