"""What both pose NMS variants share: their result (:class:`PoseNMSResult`), the input checks and the
keypoint-extent area of the ``min_box_area`` test."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

AREA_FACTOR = 1.5**2  # keypoint-extent area is scaled by this before the min_box_area test

_F32 = np.float32


@dataclass(frozen=True, eq=False)
class PoseNMSResult:
    """The poses kept by a pose NMS, in emission order (M poses, K joints).

    picked: (M,) int64 input index of each kept pose.
    boxes: (M, 4) float32 x1y1x2y2 detection box of the kept (picked) candidate.
    box_scores: (M,) float32 detection score of the kept candidate.
    keypoints: (M, K, 2) float32 (merged, for the parametric NMS).
    keypoint_scores: (M, K) float32 (merged, for the parametric NMS).
    scores: (M,) person score (:func:`alphapose_kit.ops.scores.person_score` of the merged joint scores) for the
        parametric NMS, or the float64 rescored validate score for OKS-NMS.
    clusters: M int64 arrays of the input indices each kept pose absorbed, ascending (AlphaPose's "idx").
    """

    picked: np.ndarray
    boxes: np.ndarray
    box_scores: np.ndarray
    keypoints: np.ndarray
    keypoint_scores: np.ndarray
    scores: np.ndarray
    clusters: tuple[np.ndarray, ...]

    def __len__(self) -> int:
        return len(self.picked)


def check_inputs(boxes, box_scores, keypoints, keypoint_scores):
    """One image's candidates as C-contiguous float32 ``(boxes (N, 4), box_scores (N,), keypoints (N, K, 2),
    keypoint_scores (N, K))``; ValueError naming the first wrong shape."""
    kp = np.asarray(keypoints, dtype=_F32)
    if kp.ndim != 3 or kp.shape[2] != 2:
        raise ValueError(f"keypoints must have shape (N, K, 2), got {kp.shape}")
    n, k = kp.shape[:2]
    kps = np.asarray(keypoint_scores, dtype=_F32)
    if kps.shape == (n, k, 1):
        kps = kps[:, :, 0]
    if kps.shape != (n, k):
        raise ValueError(f"keypoint_scores must have shape ({n}, {k}), got {kps.shape}")
    bx = np.asarray(boxes, dtype=_F32).reshape(-1, 4) if np.size(boxes) else np.zeros((0, 4), _F32)
    if bx.shape != (n, 4):
        raise ValueError(f"boxes must have shape ({n}, 4), got {np.shape(boxes)}")
    bs = np.asarray(box_scores, dtype=_F32).reshape(-1)
    if bs.shape != (n,):
        raise ValueError(f"box_scores must have {n} values, got shape {np.shape(box_scores)}")
    return (
        np.ascontiguousarray(bx),
        np.ascontiguousarray(bs),
        np.ascontiguousarray(kp),
        np.ascontiguousarray(kps),
    )


def output_precision(given, as_float32: np.ndarray) -> np.ndarray:
    """The caller's array if it is float64, else the float32 working copy."""
    array = np.asarray(given)
    return array.reshape(as_float32.shape) if array.dtype == np.float64 and array.size else as_float32


def empty_result(k: int, score_dtype=_F32) -> PoseNMSResult:
    """A result with no poses, shaped for ``k`` joints."""
    return PoseNMSResult(
        picked=np.zeros(0, np.int64),
        boxes=np.zeros((0, 4), _F32),
        box_scores=np.zeros(0, _F32),
        keypoints=np.zeros((0, k, 2), _F32),
        keypoint_scores=np.zeros((0, k), _F32),
        scores=np.zeros(0, score_dtype),
        clusters=(),
    )


def extent_areas(poses: np.ndarray) -> np.ndarray:
    """1.5^2 * width * height of each (K, 2) float32 pose's keypoint extent -> (M,) float32.

    Extremes as Python's max()/min() over the joints, as the original: a NaN counts only when it is the first joint.
    """

    def side(v: np.ndarray) -> np.ndarray:
        first = v[:, 0]
        nan_first = np.isnan(first)
        return np.where(nan_first, first, np.fmax.reduce(v, axis=1)) - np.where(nan_first, first, np.fmin.reduce(v, 1))

    return _F32(AREA_FACTOR) * side(poses[:, :, 0]) * side(poses[:, :, 1])
