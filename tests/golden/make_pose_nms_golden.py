"""Regenerate pose_nms_golden.npz by running the ORIGINAL AlphaPose NMS on seeded scenes (see README.md).

Usage (outside the repository's code: the original is imported from a file you extract yourself):
    git -C <AlphaPose git dir> show c60106d1:alphapose/utils/pPose_nms.py > /tmp/orig/pPose_nms.py
    python tests/golden/make_pose_nms_golden.py /tmp/orig
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import torch

OUT = Path(__file__).with_name("pose_nms_golden.npz")

# (name, K, people, max duplicates per person, seed, min_box_area)
PNMS_SCENES = [
    ("p17a", 17, 12, 6, 1, 0.0),
    ("p17b", 17, 15, 6, 2, 0.0),
    ("p17c", 17, 18, 6, 3, 3000.0),
    ("p17big", 17, 1, 60, 24, 0.0),  # seed chosen for a 51-member cluster (torch's blockwise sum order)
    ("p26a", 26, 10, 6, 4, 0.0),
    ("p26b", 26, 12, 6, 6, 2000.0),
    ("p26big", 26, 1, 60, 20, 0.0),
    ("p13", 13, 8, 6, 7, 0.0),
    ("p68", 68, 4, 6, 8, 0.0),
]
OKS_SCENES = [("o17a", 17, 15, 11), ("o17b", 17, 12, 12), ("o26a", 26, 12, 13), ("o26b", 26, 8, 14)]


def make_scene(rng: np.random.Generator, people: int, k: int, dup_max: int):
    """People of three sizes, each with 1..dup_max jittered candidates (some exact duplicates, some 0 scores)."""
    boxes, det, kps, scores = [], [], [], []
    for _ in range(people):
        center = rng.uniform(0, 640, 2)
        size = rng.choice([rng.uniform(20, 70), rng.uniform(70, 160), rng.uniform(160, 400)])
        base = center + (rng.random((k, 2)) - 0.5) * size * np.array([0.6, 1.0])
        base_s = rng.uniform(0.0, 1.0, k) * rng.choice([1.0, 1.0, 0.25])
        for _ in range(rng.integers(1, dup_max + 1)):
            pose = base + rng.normal(0, rng.choice([0.3, 1.5, 4.0, 10.0]), (k, 2))
            if rng.random() < 0.15:
                pose = base.copy()
            s = np.clip(base_s + rng.normal(0, 0.08, k), -0.05, 1.0)
            if rng.random() < 0.15:
                s = base_s.copy()
            s[rng.random(k) < 0.1] = 0.0
            box = np.concatenate([pose.min(0), pose.max(0)]) + rng.normal(0, size * 0.05, 4)
            boxes.append(box)
            det.append(rng.uniform(0.05, 1.0))
            kps.append(pose)
            scores.append(s)
    return (
        np.array(boxes, np.float32),
        np.array(det, np.float32),
        np.array(kps, np.float32),
        np.array(scores, np.float32),
    )


def permuted_scores_scene(seed: int):
    """Two far-apart people whose joint scores are permutations of each other, chosen so that the float32 sum
    order decides who is picked first: torch's order ranks them one way, numpy's pairwise mean the other."""
    rng = np.random.default_rng(seed)
    while True:
        a = rng.uniform(0.3, 1.0, 17).astype(np.float32)
        b = a[rng.permutation(17)]
        ta, tb = torch.from_numpy(a).sum().item(), torch.from_numpy(b).sum().item()
        na, nb = np.mean(a), np.mean(b)
        if ta != tb and na != nb and (ta > tb) != (na > nb):
            break
    pose = rng.uniform(0, 60, (17, 2))
    kps = np.stack([pose, pose + 300]).astype(np.float32)
    boxes = np.array([[0, 0, 60, 60], [300, 300, 360, 360]], np.float32)
    return boxes, np.array([0.5, 0.5], np.float32), kps, np.stack([a, b])


def run_parametric(orig, boxes, det, kps, scores, min_box_area):
    """The original pose_nms_body plus writer.py's person score; bbox ids = input index reveal the clusters."""
    n, k = scores.shape
    res = orig.pose_nms_body(
        torch.from_numpy(boxes.copy()),
        torch.from_numpy(det.reshape(n, 1).copy()),
        torch.arange(n, dtype=torch.float32).reshape(n, 1),
        torch.from_numpy(kps.copy()),
        torch.from_numpy(scores.reshape(n, k, 1).copy()),
        min_box_area,
    )
    return summarise(res, k)


def summarise(res, k: int) -> dict[str, np.ndarray]:
    """What the golden keeps of the original's pose_nms output, with writer.py's person score."""
    _, box_scores, ids, poses, pose_scores, picks = res
    person = [torch.mean(s) + b + 1.25 * max(s) for s, b in zip(pose_scores, box_scores, strict=True)]
    clusters = [np.array(i, np.float32).reshape(-1).astype(np.int64) for i in ids]
    return {
        "picked": np.array([int(p) for p in picks], np.int64).reshape(-1),
        "cluster_sizes": np.array([len(c) for c in clusters], np.int64),
        "clusters": np.concatenate(clusters) if clusters else np.zeros(0, np.int64),
        "keypoints": np.stack([p.numpy() for p in poses]) if poses else np.zeros((0, k, 2), np.float32),
        "keypoint_scores": np.stack([s.numpy().reshape(k) for s in pose_scores])
        if poses
        else np.zeros((0, k), np.float32),
        "scores": np.array([float(s) for s in person], np.float32),
    }


def run_oks(orig, boxes, det, kps, scores):
    """validate.py's per-candidate entry (score, cropped-box area) and the original oks_pose_nms."""
    items = []
    for i in range(len(det)):
        s = scores[i].reshape(-1, 1)
        box = boxes[i].tolist()
        score = torch.tensor([det[i]]) + np.mean(s) + 1.25 * np.max(s)
        items.append(
            {
                "image_id": 1,
                "keypoints": np.concatenate([kps[i], s], axis=1).reshape(-1).tolist(),
                "area": (box[2] - box[0]) * (box[3] - box[1]),
                "score": float(score),
                "idx": i,
            }
        )
    kept = orig.oks_pose_nms(items)
    return {
        "picked": np.array([d["idx"] for d in kept], np.int64),
        "scores": np.array([d["score"] for d in kept], np.float64),
    }


def main(orig_dir: str) -> None:
    sys.path.insert(0, orig_dir)
    orig = importlib.import_module("pPose_nms")
    torch.set_num_threads(1)
    out: dict[str, np.ndarray] = {}
    for name, k, people, dup_max, seed, min_area in PNMS_SCENES:
        boxes, det, kps, scores = make_scene(np.random.default_rng(seed), people, k, dup_max)
        out.update(
            {
                f"{name}__in_{f}": v
                for f, v in zip(("boxes", "det", "kps", "scores"), (boxes, det, kps, scores), strict=True)
            }
        )
        out[f"{name}__in_min_box_area"] = np.array(min_area)
        res = run_parametric(orig, boxes, det, kps, scores, min_area)
        out.update({f"{name}__out_{f}": v for f, v in res.items()})
    boxes, det, kps, scores = permuted_scores_scene(0)
    out.update(
        {
            f"p17perm__in_{f}": v
            for f, v in zip(("boxes", "det", "kps", "scores"), (boxes, det, kps, scores), strict=True)
        }
    )
    out["p17perm__in_min_box_area"] = np.array(0.0)
    out.update({f"p17perm__out_{f}": v for f, v in run_parametric(orig, boxes, det, kps, scores, 0.0).items()})
    for name, k, people, seed in OKS_SCENES:
        boxes, det, kps, scores = make_scene(np.random.default_rng(seed), people, k, 4)
        out.update(
            {
                f"{name}__in_{f}": v
                for f, v in zip(("boxes", "det", "kps", "scores"), (boxes, det, kps, scores), strict=True)
            }
        )
        res = run_oks(orig, boxes, det, kps, scores)
        out.update({f"{name}__out_{f}": v for f, v in res.items()})
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main(sys.argv[1])
