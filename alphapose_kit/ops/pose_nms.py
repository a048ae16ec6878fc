"""Pose-level non-maximum suppression: AlphaPose's parametric pose NMS and the OKS-NMS of its validate script.

Both functions take one image's candidates as numpy arrays and return a :class:`PoseNMSResult`.

``parametric_pose_nms`` is the body variant of AlphaPose's pPose-NMS (any number of joints K; used for COCO-17 and
Halpe-26 alike). It reproduces AlphaPose's picks, clusters and merged poses in float32. Where the order of a float32
sum changes the last bit, the sums follow the order of torch's CPU sum kernel (``_torch_sum_last`` and
``_torch_sum_first`` below), so merged poses and person scores match the original bit for bit; ``exp`` and
``tanh`` are rounded from float64 and can differ from torch's by one unit in the last place, which only matters
for a similarity that lands within that margin of the threshold.

``oks_pose_nms`` is the alternative of ``scripts/validate.py --oks-nms``: rescoring, greedy OKS suppression, no
merging. It works in float64 like the original.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alphapose_kit.errors import AkitError

__all__ = [
    "COCO17_SIGMAS",
    "HALPE26_SIGMAS",
    "PoseNMSResult",
    "default_oks_sigmas",
    "object_keypoint_similarity",
    "oks_pose_nms",
    "parametric_pose_nms",
]

# Parametric pose NMS constants (body variant).
DELTA1 = 1.0  # score-term temperature
MU = 1.7  # weight of the point-distance term
DELTA2 = 2.65  # point-distance temperature
GAMMA = 22.48  # similarity threshold
SCORE_THRESHOLD = 0.3  # a pose whose best joint score is below this is dropped
MATCH_THRESHOLD = 5  # this many matching joints also put a candidate in the cluster
ALPHA = 0.1  # reference distance = ALPHA * longer box side
MATCH_RADIUS_CAP = 7  # match radius = min(ref, 7)
MERGE_RADIUS_CAP = 15  # merge radius = min(ref, 15)
AREA_FACTOR = 1.5**2  # keypoint-extent area is scaled by this before the min_box_area test
ZERO_SCORE = 1e-5  # keypoint scores that are exactly 0 become this

# validate.py OKS-NMS constants.
OKS_VISIBLE_SCORE = 0.2  # joints scoring above this make up the rescoring mean

COCO17_SIGMAS = (
    np.array([0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89])
    / 10.0
)
HALPE26_SIGMAS = np.concatenate([COCO17_SIGMAS, np.array([0.8, 0.8, 0.8, 0.89, 0.89, 0.89, 0.89, 0.89, 0.89]) / 10.0])

_F32 = np.float32


@dataclass(frozen=True, eq=False)
class PoseNMSResult:
    """The poses kept by a pose NMS, in emission order (M poses, K joints).

    picked: (M,) int64 input index of each kept pose.
    boxes: (M, 4) float32 x1y1x2y2 detection box of the kept (picked) candidate.
    box_scores: (M,) float32 detection score of the kept candidate.
    keypoints: (M, K, 2) float32 (merged, for the parametric NMS).
    keypoint_scores: (M, K) float32 (merged, for the parametric NMS).
    scores: (M,) person score: float32 mean + det + 1.25 * max of the merged joint scores (parametric NMS), or
        float64 rescored validate score (OKS-NMS).
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


# ---------------------------------------------------------------------------------------------------------------
# float32 sums in the order of torch's CPU sum kernel (ATen SumKernel.cpp, 8-lane vectors on x86).
# ---------------------------------------------------------------------------------------------------------------


def _seq_sum(rows: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """((start + rows[0]) + rows[1]) + ... along axis 0 in float32 (start 0 if None)."""
    if start is not None:
        rows = np.concatenate([start[None], rows], axis=0)
    if rows.shape[0] == 0:
        return np.zeros(rows.shape[1:], _F32)
    return np.cumsum(rows, axis=0, dtype=_F32)[-1]


def _ceil_log2(n: int) -> int:
    return 1 if n <= 2 else (n - 1).bit_length()


def _cascade_sum(x: np.ndarray) -> np.ndarray:
    """Sum along axis 0 like torch's multi_row_sum: blocks of 16 rows summed in turn, block sums cascaded."""
    n = x.shape[0]
    levels = 4
    power = max(4, _ceil_log2(n) // levels)
    step = 1 << power
    if n < step:
        return _seq_sum(x)
    zero = np.zeros(x.shape[1:], _F32)
    acc = [zero] * levels
    i = 0
    while i + step <= n:
        acc[0] = _seq_sum(x[i : i + step])
        i += step
        for j in range(1, levels):
            acc[j] = acc[j] + acc[j - 1]
            acc[j - 1] = zero
            if i & ((step - 1) << (j * power)):
                break
    total = _seq_sum(x[i:])
    for j in range(1, levels):
        total = total + acc[j]
    return total


def _row_sum(x: np.ndarray) -> np.ndarray:
    """Sum along axis 0 like torch's row_sum: 4 interleaved cascaded partial sums, tail into the first."""
    n4 = x.shape[0] // 4
    parts = [_cascade_sum(x[k : 4 * n4 : 4]) for k in range(4)]
    total = _seq_sum(x[4 * n4 :], parts[0])
    for k in range(1, 4):
        total = total + parts[k]
    return total


def _torch_sum_last(x: np.ndarray) -> np.ndarray:
    """torch.sum(x, dim=-1) for a float32 array whose last axis is contiguous, in torch's CPU order."""
    k = x.shape[-1]
    if k < 8:
        return _row_sum(np.moveaxis(x, -1, 0))
    nv = k // 8
    chunks = np.moveaxis(x[..., : 8 * nv].reshape((*x.shape[:-1], nv, 8)), -2, 0)
    lanes = _row_sum(chunks)  # (..., 8)
    total = _seq_sum(np.moveaxis(x[..., 8 * nv :], -1, 0))
    return _seq_sum(np.moveaxis(lanes, -1, 0), total)


def _torch_sum_first(x: np.ndarray) -> np.ndarray:
    """torch.sum(x, dim=0) for a C-contiguous float32 (n, C) array, in torch's CPU order.

    Output columns in whole groups of 32 (C >= 8) or of 4 (C < 8) use the plain cascade; the others use row_sum.
    """
    c = x.shape[1]
    n_cascade = (c // 32) * 32 if c >= 8 else (c // 4) * 4
    if n_cascade == c:
        return _cascade_sum(x)
    if n_cascade == 0:
        return _row_sum(x)
    return np.concatenate([_cascade_sum(x[:, :n_cascade]), _row_sum(x[:, n_cascade:])])


# ---------------------------------------------------------------------------------------------------------------
# Input handling
# ---------------------------------------------------------------------------------------------------------------


def _as_inputs(boxes, box_scores, keypoints, keypoint_scores):
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


def _output_precision(given, as_float32: np.ndarray) -> np.ndarray:
    """The caller's array if it is float64, else the float32 working copy."""
    array = np.asarray(given)
    return array.reshape(as_float32.shape) if array.dtype == np.float64 and array.size else as_float32


def _empty_result(k: int, score_dtype=_F32) -> PoseNMSResult:
    return PoseNMSResult(
        picked=np.zeros(0, np.int64),
        boxes=np.zeros((0, 4), _F32),
        box_scores=np.zeros(0, _F32),
        keypoints=np.zeros((0, k, 2), _F32),
        keypoint_scores=np.zeros((0, k), _F32),
        scores=np.zeros(0, score_dtype),
        clusters=(),
    )


def _py_max(x: np.ndarray):
    """Python's max() over a 1-D array: a NaN is kept only when it comes first."""
    return x[0] if np.isnan(x[0]) else np.nanmax(x)


def _py_min(x: np.ndarray):
    return x[0] if np.isnan(x[0]) else np.nanmin(x)


def _extent_area(pose: np.ndarray) -> np.float32:
    """1.5^2 * width * height of a (K, 2) float32 pose's keypoint extent, in float32."""
    xs, ys = pose[:, 0], pose[:, 1]
    return _F32(AREA_FACTOR) * (_py_max(xs) - _py_min(xs)) * (_py_max(ys) - _py_min(ys))


def _pair_dist(ref: np.ndarray, poses: np.ndarray) -> np.ndarray:
    """Per-joint float32 Euclidean distances between a (K, 2) pose and (M, K, 2) poses -> (M, K)."""
    diff = ref[None] - poses
    return np.sqrt(diff[..., 0] * diff[..., 0] + diff[..., 1] * diff[..., 1])


def _f32_from_f64(fn, x: np.ndarray) -> np.ndarray:
    return fn(x.astype(np.float64)).astype(_F32)


# ---------------------------------------------------------------------------------------------------------------
# Parametric pose NMS
# ---------------------------------------------------------------------------------------------------------------


def parametric_pose_nms(
    boxes,
    box_scores,
    keypoints,
    keypoint_scores,
    min_box_area: float = 0.0,
) -> PoseNMSResult:
    """AlphaPose's parametric pose NMS (body variant) for one image.

    boxes (N, 4) x1y1x2y2, box_scores (N,), keypoints (N, K, 2), keypoint_scores (N, K) (or (N, K, 1)).
    Keypoint scores that are exactly 0 count as 1e-5. Greedy: the candidate with the highest mean joint score
    absorbs every remaining candidate that is similar (parametric distance above gamma) or has at least 5 joints
    within min(ref, 7) px; each cluster is merged per joint (score-weighted, members within min(ref, 15) px).
    Poses whose best (original or merged) joint score is below 0.3, or whose 1.5^2 * keypoint-extent area is
    below ``min_box_area``, are dropped without giving their cluster back. Output order = pick order.
    """
    bx, bs, kp, s = _as_inputs(boxes, box_scores, keypoints, keypoint_scores)
    n, k = s.shape
    if n == 0:
        return _empty_result(k)
    s = np.where(s == 0, _F32(ZERO_SCORE), s)
    # float64 detections (a detection file) come back in float64 and score in float64, as in AlphaPose
    out_boxes, out_box_scores = _output_precision(boxes, bx), _output_precision(box_scores, bs)

    ref = _F32(ALPHA) * np.maximum(bx[:, 2] - bx[:, 0], bx[:, 3] - bx[:, 1])
    human = _torch_sum_last(s) / _F32(k)
    tanh_s = _f32_from_f64(np.tanh, s / _F32(DELTA1))

    mu, delta2, gamma = _F32(MU), _F32(DELTA2), _F32(GAMMA)
    alive = np.ones(n, bool)
    picks: list[int] = []
    clusters: list[np.ndarray] = []
    while alive.any():
        cand = np.flatnonzero(alive)
        p = int(cand[np.argmax(human[cand])])  # first maximum = earliest detection on ties
        r = ref[p]
        dist = _pair_dist(kp[p], kp[cand])  # (M, K)
        score_term = np.where(dist <= 1, tanh_s[p][None] * tanh_s[cand], _F32(0))
        point_term = _f32_from_f64(np.exp, -dist / delta2)
        sim = _torch_sum_last(score_term) + mu * _torch_sum_last(point_term)
        match_r = _F32(MATCH_RADIUS_CAP) if MATCH_RADIUS_CAP < r else r
        with np.errstate(divide="ignore", invalid="ignore"):
            n_match = np.count_nonzero(dist / match_r <= 1, axis=1)
        members = cand[(sim > gamma) | (n_match >= MATCH_THRESHOLD)]
        if members.size == 0:
            members = np.array([p])
        alive[members] = False
        picks.append(p)
        clusters.append(members)

    score_thr = _F32(SCORE_THRESHOLD)
    area_thr = _F32(min_box_area)
    out_ids, out_kp, out_s, out_score, out_clusters = [], [], [], [], []
    for p, members in zip(picks, clusters, strict=True):
        if np.max(s[p]) < score_thr:
            continue
        pose, pose_s = _merge(kp[p], kp[members], s[members], ref[p])
        if np.max(pose_s) < score_thr:
            continue
        if _extent_area(pose) < area_thr:
            continue
        mean = _torch_sum_last(pose_s) / _F32(k)
        out_ids.append(p)
        out_kp.append(pose)
        out_s.append(pose_s)
        top = _F32(1.25) * _py_max(pose_s)
        if out_box_scores.dtype == np.float64:
            out_score.append((np.float64(mean) + out_box_scores[p]) + np.float64(top))
        else:
            out_score.append((mean + bs[p]) + top)
        out_clusters.append(members.astype(np.int64))
    if not out_ids:
        return _empty_result(k)
    ids = np.array(out_ids, np.int64)
    return PoseNMSResult(
        picked=ids,
        boxes=out_boxes[ids],
        box_scores=out_box_scores[ids],
        keypoints=np.stack(out_kp),
        keypoint_scores=np.stack(out_s),
        scores=np.array(out_score, out_box_scores.dtype),
        clusters=tuple(out_clusters),
    )


def _merge(ref_pose: np.ndarray, poses: np.ndarray, scores: np.ndarray, ref: np.float32):
    """Score-weighted merge of a cluster: per joint, members within min(ref, 15) px of the pick's joint."""
    m, k = scores.shape
    radius = _F32(MERGE_RADIUS_CAP) if MERGE_RADIUS_CAP < ref else ref
    within = (_pair_dist(ref_pose, poses) <= radius).astype(_F32)
    masked = scores * within  # multiplied, not selected: NaN/inf members propagate as in the original
    with np.errstate(divide="ignore", invalid="ignore"):
        normed = masked / _torch_sum_first(masked)
        weighted = np.ascontiguousarray(poses * normed[:, :, None]).reshape(m, 2 * k)
        pose = _torch_sum_first(weighted).reshape(k, 2)
        pose_s = _torch_sum_first(masked * normed)
    return pose, pose_s


# ---------------------------------------------------------------------------------------------------------------
# OKS-NMS (scripts/validate.py --oks-nms)
# ---------------------------------------------------------------------------------------------------------------


def default_oks_sigmas(num_joints: int) -> np.ndarray:
    """Per-joint OKS sigmas: COCO-17 for K = 17, Halpe-26 for K = 26."""
    if num_joints == 17:
        return COCO17_SIGMAS.copy()
    if num_joints == 26:
        return HALPE26_SIGMAS.copy()
    raise AkitError(f"no default OKS sigmas for {num_joints} joints; pass sigmas with {num_joints} values")


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
    e = (diff[..., 0] ** 2 + diff[..., 1] ** 2) / variances / mean_area[:, None] / 2
    return np.sum(np.exp(-e), axis=1) / ref.shape[0]


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
    bx, bs, kp, s = _as_inputs(boxes, box_scores, keypoints, keypoint_scores)
    n, k = s.shape
    sig = default_oks_sigmas(k) if sigmas is None else np.asarray(sigmas, np.float64).reshape(-1)
    if sig.shape != (k,):
        raise AkitError(f"OKS sigmas must have one value per joint ({k}), got {sig.size}")
    if n == 0:
        return _empty_result(k, np.float64)
    if areas is None:
        b64 = bx.astype(np.float64)
        area = (b64[:, 2] - b64[:, 0]) * (b64[:, 3] - b64[:, 1])
    else:
        area = np.asarray(areas, np.float64).reshape(-1)
        if area.shape != (n,):
            raise ValueError(f"areas must have {n} values, got shape {np.shape(areas)}")

    # validate.py's score, float32 (det + mean) + 1.25 * max; then x mean of the joint scores above 0.2 (float64,
    # summed in joint order).
    base = (bs + np.mean(s, axis=1)) + _F32(1.25) * np.max(s, axis=1)
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

    area_thr = _F32(min_box_area)
    sel = [j for j, i in enumerate(kept) if not _extent_area(kp[i]) < area_thr]
    if not sel:
        return _empty_result(k, np.float64)
    ids = np.array([kept[j] for j in sel], np.int64)
    return PoseNMSResult(
        picked=ids,
        boxes=bx[ids],
        box_scores=bs[ids],
        keypoints=kp[ids],
        keypoint_scores=s[ids],
        scores=score[ids],
        clusters=tuple(groups[j] for j in sel),
    )
