"""What a weights file is: a checkpoint at all, which zoo file it is, and which network it loads into.

``verify_weights(path)`` reads the file without running anything in it (tensor-only ``torch.load``, the restricted
unpickler for Ultralytics files, darknet's raw floats) and checks it against the zoo's architectures: pose state_dicts
by key and shape against the zoo configs of the family their keys show (only those networks are built), YOLOv5 files
with the YOLOv5 loader, darknet files by YOLOv3-SPP's exact size. ``config`` checks a pose
checkpoint against one config instead (e.g. a model trained with other joints).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from alphapose_kit.errors import AkitError, CheckpointError
from alphapose_kit.hub.zoo import ZooEntry, config_path, find_by_file, get_entry, list_models

__all__ = ["WeightsReport", "verify_weights"]


@dataclass
class WeightsReport:
    """The findings about one weights file; ``problem`` says in one line why it is unusable (None when it loads).

    ``format``: "pytorch" (a state_dict), "ultralytics" (a YOLOv5 checkpoint), "darknet" or "none" (not a
    checkpoint). ``zoo_entry``/``zoo_match``: the zoo file it is ("sha256": pinned hash verified; "name": by file name
    only; "name, other bytes": named like it but its hash differs from the pinned one). ``fits``: the zoo models (or
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
    from alphapose_kit.hub.download import file_sha256

    path = Path(path).expanduser()
    if not path.is_file():
        raise AkitError(f"weights file not found: {path}" + (" (a directory)" if path.is_dir() else ""))
    report = WeightsReport(path, path.stat().st_size, file_sha256(path), "none")
    _match_zoo(report)
    with path.open("rb") as handle:
        head = handle.read(12)
    if head.startswith((b"PK\x03\x04", b"\x80")):  # torch.save's zip archive, or a legacy pickle
        _check_pytorch(report, config)
    elif _darknet_header(head):
        _check_darknet(report)
    else:
        report.problem = (
            f"{path} is not a checkpoint: neither a PyTorch file (zip archive or pickle) nor darknet weights"
        )
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


def _model_type(config: str | os.PathLike) -> str:
    from alphapose_kit.config import load_config

    return str(load_config(config).MODEL.TYPE)


def _fits(state: dict[str, torch.Tensor], config: str | os.PathLike) -> bool:
    """Whether ``state`` has exactly the keys and shapes of the network ``config`` builds (what a strict load needs)."""
    from alphapose_kit.config import load_config
    from alphapose_kit.models.registry import build_pose_model

    own = build_pose_model(load_config(config)).state_dict()
    return own.keys() == state.keys() and all(tuple(own[k].shape) == tuple(state[k].shape) for k in own)


def _check_yolov5(report: WeightsReport) -> None:
    from alphapose_kit.detectors.nets.yolov5 import load_yolov5_weights

    try:
        model = load_yolov5_weights(report.path)
    except CheckpointError as exc:
        report.problem = str(exc)
        return
    if report.format == "pytorch" and not report.tensors:
        report.format = "ultralytics"
    report.fits.append(f"yolov5{model.variant}" if model.variant else "YOLOv5 (custom depth/width)")


def _darknet_header(head: bytes) -> bool:
    """darknet's header starts with small major and minor version numbers (0 and 2 in the official files)."""
    if len(head) < 12:
        return False
    return int.from_bytes(head[:4], "little") < 1000 and int.from_bytes(head[4:8], "little") < 1000


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
