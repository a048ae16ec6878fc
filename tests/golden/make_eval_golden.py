"""Regenerate eval_golden.npz by running the ORIGINAL AlphaPose validation (scripts/validate.py) on CPU (README.md).

No AlphaPose code is in this repository: the original is extracted outside it and imported from there. Run it with
OpenCV 4.x and NumPy 1.x (AlphaPose's era; see README.md):

    git -C <AlphaPose git dir> archive c60106d1 alphapose configs detector scripts | tar -x -C /tmp/ap
    python -m venv /tmp/apenv --system-site-packages
    /tmp/apenv/bin/pip install "numpy<2" "opencv-python-headless<5" easydict
    /tmp/apenv/bin/python tests/golden/make_eval_golden.py /tmp/ap

The network is tests/evaluation/golden_model.py's (a tiny seeded CNN plus a fixed standing-person prior, so AP is not
zero); the config is the original's FastPose ResNet-50 one, for its data and decoder settings. What runs is the
original's ``validate_gt`` and ``validate`` functions themselves (imported from scripts/validate.py), their datasets
(``Mscoco`` train=False, ``Mscoco_det``), DataLoader, decoder, pose NMS and ``evaluate_mAP``.
Three things are patched around them: ``Tensor.cuda`` returns the tensor (CPU), the CUDA-only ``roi_align``
extension is a stub (imported, unused), and ``flip_heatmap``'s one-column shift is done on a copy (the original's
in-place overlapping copy corrupts 16 of 48 columns on CPU; tests/golden/README.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import types
from pathlib import Path

import cv2
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.evaluation.golden_model import GoldenPoseNet  # noqa: E402
from tests.paths import COCO, GOLDEN  # noqa: E402

CONFIG = "configs/coco/resnet/256x192_res50_lr1e-3_1x.yaml"
BATCH = 8  # validate.py's --batch (any value: batching moves heatmaps by float32 rounding only)
# (name, pass, flip, pose NMS) of every golden run
RUNS = (
    ("gt_noflip", "gt", False, "none"),
    ("gt_flip", "gt", True, "none"),
    ("det_noflip", "det", False, "none"),
    ("det_flip", "det", True, "none"),
    ("det_pnms", "det", False, "pnms"),
    ("det_oks", "det", False, "oks"),
)


def import_validate(root: Path, workdir: Path):
    """scripts/validate.py as a module (CPU patches applied), with its args set for our data under ``workdir``."""
    stub = "alphapose.utils.roi_align.roi_align_cuda"
    sys.modules[stub] = types.ModuleType(stub)
    torch.Tensor.cuda = lambda self, *args, **kwargs: self  # validate.py moves every batch to CUDA
    sys.path.insert(0, str(root))
    sys.argv = ["validate.py", "--cfg", str(root / CONFIG), "--checkpoint", "unused", "--gpus", "-1"]
    import importlib.util

    spec = importlib.util.spec_from_file_location("ap_validate", root / "scripts" / "validate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    original_flip_heatmap = module.flip_heatmap

    def flip_heatmap_clean_shift(heatmap, joint_pairs, shift=False):
        out = original_flip_heatmap(heatmap, joint_pairs, shift=False)
        if shift:
            out = torch.cat((out[..., :1], out[..., :-1]), dim=-1)
        return out

    module.flip_heatmap = flip_heatmap_clean_shift
    for split in (module.cfg.DATASET.VAL, module.cfg.DATASET.TEST):
        split.ROOT = str(workdir) + "/"
        split.ANN = "person_keypoints.json"
    module.cfg.DATASET.TEST.DET_FILE = str(COCO / "person_detections.json")
    return module


def link_images(workdir: Path) -> None:
    """Mscoco reads ROOT/val2017/<name> (from coco_url), Mscoco_det ROOT/val2017/%012d.jpg: link the shared files."""
    (workdir / "val2017").mkdir()
    for image in sorted(COCO.glob("*.jpg")):
        os.symlink(image, workdir / "val2017" / image.name)
    os.symlink(COCO / "person_keypoints.json", workdir / "person_keypoints.json")
    (workdir / "exp" / "json").mkdir(parents=True)


def as_arrays(records: list[dict], prefix: str) -> dict[str, np.ndarray]:
    """A results file as arrays (exact: keypoints are float32 values, scores and boxes float64)."""
    out = {
        f"{prefix}__image_id": np.array([r["image_id"] for r in records], np.int64),
        f"{prefix}__keypoints": np.array([r["keypoints"] for r in records], np.float64).astype(np.float32),
        f"{prefix}__score": np.array([r["score"] for r in records], np.float64),
    }
    for key in ("bbox", "box", "area"):
        if key in records[0]:
            out[f"{prefix}__{key}"] = np.array([r[key] for r in records], np.float64)
    assert np.array_equal(out[f"{prefix}__keypoints"].astype(np.float64), np.array([r["keypoints"] for r in records]))
    return out


def coco_stats(results_file: Path, ann_file: Path) -> np.ndarray:
    """The ten COCO keypoint numbers pycocotools gives for the original's own results file."""
    from pycocotools.coco import COCO as CocoApi
    from pycocotools.cocoeval import COCOeval

    stdout = sys.stdout
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    try:
        gt = CocoApi(str(ann_file))
        ev = COCOeval(gt, gt.loadRes(str(results_file)), "keypoints")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    finally:
        sys.stdout.close()
        sys.stdout = stdout
    return np.array(ev.stats, np.float64)


def validation_samples(module) -> dict[str, np.ndarray]:
    """The original's Mscoco(train=False) items: image id, crop box, target weight, and hashes of crop and target."""
    from alphapose.models import builder

    dataset = builder.build_dataset(module.cfg.DATASET.VAL, preset_cfg=module.cfg.DATA_PRESET, train=False)
    ids, boxes, weights, peaks, crop_sha, target_sha = [], [], [], [], [], []
    for i in range(len(dataset)):
        inp, target, weight, img_id, bbox = dataset[i]
        ids.append(img_id)
        boxes.append(bbox.numpy())
        weights.append(weight.numpy().reshape(-1))
        t = target.numpy()
        peaks.append(t.reshape(t.shape[0], -1).argmax(axis=1))
        crop_sha.append(hashlib.sha256(np.ascontiguousarray(inp.numpy(), np.float32).tobytes()).hexdigest())
        target_sha.append(hashlib.sha256(np.ascontiguousarray(t, np.float32).tobytes()).hexdigest())
    return {
        "samples__image_id": np.array(ids, np.int64),
        "samples__crop_box": np.array(boxes, np.float32),
        "samples__target_weight": np.array(weights, np.float32),
        "samples__target_peak": np.array(peaks, np.int64),
        "samples__crop_sha256": np.array(crop_sha),
        "samples__target_sha256": np.array(target_sha),
    }


def main(root: Path, out_file: Path) -> None:
    if not cv2.__version__.startswith("4.") or not np.__version__.startswith("1."):
        sys.exit(f"needs OpenCV 4.x and NumPy 1.x (AlphaPose's era); this is {cv2.__version__}, {np.__version__}")
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        link_images(workdir)
        module = import_validate(root, workdir)
        os.chdir(workdir)  # validate.py writes ./exp/json/*.json
        model = GoldenPoseNet().eval()
        heatmap_to_coord = module.get_func_heatmap_to_coord(module.cfg)
        arrays = validation_samples(module)
        for name, kind, flip, nms in RUNS:
            module.opt.flip_test, module.opt.ppose_nms, module.opt.oks_nms = flip, nms == "pnms", nms == "oks"
            with torch.no_grad():
                if kind == "gt":
                    ap = module.validate_gt(model, module.cfg, heatmap_to_coord, BATCH, 0)
                    written = workdir / "exp" / "json" / "validate_gt_kpt.json"
                else:
                    ap = module.validate(model, heatmap_to_coord, BATCH, 0)
                    written = workdir / "exp" / "json" / "validate_rcnn_kpt.json"
            records = json.loads(written.read_text())
            arrays.update(as_arrays(records, name))
            arrays[f"{name}__alphapose_ap"] = np.float64(ap)
            arrays[f"{name}__stats"] = coco_stats(written, workdir / "person_keypoints.json")
            print(f"{name}: {len(records)} results, AlphaPose AP {ap:.6f}", file=sys.stderr)
    np.savez_compressed(out_file, **arrays)
    print(f"{out_file}: {out_file.stat().st_size} bytes", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: make_eval_golden.py ALPHAPOSE_ROOT [OUT_FILE]")
    main(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve() if len(sys.argv) == 3 else GOLDEN / "eval_golden.npz")
