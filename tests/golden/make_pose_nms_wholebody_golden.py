"""Regenerate pose_nms_wholebody_golden.npz by running the ORIGINAL AlphaPose whole-body NMS on seeded scenes.

Usage (outside the repository's code: the original is imported from a file you extract yourself):
    git -C <AlphaPose git dir> show c60106d1:alphapose/utils/pPose_nms.py > /tmp/orig/pPose_nms.py
    python tests/golden/make_pose_nms_wholebody_golden.py /tmp/orig

``pose_nms(..., use_heatmap_loss=False)`` rewrites the module's constants for good, so each variant runs in a freshly
imported copy of the module.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_pose_nms_golden import make_scene, summarise  # the body golden's scene maker and summary

OUT = Path(__file__).with_name("pose_nms_wholebody_golden.npz")

# (name, K, people, max duplicates per person, seed, min_box_area, heatmap loss)
SCENES = [
    ("w136a", 136, 6, 6, 31, 0.0, True),
    ("w136b", 136, 8, 8, 32, 0.0, True),
    ("w136c", 136, 5, 6, 33, 2500.0, True),
    ("w136big", 136, 1, 40, 34, 0.0, True),
    ("w133a", 133, 6, 6, 35, 0.0, True),
    ("w133b", 133, 8, 8, 36, 0.0, True),
    ("w136r", 136, 6, 6, 37, 0.0, False),
    ("w136rb", 136, 8, 8, 38, 0.0, False),
    ("w133r", 133, 6, 6, 39, 0.0, False),
]


def run_original(orig, boxes, det, kps, scores, min_box_area, heatmap):
    """The original pose_nms (whole-body branch) plus writer.py's person score; box ids = input index."""
    n, k = scores.shape
    res = orig.pose_nms(
        torch.from_numpy(boxes.copy()),
        torch.from_numpy(det.reshape(n, 1).copy()),
        torch.arange(n, dtype=torch.float32).reshape(n, 1),
        torch.from_numpy(kps.copy()),
        torch.from_numpy(scores.reshape(n, k, 1).copy()),
        min_box_area,
        use_heatmap_loss=heatmap,
    )
    return summarise(res, k)


def main(orig_dir: str) -> None:
    sys.path.insert(0, orig_dir)
    torch.set_num_threads(1)
    out: dict[str, np.ndarray] = {}
    for name, k, people, dup_max, seed, min_area, heatmap in SCENES:
        sys.modules.pop("pPose_nms", None)
        orig = importlib.import_module("pPose_nms")
        boxes, det, kps, scores = make_scene(np.random.default_rng(seed), people, k, dup_max)
        for field, value in zip(("boxes", "det", "kps", "scores"), (boxes, det, kps, scores), strict=True):
            out[f"{name}__in_{field}"] = value
        out[f"{name}__in_min_box_area"] = np.array(min_area)
        out[f"{name}__in_heatmap"] = np.array(heatmap)
        res = run_original(orig, boxes, det, kps, scores, min_area, heatmap)
        out.update({f"{name}__out_{f}": v for f, v in res.items()})
        print(name, "kept", len(res["picked"]), "of", len(det), "sizes", res["cluster_sizes"].tolist())
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main(sys.argv[1])
