"""``akit export`` as library calls: pose networks and YOLO detectors to ONNX or TorchScript (fp32, fp16, INT8),
each checked against PyTorch on real inputs before it is moved to the output path.

Nothing is left at the output path when a check fails: every file is written beside its target under a temporary
name and moved into place only after the exported model matched PyTorch within the stated tolerance.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from yacs.config import CfgNode

from alphapose_kit.config import load_config
from alphapose_kit.config.sizes import check_multiple_of_32
from alphapose_kit.deploy.calibration import PersonCrops, default_source, is_coco_file, person_crops
from alphapose_kit.deploy.files import check_free, config_stem, output_path, staged
from alphapose_kit.deploy.formats import check_export, precision_of
from alphapose_kit.deploy.int8 import export_int8, report_path_for
from alphapose_kit.deploy.metadata import detector_metadata, pose_metadata
from alphapose_kit.deploy.onnx_export import DEFAULT_OPSET, check_config_opset, check_opset, export_onnx
from alphapose_kit.deploy.quantize import Int8Options
from alphapose_kit.deploy.result import ExportResult
from alphapose_kit.deploy.runtime import load_network
from alphapose_kit.deploy.torchscript_export import export_torchscript
from alphapose_kit.deploy.verify import (
    TOLERANCES,
    Comparison,
    candidate_agreement,
    check_tolerance,
    compare_pose_networks,
    run_batched,
)
from alphapose_kit.errors import AkitError
from alphapose_kit.utils.logging import get_logger

log = get_logger("deploy")

__all__ = ["ExportResult", "export_detector", "export_pose"]

VERIFY_CROPS = 16  # real crops each export is checked on


def _verification_crops(chosen: str | Path | None, cfg: CfgNode, limit: int, **kwargs: Any) -> PersonCrops:
    if chosen is None:
        raise AkitError("checking an export needs real people: pass --calib (a COCO keypoint file, images or a video)")
    return person_crops(chosen, tuple(cfg.DATA_PRESET.IMAGE_SIZE), limit, **kwargs)


def _write_model(
    fmt: str, model: nn.Module, example: torch.Tensor, path: Path, metadata: dict[str, Any], opset: int, dynamic: bool
) -> None:
    if fmt == "onnx":
        export_onnx(model, example, path, metadata, opset=opset, dynamic_batch=dynamic)
    else:
        export_torchscript(model, example, path, metadata)


def export_pose(
    config: str | Path | CfgNode,
    checkpoint: str | Path | None = None,
    *,
    fmt: str = "onnx",
    output: str | Path | None = None,
    opset: int = DEFAULT_OPSET,
    dynamic_batch: bool = False,
    half: bool = False,
    int8: Int8Options | None = None,
    calib: str | Path | None = None,
    calib_images: str | Path | None = None,
    detector: Callable[..., list[Any]] | None = None,
    opts: Sequence[str] = (),
    model: nn.Module | None = None,
    exist_ok: bool = False,
) -> ExportResult:
    """Export a pose network (``config`` + ``checkpoint``, or an already built ``model``) and check it on real crops.

    ``calib``: where the real crops come from (a COCO keypoint file, images or a video whose people ``detector``
    finds); default: the development checkout's COCO people. With ``int8`` the network is quantised through ONNX
    Runtime and a report (sizes, latency, accuracy, sensitive layers) is written beside the model. An existing
    output file is refused unless ``exist_ok``.
    """
    precision = precision_of(half, int8 is not None)
    suffix = check_export(fmt, precision).suffix
    if int8 is not None:
        int8.validate()
    cfg = load_config(config, opts)
    default_name = f"{config_stem(config)}{'' if precision == 'fp32' else '-' + precision}{suffix}"
    path = output_path(output, default_name, exist_ok=exist_ok)
    if path.suffix != suffix:
        raise AkitError(f"--format {fmt} writes {suffix} files; --output {path.name} has another suffix")
    if int8 is not None:
        check_free([report_path_for(path)], exist_ok)
    if fmt == "onnx" and model is None:
        check_config_opset(cfg, opset)
    if model is None:
        from alphapose_kit.models.loader import load_pose_model

        model = load_pose_model(cfg, checkpoint, "cpu")
    model = model.cpu().eval()
    if fmt == "onnx":
        check_opset(model, opset)
    needed = (int8.calib_size + int8.held_out) if int8 else VERIFY_CROPS
    source = calib if calib is not None else default_source()
    crops = _verification_crops(source, cfg, needed, detector=detector, image_dir=calib_images)
    extra = {"opset": opset} if fmt == "onnx" else {}
    if int8 is not None:
        return export_int8(cfg, model, crops, path, int8, opset, dynamic_batch, source, calib_images)
    metadata = pose_metadata(cfg, precision=precision, fmt=fmt, dynamic_batch=dynamic_batch, **extra)
    exported = copy.deepcopy(model).half() if half else model
    example = torch.from_numpy(crops.crops[: 2 if dynamic_batch else 1])
    with staged(path) as tmp:
        _write_model(fmt, exported, example.half() if half else example, tmp, metadata, opset, dynamic_batch)
        comparison = compare_pose_networks(
            model, load_network(tmp), crops.crops[:VERIFY_CROPS], metadata["loss_type"], metadata["norm_type"]
        )
        log.info("%s", comparison.line())
        check_tolerance(comparison, TOLERANCES[precision], f"the {fmt} export")
    return ExportResult(path, comparison, metadata)


class FirstOutput(nn.Module):
    """A YOLO network's prediction tensor alone (YOLOv5 also returns its raw feature maps in eval mode)."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.network(x)
        return out[0] if isinstance(out, (tuple, list)) else out


def _verification_images(source: str | Path | None, limit: int) -> list[np.ndarray]:
    """Up to ``limit`` real BGR images: a COCO file's images, or the frames of images / a video."""
    import cv2

    from alphapose_kit.data.sources import open_source

    chosen = Path(source) if source is not None else default_source()
    if chosen is None:
        raise AkitError("checking an export needs real images: pass --calib (images, a video or a COCO keypoint file)")
    if is_coco_file(chosen):
        import json

        try:
            names = [image["file_name"] for image in json.loads(chosen.read_text(encoding="utf-8"))["images"]]
        except (OSError, ValueError, KeyError, TypeError):
            raise AkitError(f"calibration source {chosen} is not a readable COCO file") from None
        images = []
        for name in names[:limit]:
            image = cv2.imread(str(chosen.parent / name), cv2.IMREAD_COLOR)
            if image is None:
                raise AkitError(f"image {name} of {chosen} is not beside it")
            images.append(image)
        return images
    frames = []
    for frame in open_source(chosen):
        frames.append(frame.image)
        if len(frames) == limit:
            break
    if not frames:
        raise AkitError(f"calibration source {chosen} has no images")
    return frames


def export_detector(
    name: str,
    weights: str | Path | None = None,
    *,
    fmt: str = "onnx",
    output: str | Path | None = None,
    input_size: int | None = None,
    opset: int = DEFAULT_OPSET,
    dynamic_batch: bool = False,
    half: bool = False,
    calib: str | Path | None = None,
    images: int = 4,
    conf: float | None = None,
    nms: float | None = None,
    exist_ok: bool = False,
) -> ExportResult:
    """Export a YOLO person detector (``yolov3-spp``, ``yolov5n/s/m/l/x``) and check it on real images.

    ``conf`` / ``nms`` replace the detector's thresholds (stored in the file's metadata, used when it runs). The
    check compares the raw prediction tensors and the candidate boxes NMS starts from (see
    :func:`~alphapose_kit.deploy.verify.candidate_agreement`).
    """
    from alphapose_kit.detectors import YOLODetector, load_detector
    from alphapose_kit.detectors.letterbox import letterbox_batch

    suffix = check_export(fmt, precision_of(half, False)).suffix
    path = output_path(output, f"{name}{'-fp16' if half else ''}{suffix}", exist_ok=exist_ok)
    if path.suffix != suffix:
        raise AkitError(f"--format {fmt} writes {suffix} files; --output {path.name} has another suffix")
    if input_size is not None:
        check_multiple_of_32(input_size, "--input-size")
    chosen = {"input_size": input_size, "conf": conf, "nms": nms}
    options = {key: value for key, value in chosen.items() if value is not None}
    reference = load_detector(name, weights, device="cpu", **options)
    if not isinstance(reference, YOLODetector):
        raise AkitError(f"{name} is not a network detector; export yolov3-spp or yolov5n/s/m/l/x")
    network = FirstOutput(reference.model.to(memory_format=torch.contiguous_format)).eval()
    if fmt == "onnx":
        check_opset(network, opset)
    frames = _verification_images(calib, images)
    size = reference.input_size
    settings: dict[str, Any] = {
        "conf": reference.conf,
        "nms": reference.nms,
        "score": reference.score,
        "legacy_box_plus1": reference.legacy_box_plus1,
        "max_det": reference.max_det,
        "classes": list(reference.classes) if reference.classes is not None else None,
        "preprocess": reference.preprocess,  # the runtime feeds the input the network was trained on
    }
    precision = "fp16" if half else "fp32"
    extra = {"opset": opset} if fmt == "onnx" else {}
    metadata = detector_metadata(
        name, size, settings, precision=precision, fmt=fmt, dynamic_batch=dynamic_batch, **extra
    )
    letterboxed = letterbox_batch(frames, size, torch.device("cpu")).numpy()
    exported = copy.deepcopy(network).half() if half else network
    example = torch.from_numpy(letterboxed[: 2 if dynamic_batch else 1])
    with staged(path) as tmp:
        _write_model(fmt, exported, example.half() if half else example, tmp, metadata, opset, dynamic_batch)
        candidate = load_network(tmp)
        ref_out, cand_out = run_batched(network, letterboxed, 2), run_batched(candidate, letterboxed, 2)
        agreement, distance, counted = candidate_agreement(
            ref_out, cand_out, reference.conf, reference.score, reference.classes
        )
        log.debug("%d confident candidate boxes compared", counted)
        comparison = Comparison(
            samples=len(frames),
            max_abs_error=float(np.abs(ref_out.astype(np.float64) - cand_out).max()),
            reference_max=float(np.abs(ref_out).max()),
            agreement=agreement,
            mean_distance=distance,
            unit="box",
        )
        log.info("%s", comparison.line())
        check_tolerance(comparison, TOLERANCES[precision], f"the {fmt} export")
    return ExportResult(path, comparison, metadata)
