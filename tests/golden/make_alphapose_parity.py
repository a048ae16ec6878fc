"""Regenerate alphapose_parity_{noflip,flip}.json by running the ORIGINAL AlphaPose demo path (see README.md).

No AlphaPose code is in this repository: the original is extracted outside it and imported from there. Run it
with OpenCV 4.x (AlphaPose's crop is cv2.warpAffine, whose 5.x version samples differently) and NumPy 1.x (the
original's era: its ``_center_scale_to_box`` mixes float32 scalars with Python floats, float64 under NumPy 1.x
promotion, float32 under NumPy 2):

    git -C <AlphaPose git dir> archive c60106d1 alphapose configs detector | tar -x -C /tmp/ap
    python -m venv /tmp/apenv --system-site-packages
    /tmp/apenv/bin/pip install "numpy<2" "opencv-python-headless<5" easydict
    /tmp/apenv/bin/python tests/golden/make_alphapose_parity.py /tmp/ap

What runs is the original's ``--detfile`` demo: FileDetectionLoader (box -> centre/scale, warpAffine crop,
normalisation), the FastPose model, DataWriter (heatmap_to_coord_simple, pose_nms, write_json). Only the loop
of scripts/demo_inference.py is re-typed here, and its flip branch is changed in one place: the heatmap shift
is done on a copy, because the original's in-place overlapping shift destroys the flipped heatmap on CPU.
"""

from __future__ import annotations

import json
import sys
import tempfile
import types
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import torch
import torchvision

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.engine.test_alphapose_parity import COCO, parity_detections, parity_state_dict  # noqa: E402

CONFIG = "configs/coco/resnet/256x192_res50_lr1e-3_1x.yaml"
POSE_BATCH = 64  # the demo's --posebatch default; halved with --flip


def import_original(root: Path):
    """Import the original from ``root`` with its CUDA extensions stubbed and no ImageNet download."""
    stub = "alphapose.utils.roi_align.roi_align_cuda"  # imported by SimpleTransform, unused on this path
    sys.modules[stub] = types.ModuleType(stub)
    resnet50 = torchvision.models.resnet50
    torchvision.models.resnet50 = lambda pretrained=False, **kw: resnet50(weights=None)  # weights replaced below
    sys.path.insert(0, str(root))
    from alphapose.datasets import Mscoco
    from alphapose.models import builder
    from alphapose.utils.config import update_config
    from alphapose.utils.file_detector import FileDetectionLoader
    from alphapose.utils.transforms import flip, flip_heatmap
    from alphapose.utils.writer import DataWriter

    return SimpleNamespace(
        Mscoco=Mscoco, builder=builder, update_config=update_config, FileDetectionLoader=FileDetectionLoader,
        flip=flip, flip_heatmap=flip_heatmap, DataWriter=DataWriter,
    )  # fmt: skip


def demo_options(outdir: Path) -> SimpleNamespace:
    """The demo's argparse defaults that the loader and writer read (single process, JSON only)."""
    return SimpleNamespace(
        sp=True, save_img=False, vis=False, vis_fast=False, pose_flow=False, pose_track=False,
        outputpath=str(outdir), format=None, eval=False, min_box_area=0,
    )  # fmt: skip


def clean_flip_back(orig, heatmaps: torch.Tensor, joint_pairs) -> torch.Tensor:
    """The original's flip_heatmap(..., shift=True), with the one-column shift done on a copy."""
    out = orig.flip_heatmap(heatmaps, joint_pairs, shift=False)
    shifted = out.clone()
    shifted[:, :, :, 1:] = out[:, :, :, :-1]
    return shifted


def run_demo(orig, cfg, model, detfile: Path, outdir: Path, use_flip: bool) -> list[dict]:
    """scripts/demo_inference.py's loop in --detfile mode; returns the alphapose-results.json content."""
    opt = demo_options(outdir)
    loader = orig.FileDetectionLoader(str(detfile), cfg, opt)
    loader.start()
    writer = orig.DataWriter(cfg, opt, save_video=False).start()
    joint_pairs = orig.Mscoco.joint_pairs
    batch = POSE_BATCH // 2 if use_flip else POSE_BATCH
    for _ in range(loader.length):
        with torch.no_grad():
            inps, orig_img, im_name, boxes, scores, ids, cropped_boxes = loader.read()
            heatmaps = []
            for start in range(0, inps.size(0), batch):
                inps_j = inps[start : start + batch]
                if use_flip:
                    inps_j = torch.cat((inps_j, orig.flip(inps_j)))
                hm_j = model(inps_j)
                if use_flip:
                    half = len(hm_j) // 2
                    hm_j = (hm_j[:half] + clean_flip_back(orig, hm_j[half:], joint_pairs)) / 2
                heatmaps.append(hm_j)
            writer.save(boxes, scores, ids, torch.cat(heatmaps), cropped_boxes, orig_img, im_name)
    writer.stop()
    return json.loads((outdir / "alphapose-results.json").read_text())


def main(root: Path, out_dir: Path) -> None:
    if not cv2.__version__.startswith("4.") or not np.__version__.startswith("1."):
        sys.exit(f"needs OpenCV 4.x and NumPy 1.x (AlphaPose's era); this is {cv2.__version__}, {np.__version__}")
    torch.set_num_threads(1)
    orig = import_original(root)
    cfg = orig.update_config(str(root / CONFIG))
    model = orig.builder.build_sppe(cfg.MODEL, preset_cfg=cfg.DATA_PRESET)
    model.load_state_dict(parity_state_dict(model.state_dict()), strict=True)
    model.eval()
    with tempfile.TemporaryDirectory() as tmp:
        detfile = Path(tmp) / "detections.json"
        detfile.write_text(json.dumps(parity_detections(COCO)))
        for name, use_flip in (("noflip", False), ("flip", True)):
            outdir = Path(tmp) / name
            outdir.mkdir()
            records = run_demo(orig, cfg, model, detfile, outdir, use_flip)
            path = out_dir / f"alphapose_parity_{name}.json"
            path.write_text("[\n" + ",\n".join(json.dumps(r) for r in records) + "\n]\n")
            print(f"{path}: {len(records)} people")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: make_alphapose_parity.py ALPHAPOSE_ROOT [OUT_DIR]")
    main(Path(sys.argv[1]).resolve(), Path(sys.argv[2]) if len(sys.argv) == 3 else Path(__file__).parent)
