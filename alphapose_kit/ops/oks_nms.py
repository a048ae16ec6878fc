"""The OKS-based pose NMS of AlphaPose's ``scripts/validate.py --oks-nms``: rescoring, greedy OKS suppression, no
merging; in float64 like the original."""

from __future__ import annotations

import numpy as np

from alphapose_kit.data.keypoints import get_keypoint_set
from alphapose_kit.errors import AkitError
from alphapose_kit.ops.nms_result import PoseNMSResult, check_inputs, empty_result, extent_areas
from alphapose_kit.ops.scores import person_score
from alphapose_kit.ops.similarity import object_keypoint_similarity

OKS_VISIBLE_SCORE = 0.2  # joints scoring above this make up the rescoring mean

_F32 = np.float32


def default_oks_sigmas(num_joints: int) -> np.ndarray:
    """Per-joint OKS sigmas of the registered keypoint set with ``num_joints`` joints (COCO-17, Halpe-26, ...)."""
    try:
        return get_keypoint_set(num_joints).sigma_array
    except AkitError:
        raise AkitError(
            f"no default OKS sigmas for {num_joints} joints; pass sigmas with {num_joints} values"
        ) from None


def oks_pose_nms(
    boxes,
    box_scores,
    keypoints,
    keypoint_scores,
    min_box_area: float = 0.0,
    sigmas=None,
    oks_threshold: float = 0.9,
    areas=None,
) -> PoseNMSResult:
    """OKS-based pose NMS of AlphaPose's validate script for one image; poses are kept, never merged.

    Each candidate is rescored: (det + mean + 1.25 * max of its joint scores) * mean of its joint scores above
    0.2 (0 when none is). Greedy by descending score (the reversed default ``np.argsort``, as the original: equal
    scores come in the order numpy's unstable sort leaves them, later detection first for small N), every remaining
    candidate whose OKS with the kept pose exceeds ``oks_threshold`` (or is NaN)
    is dropped. OKS = mean_k exp(-d^2 / (2 * (2 sigma_k)^2 * ((A_i + A_j) / 2 + eps))), all joints; A = ``areas``
    (AlphaPose uses the cropped box) or else the box area. clusters = the kept pose and the poses it dropped.
    ``min_box_area`` (an akit addition, off by default) drops kept poses the way the parametric NMS does.
    Keypoints and joint scores are returned unchanged (zero scores are not replaced here).
    """
    bx, bs, kp, s = check_inputs(boxes, box_scores, keypoints, keypoint_scores)
    n, k = s.shape
    sig = default_oks_sigmas(k) if sigmas is None else np.asarray(sigmas, np.float64).reshape(-1)
    if sig.shape != (k,):
        raise AkitError(f"OKS sigmas must have one value per joint ({k}), got {sig.size}")
    if n == 0:
        return empty_result(k, np.float64)
    if areas is None:
        b64 = bx.astype(np.float64)
        area = (b64[:, 2] - b64[:, 0]) * (b64[:, 3] - b64[:, 1])
    else:
        area = np.asarray(areas, np.float64).reshape(-1)
        if area.shape != (n,):
            raise ValueError(f"areas must have {n} values, got shape {np.shape(areas)}")

    # validate.py's score, float32 det + np.mean + 1.25 * np.max; then x mean of the joint scores above 0.2 (float64,
    # summed in joint order).
    base = person_score(s, bs, mean=np.mean(s, axis=1))
    s64 = s.astype(np.float64)
    visible = s64 > OKS_VISIBLE_SCORE
    n_visible = visible.sum(axis=1)
    vis_sum = np.cumsum(np.where(visible, s64, 0.0), axis=1)[:, -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        vis_mean = np.where(n_visible > 0, vis_sum / np.maximum(n_visible, 1), 0.0)
    score = vis_mean * base.astype(np.float64)

    kp64 = kp.astype(np.float64)
    order = np.argsort(score)[::-1]  # numpy's default sort, as the original (ties: see docstring)
    kept, groups = [], []
    while order.size:
        i, rest = order[0], order[1:]
        oks = object_keypoint_similarity(kp64[i], kp64[rest], area[i], area[rest], sig)
        keep_rest = oks <= oks_threshold
        kept.append(int(i))
        groups.append(np.sort(np.concatenate([[i], rest[~keep_rest]])).astype(np.int64))
        order = rest[keep_rest]

    with np.errstate(invalid="ignore"):
        sel = np.flatnonzero(~(extent_areas(kp[kept]) < _F32(min_box_area)))
    if not sel.size:
        return empty_result(k, np.float64)
    ids = np.array(kept, np.int64)[sel]
    return PoseNMSResult(
        picked=ids,
        boxes=bx[ids],
        box_scores=bs[ids],
        keypoints=kp[ids],
        keypoint_scores=s[ids],
        scores=score[ids],
        clusters=tuple(groups[j] for j in sel),
    )
