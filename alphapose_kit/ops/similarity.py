"""Box IoU and keypoint OKS, the one home of both: pose NMS, tracking, evaluation diagnostics and export checks
import them from here.

OKS follows pycocotools' ``computeOks`` (Lin et al., "Microsoft COCO", ECCV 2014): per joint
``ks = exp(-d^2 / (2 s (2 sigma)^2))`` with ``s`` the object's area; callers choose the area and the joints.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def _intersection_over_union(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """IoU of broadcast (..., 4) x1y1x2y2 boxes; 0 where the union is empty."""
    inter = np.prod(np.clip(np.minimum(a[..., 2:], b[..., 2:]) - np.maximum(a[..., :2], b[..., :2]), 0, None), axis=-1)
    area_a = np.prod(np.clip(a[..., 2:] - a[..., :2], 0, None), axis=-1)
    area_b = np.prod(np.clip(b[..., 2:] - b[..., :2], 0, None), axis=-1)
    union = area_a + area_b - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def box_iou(a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    """IoU of every (x1, y1, x2, y2) box in ``a`` (N, 4) with every box in ``b`` (M, 4) -> (N, M), float64."""
    a64 = np.asarray(a, np.float64).reshape(-1, 4)
    b64 = np.asarray(b, np.float64).reshape(-1, 4)
    return _intersection_over_union(a64[:, None, :], b64[None, :, :])


def paired_iou(a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    """IoU of ``a[i]`` with ``b[i]`` for x1y1x2y2 boxes ``(M, 4)`` -> (M,), float64."""
    return _intersection_over_union(np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4))


def keypoint_similarity(d2: ArrayLike, variances: ArrayLike, area: ArrayLike) -> NDArray[np.float64]:
    """Per-joint COCO similarity ``exp(-d2 / variances / area / 2)`` (broadcast), ``variances = (2 sigma)^2``."""
    return np.exp(-(np.asarray(d2, np.float64) / np.asarray(variances, np.float64) / np.asarray(area, np.float64) / 2))


def object_keypoint_similarity(ref_keypoints, keypoints, ref_area, areas, sigmas) -> np.ndarray:
    """OKS of one (K, 2) pose against (M, K, 2) poses, all joints, float64 -> (M,).

    OKS_j = mean_k exp(-d_jk^2 / (2 * (2 sigma_k)^2 * ((ref_area + areas_j) / 2 + eps))), eps = np.spacing(1): the
    formula of AlphaPose's oks_iou (pycocotools' computeOks with the mean of the two areas, every joint visible).
    """
    ref = np.asarray(ref_keypoints, np.float64)
    kps = np.asarray(keypoints, np.float64).reshape(-1, *ref.shape)
    variances = (np.asarray(sigmas, np.float64) * 2) ** 2
    mean_area = (np.float64(ref_area) + np.asarray(areas, np.float64).reshape(-1)) / 2 + np.spacing(1)
    diff = kps - ref[None]
    ks = keypoint_similarity(diff[..., 0] ** 2 + diff[..., 1] ** 2, variances, mean_area[:, None])
    return np.sum(ks, axis=1) / ref.shape[0]


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
    detection's box area, at least 1, as the object scale). Pairs sharing fewer than ``min_joints`` visible joints get
    NaN: their keypoints say nothing and the caller falls back to the box.
    """
    diff = np.asarray(kps_a, np.float64)[:, None] - np.asarray(kps_b, np.float64)[None]
    d2 = diff[..., 0] ** 2 + diff[..., 1] ** 2  # (N, M, K)
    var = (2 * np.asarray(sigmas, np.float64)) ** 2
    area = np.maximum(np.asarray(areas_b, np.float64), 1.0)[None, :, None]
    shared = np.asarray(vis_a, bool)[:, None, :] & np.asarray(vis_b, bool)[None, :, :]
    count = shared.sum(axis=2)
    total = np.where(shared, keypoint_similarity(d2, var[None, None, :], area), 0.0).sum(axis=2)
    return np.where(count >= min_joints, total / np.maximum(count, 1), np.nan)
