"""Print every zoo model's kind, keypoints, published AP, parameters and GFLOPs (a Markdown table for the README).

FLOPs are counted by torch.utils.flop_counter on one forward at the model's own input size (2 FLOPs per
multiply-add); torchvision's deformable convolution is counted as the dense convolution it generalises.
Usage: python scripts/model_stats.py [--only NAME ...]
"""

from __future__ import annotations

import argparse

import torch
from torch.utils.flop_counter import FlopCounterMode

from alphapose_kit.config import load_config
from alphapose_kit.detectors.nets.yolov3_spp import build_yolov3_spp
from alphapose_kit.detectors.nets.yolov5 import build_yolov5
from alphapose_kit.detectors.nets.yolov8 import MODEL_NAMES as ULTRALYTICS_NAMES
from alphapose_kit.detectors.nets.yolov8 import build_yolov8
from alphapose_kit.detectors.nets.yolox import build_yolox
from alphapose_kit.hub.zoo import config_path, list_models
from alphapose_kit.models.loader import load_pose_model
from alphapose_kit.motion3d.videopose3d import TemporalModel


def _deform_conv_flops(*args, out_shape=None, **kwargs) -> int:
    """2 * N * Cout * Hout * Wout * Cin/groups * kh * kw, as for a dense conv of the same shape."""
    weight_shape = args[1]
    n, c_out, h_out, w_out = out_shape
    return 2 * n * c_out * h_out * w_out * weight_shape[1] * weight_shape[2] * weight_shape[3]


def count_gflops(model: torch.nn.Module, x: torch.Tensor) -> float:
    """GFLOPs of one forward pass on ``x``."""
    import torchvision  # noqa: F401  (registers torch.ops.torchvision)

    mapping = {torch.ops.torchvision.deform_conv2d: _deform_conv_flops}
    counter = FlopCounterMode(display=False, custom_mapping=mapping)
    with torch.inference_mode(), counter:
        model(x)
    return counter.get_total_flops() / 1e9


def rows(only: list[str] | None = None) -> list[tuple[str, str, float, float]]:
    """(name, input, Mparams, GFLOPs) for every zoo model (or the ``only`` ones)."""
    table = []
    for entry in list_models():
        if only and entry.name not in only:
            continue
        if entry.kind == "lifter":  # VideoPose3D's 243-frame model: one output frame from 243 frames of 17 joints
            lifter = TemporalModel().eval()
            params = sum(p.numel() for p in lifter.parameters()) / 1e6
            table.append((entry.name, "243x17x2", params, count_gflops(lifter, torch.zeros(1, 243, 17, 2))))
            continue
        if entry.kind == "pose":
            cfg = load_config(config_path(entry))
            model = load_pose_model(cfg)
            h, w = cfg.DATA_PRESET.IMAGE_SIZE
        else:
            if entry.name == "yolov3-spp":
                model, h = build_yolov3_spp().eval(), 608
            elif entry.name.startswith("yolox"):
                model, h = build_yolox(entry.name), 640  # AlphaPose's YOLOX input size for every variant
            elif entry.name in ULTRALYTICS_NAMES:
                model, h = build_yolov8(entry.name).eval(), 640
            else:
                model, h = build_yolov5(entry.name.removeprefix("yolov5")).eval(), 640
            w = h
        params = sum(p.numel() for p in model.parameters()) / 1e6
        table.append((entry.name, f"{h}x{w}", params, count_gflops(model, torch.zeros(1, 3, h, w))))
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", help="zoo names to measure (default: all)")
    args = parser.parse_args()
    unknown = sorted(set(args.only or ()) - {entry.name for entry in list_models()})
    if unknown:
        parser.error(f"not zoo models: {', '.join(unknown)} (see akit models list)")
    entries = {entry.name: entry for entry in list_models()}
    print("| model | kind | keypoints | AP | input | params (M) | GFLOPs |")
    print("|---|---|---|---:|---|---:|---:|")
    for name, size, params, gflops in rows(args.only):
        entry = entries[name]
        joints = f"{entry.keypoints} ({entry.num_keypoints})" if entry.kind == "pose" else entry.keypoints or "-"
        ap = f"{entry.ap:.1f}" if entry.ap is not None else "-"
        print(f"| {name} | {entry.kind} | {joints} | {ap} | {size} | {params:.2f} | {gflops:.2f} |")


if __name__ == "__main__":
    main()
