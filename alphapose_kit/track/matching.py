"""Similarities between tracks and detections (box IoU, keypoint OKS) and their optimal one-to-one assignment."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every (x1, y1, x2, y2) box in ``a`` (N, 4) with every box in ``b`` (M, 4) -> (N, M)."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def pose_oks(
    kps_a: np.ndarray,
    vis_a: np.ndarray,
    kps_b: np.ndarray,
    vis_b: np.ndarray,
    areas_b: np.ndarray,
    sigmas: np.ndarray,
    min_joints: int = 3,
) -> np.ndarray:
    """OKS of every pose in ``a`` (N, K, 2) with every pose in ``b`` (M, K, 2) over joints visible in both -> (N, M).

    OKS = mean over shared joints of exp(-d^2 / (2 * area_b * (2 sigma)^2)) (pycocotools' computeOks, with the
    detection's box area as the object scale). Pairs sharing fewer than ``min_joints`` visible joints get NaN: their
    keypoints say nothing and the caller falls back to the box.
    """
    diff = np.asarray(kps_a, np.float64)[:, None] - np.asarray(kps_b, np.float64)[None]
    d2 = diff[..., 0] ** 2 + diff[..., 1] ** 2  # (N, M, K)
    var = (2 * np.asarray(sigmas, np.float64)) ** 2
    scale = 2 * np.maximum(np.asarray(areas_b, np.float64), 1.0)[None, :, None] * var[None, None, :]
    shared = np.asarray(vis_a, bool)[:, None, :] & np.asarray(vis_b, bool)[None, :, :]
    count = shared.sum(axis=2)
    total = np.where(shared, np.exp(-d2 / scale), 0.0).sum(axis=2)
    return np.where(count >= min_joints, total / np.maximum(count, 1), np.nan)


def assign(similarity: np.ndarray, min_similarity: float) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Hungarian assignment maximising total similarity; pairs below ``min_similarity`` are never matched.

    Returns (matches as (row, col), unmatched rows, unmatched cols).
    """
    rows, cols = similarity.shape
    if rows == 0 or cols == 0:
        return [], list(range(rows)), list(range(cols))
    allowed = similarity >= min_similarity
    cost = np.where(allowed, 1.0 - similarity, 1e6)  # forbidden pairs only when nothing else is possible
    r, c = linear_sum_assignment(cost)
    matches = [(int(i), int(j)) for i, j in zip(r, c, strict=True) if allowed[i, j]]
    matched_r = {i for i, _ in matches}
    matched_c = {j for _, j in matches}
    return matches, [i for i in range(rows) if i not in matched_r], [j for j in range(cols) if j not in matched_c]
