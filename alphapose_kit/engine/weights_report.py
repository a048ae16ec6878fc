"""What a weights file is: a checkpoint at all, which zoo file it is, and which network it loads into.

``verify_weights(path)`` reads the file without running anything in it (tensor-only ``torch.load``, the restricted
unpickler for Ultralytics files, darknet's raw floats) and checks it against the zoo's architectures: pose state_dicts
by key and shape against the zoo configs of the family their keys show (only those networks are built), YOLOv5 files
with the YOLOv5 loader, darknet files by YOLOv3-SPP's exact size; an akit training checkpoint against the config it
stores. ``config`` checks a pose checkpoint against one config instead (e.g. a model trained with other joints).
TorchScript and ONNX exports are recognised and described from their akit metadata. It builds networks and reads
export metadata, so it sits above models, detectors and deploy (``akit models verify`` is its command).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from yacs.config import CfgNode

from alphapose_kit.errors import AkitError, CheckpointError
from alphapose_kit.hub.file_kind import DARKNET, ONNX, PICKLE, TORCH_ZIP, TORCHSCRIPT, describe_kind, file_kind
from alphapose_kit.hub.zoo import ZooEntry, config_path, find_by_file, get_entry, list_models

__all__ = ["WeightsReport", "verify_weights"]


@dataclass
class WeightsReport:
    """The findings about one weights file; ``problem`` says in one line why it is unusable (None when it loads).

    ``format``: "pytorch" (a state_dict), "ultralytics" (a YOLOv5 checkpoint), "darknet", "torchscript" / "onnx"
    (an ``akit export`` file, not a checkpoint) or "none" (not a checkpoint). ``zoo_entry``/``zoo_match``: the zoo
    file it is ("sha256": pinned hash verified; "name": by file name only; "name, other bytes": named like it but its
    hash differs from the pinned one). ``fits``: the zoo models (or
    the given config) whose network it loads into strictly. ``looks_like``: a guess of the network from its keys.
    """

    path: Path
    size: int
    sha256: str
    format: str
    tensors: int = 0
    looks_like: str | None = None
    zoo_entry: ZooEntry | None = None
    zoo_match: str | None = None
    fits: list[str] = field(default_factory=list)
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """The file is a checkpoint that loads into at least one known network."""
        return self.problem is None and bool(self.fits)


def verify_weights(path: str | os.PathLike, config: str | os.PathLike | None = None) -> WeightsReport:
    """Hash ``path``, match it to the zoo and find the networks it loads into; see :class:`WeightsReport`."""
    from alphapose_kit.utils.hashing import file_sha256

    path = Path(path).expanduser()
    if not path.is_file():
        raise AkitError(f"weights file not found: {path}" + (" (a directory)" if path.is_dir() else ""))
    report = WeightsReport(path, path.stat().st_size, file_sha256(path), "none")
    _match_zoo(report)
    kind = file_kind(path)
    if kind == TORCHSCRIPT:
        _check_export(report, "torchscript")
    elif kind in (TORCH_ZIP, PICKLE):
        _check_pytorch(report, config)
    elif kind == DARKNET:
        _check_darknet(report)
    elif kind == ONNX or path.suffix.lower() == ".onnx":
        _check_export(report, "onnx")
    else:
        report.problem = f"{path} is not a checkpoint: {describe_kind(kind)}"
    if report.problem is None and not report.fits:
        report.problem = f"{path} loads into no zoo network" + (f" ({report.looks_like})" if report.looks_like else "")
    entry = report.zoo_entry
    if report.problem is None and config is None and entry is not None and entry.name not in report.fits:
        what = f"it is {report.looks_like} and " if report.looks_like else "it "
        report.problem = (
            f"{path} is named like zoo model {entry.name} but does not load into that network; "
            f"{what}loads into {', '.join(report.fits)}"
        )
    return report


def _match_zoo(report: WeightsReport) -> None:
    entry = find_by_file(report.path)
    if entry is not None:
        report.zoo_entry, report.zoo_match = entry, "sha256" if entry.sha256 else "name"
        return
    try:
        named = get_entry(report.path.name)
    except AkitError:
        return
    if named.filename == report.path.name:  # named like a zoo file whose pinned hash it does not have
        report.zoo_entry, report.zoo_match = named, "name, other bytes"


def _check_pytorch(report: WeightsReport, config: str | os.PathLike | None) -> None:
    from alphapose_kit.io.checkpoint import describe_state_dict, read_state_dict
    from alphapose_kit.models.choice import stored_config

    try:
        state = read_state_dict(report.path)
    except CheckpointError as exc:
        report.format = "pytorch"
        if "refused to load" in str(exc):  # pickled objects: an Ultralytics checkpoint, or something else
            _check_yolov5(report)
        else:
            report.problem = str(exc)
        return
    report.format, report.tensors = "pytorch", len(state)
    report.looks_like = describe_state_dict(state)
    if any(key.startswith("model.24.") for key in state):
        _check_yolov5(report)
        return
    if "backbone.backbone.stem.conv.conv.weight" in state:
        _check_yolox(report, state)
        return
    try:
        stored = stored_config(report.path)
    except AkitError as exc:
        report.problem = str(exc)
        return
    if stored is not None:
        _check_against_stored(report, state, stored, config)
        return
    if config is not None:
        report.fits.extend([str(config)] if _fits(state, config) else [])
        return
    family = report.looks_like.split(" (")[0]
    for entry in sorted(list_models("pose"), key=lambda e: e != report.zoo_entry):  # its namesake first
        if _model_type(config_path(entry)) in _FAMILIES.get(family, ()) and _fits(state, config_path(entry)):
            report.fits.append(entry.name)  # zoo architectures differ from one another: one fit is the answer
            return


# describe_state_dict's family -> the config MODEL.TYPEs that build it (so only those networks are built)
_FAMILIES = {
    "FastPose": ("FastPose",),
    "FastPose_DUC": ("FastPose_DUC",),
    "SimplePose": ("SimplePose",),
    "HRNet": ("PoseHighResolutionNet", "HRNet"),
}


def _check_against_stored(
    report: WeightsReport, state: dict[str, torch.Tensor], stored: CfgNode, config: str | os.PathLike | None
) -> None:
    """An akit training checkpoint: it must load into the network of the config it stores, and ``config`` (when
    given) must not build another network or use another input size than that one."""
    from alphapose_kit.config import load_config
    from alphapose_kit.models.choice import check_fits_checkpoint
    from alphapose_kit.models.loader import model_name

    size = "x".join(str(v) for v in stored.DATA_PRESET.IMAGE_SIZE)
    report.looks_like = f"akit training checkpoint of {model_name(stored)} at {size}"
    if config is not None:
        try:
            check_fits_checkpoint(load_config(config), report.path, f"config {config}", stored)
        except AkitError as exc:
            report.problem = str(exc)
            return
    if _fits(state, stored):
        report.fits.append(f"its stored config ({model_name(stored)}, input {size})")
    else:
        report.problem = f"{report.path}: its weights do not fit the config it stores ({model_name(stored)})"


def _check_export(report: WeightsReport, fmt: str) -> None:
    """An exported network (``akit export``): say what it holds from its akit metadata, without loading it."""
    from alphapose_kit.deploy.metadata import read_metadata

    report.format = fmt
    kind = "TorchScript" if fmt == "torchscript" else "ONNX"
    try:
        meta = read_metadata(report.path)
    except AkitError:
        report.problem = f"{report.path}: not a readable {kind} file (truncated or corrupt)"
        return
    if meta is None:
        report.problem = (
            f"{report.path} is a {kind} file without akit metadata (not written by akit export); akit reads "
            "exported networks it wrote itself"
        )
        return
    height, width = meta.get("input_size", ["?", "?"])
    report.looks_like = f"{meta['kind']} network {meta.get('model')}, input {height}x{width}, {meta.get('precision')}"
    report.fits.append(f"akit infer --{meta['kind']}-model {report.path.name} (an export, not a checkpoint)")


def _model_type(config: str | os.PathLike) -> str:
    from alphapose_kit.config import load_config

    return str(load_config(config).MODEL.TYPE)


def _fits(state: dict[str, torch.Tensor], config: str | os.PathLike | CfgNode) -> bool:
    """Whether ``state`` has exactly the keys and shapes of the network ``config`` builds (what a strict load needs)."""
    from alphapose_kit.config import load_config
    from alphapose_kit.models.registry import build_pose_model

    own = build_pose_model(load_config(config)).state_dict()
    return own.keys() == state.keys() and all(tuple(own[k].shape) == tuple(state[k].shape) for k in own)


def _check_yolox(report: WeightsReport, state: dict[str, torch.Tensor]) -> None:
    """A YOLOX state_dict (Megvii's ``yolox_*.pth``): the variant whose network it fits strictly, by stem width."""
    from alphapose_kit.detectors.nets.yolox import VARIANTS, build_yolox

    width = state["backbone.backbone.stem.conv.conv.weight"].shape[0]
    report.looks_like = "YOLOX"
    for variant, (_, multiple, _) in VARIANTS.items():
        if int(64 * multiple) == width:
            with torch.device("meta"):  # shapes only: no memory for the weights
                own = build_yolox(variant).state_dict()
            if own.keys() == state.keys() and all(own[k].shape == state[k].shape for k in own):
                report.fits.append(f"yolox-{variant}")
            return


def _check_yolov5(report: WeightsReport) -> None:
    from alphapose_kit.detectors.nets.yolov5_checkpoint import load_yolov5_weights

    try:
        model = load_yolov5_weights(report.path)
    except CheckpointError as exc:
        report.problem = str(exc)
        return
    if report.format == "pytorch" and not report.tensors:
        report.format = "ultralytics"
    report.fits.append(f"yolov5{model.variant}" if model.variant else "YOLOv5 (custom depth/width)")


def _check_darknet(report: WeightsReport) -> None:
    from alphapose_kit.detectors.nets.darknet import load_darknet_weights
    from alphapose_kit.detectors.nets.yolov3_spp import build_yolov3_spp

    report.format = "darknet"
    try:
        load_darknet_weights(build_yolov3_spp(num_classes=80), report.path)
    except CheckpointError as exc:
        report.problem = str(exc)
        return
    report.fits.append("yolov3-spp")
