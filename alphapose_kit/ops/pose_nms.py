"""Pose-level non-maximum suppression: AlphaPose's parametric pose NMS and the OKS-NMS of its validate script.

Both functions take one image's candidates as numpy arrays and return a :class:`PoseNMSResult`.

``parametric_pose_nms`` is the body variant of AlphaPose's pPose-NMS (``pose_nms_body`` in alphapose/utils/pPose_nms.py;
any number of joints K, used for COCO-17 and Halpe-26 alike). Its float32 arithmetic is the original's, done by the
same torch kernels on the same per-row shapes (exp arguments whose result is subnormal excepted: float64 exp rounded
gives torch's values there, which a test checks for every such float32), so picks, clusters, merged poses and person
scores match the original bit for bit. It is vectorised: the similarity and match count of every candidate pair that
could be absorbed are computed at once, then the greedy loop only indexes, and clusters of equal size are merged
together. At 50 and 200 candidates it runs 15-45x faster than the original (scripts/bench_infer.py's P-NMS table).

``oks_pose_nms`` is the alternative of ``scripts/validate.py --oks-nms``: rescoring, greedy OKS suppression, no
merging. It works in float64 like the original.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from alphapose_kit.data.keypoints import get_keypoint_set
from alphapose_kit.errors import AkitError
from alphapose_kit.ops.scores import person_score

__all__ = [
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

# Torch calls stay below torch's parallel grains, so that each runs on one thread (a fork/join per small call would
# cost more than the work): 2048 elements for its vectorised math functions, 32768 for reductions.
_SERIAL = 2048
_SERIAL_SUM = 32767
_BLOCK = 1 << 20  # elements per array in one block of candidate pairs (bounds memory for crowded frames)
_EXP_NORMAL_LIMIT = -87.5  # float32 exp is subnormal or 0 below this argument

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


def _extent_areas(poses: np.ndarray) -> np.ndarray:
    """1.5^2 * width * height of each (K, 2) float32 pose's keypoint extent -> (M,) float32.

    Extremes as Python's max()/min() over the joints, as the original: a NaN counts only when it is the first joint.
    """

    def side(v: np.ndarray) -> np.ndarray:
        first = v[:, 0]
        nan_first = np.isnan(first)
        return np.where(nan_first, first, np.fmax.reduce(v, axis=1)) - np.where(nan_first, first, np.fmin.reduce(v, 1))

    return _F32(AREA_FACTOR) * side(poses[:, :, 0]) * side(poses[:, :, 1])


# Bit parity with the original: torch does what it does not round exactly (sqrt, exp and tanh: on x86 CPUs its sqrt is
# one unit in the last place off numpy's correctly rounded one for about 1 value in 7) and the sums (in its kernel's
# order, on C-contiguous arrays of the original's per-row layout); numpy does the exactly rounded IEEE operations
# (+, -, *, /, comparisons), which give the same bits in either library with less overhead per call.


def _t(fn, array: np.ndarray) -> np.ndarray:
    """An elementwise torch function of a float32 array, in serial chunks (elementwise: chunking changes no bit)."""
    flat = np.ascontiguousarray(array).reshape(-1)
    if flat.size <= _SERIAL:
        return fn(torch.from_numpy(flat)).numpy().reshape(np.shape(array))
    out = np.empty_like(flat)
    for start in range(0, flat.size, _SERIAL):
        out[start : start + _SERIAL] = fn(torch.from_numpy(flat[start : start + _SERIAL])).numpy()
    return out.reshape(np.shape(array))


def _tsum(array: np.ndarray, keepdim: bool = False) -> np.ndarray:
    """torch.sum over axis 1 of a C-contiguous float32 array: torch's kernel, hence its summation order. In serial
    chunks of whole slices along axis 0; torch sums each slice on its own, so no bit changes."""
    array = np.ascontiguousarray(array)
    n = array.shape[0]
    rows = max(1, _SERIAL_SUM * n // max(1, array.size))
    if n <= rows:
        return torch.sum(torch.from_numpy(array), dim=1, keepdim=keepdim).numpy()
    parts = [torch.sum(torch.from_numpy(array[i : i + rows]), dim=1, keepdim=keepdim) for i in range(0, n, rows)]
    return torch.cat(parts).numpy()


def _tmean(array: np.ndarray) -> np.ndarray:
    """torch.mean over axis 1 of an (M, K) float32 array, as ATen computes it on CPU: the sum, then / K."""
    return _tsum(array) / _F32(array.shape[1])


def _distances(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Per-joint float32 distances from coordinate differences: torch.sqrt of the original's torch.sum of the two
    squares (a sum of two non-negative terms rounds once, whatever the kernel)."""
    return _t(torch.sqrt, dx * dx + dy * dy)


def _exp(arg: np.ndarray) -> np.ndarray:
    """torch.exp of a float32 array, with the arguments below -87.5 (results below float32's smallest normal, which
    torch's exp computes about 100x slower) taken as float64 exp rounded to float32: the same values, checked for
    every float32 argument by tests/ops/test_pose_nms.py."""
    tail = arg < _EXP_NORMAL_LIMIT
    if not tail.any():
        return _t(torch.exp, arg)
    out = _t(torch.exp, np.where(tail, _F32(0), arg))
    out[tail] = np.exp(arg[tail].astype(np.float64)).astype(_F32)
    return out


def _reach(k: int) -> float:
    """A distance beyond which no pair of poses can be absorbed: if every joint is farther apart, the match count is
    0 (match radius <= 7, unless the pick's is negative) and the similarity at most 1.7 * K * exp(-reach / 2.65) <
    gamma (no score term past 1 px). The margins dwarf float32 rounding."""
    return max(MATCH_RADIUS_CAP + 1.0, DELTA2 * math.log(max(MU * k / GAMMA, 1.0)) + 1.0)


def _near_pairs(x: np.ndarray, y: np.ndarray, everywhere: np.ndarray, reach: float) -> tuple[np.ndarray, np.ndarray]:
    """(pick, candidate) index pairs, sorted, with some joint within ``reach`` px in x and in y (NaN joints count as
    far), plus every pair of the picks flagged ``everywhere``. Extents first, then joint by joint."""
    n, k = x.shape
    lo_x, hi_x, lo_y, hi_y = np.fmin.reduce(x, 1), np.fmax.reduce(x, 1), np.fmin.reduce(y, 1), np.fmax.reduce(y, 1)
    picks, cands = [], []
    rows = max(1, _BLOCK // n)
    for start in range(0, n, rows):
        b = slice(start, start + rows)
        near = (lo_x[b, None] - hi_x <= reach) & (lo_x - hi_x[b, None] <= reach)
        near &= (lo_y[b, None] - hi_y <= reach) & (lo_y - hi_y[b, None] <= reach)
        near |= everywhere[b, None]
        p, c = np.nonzero(near)
        picks.append(p + start)
        cands.append(c)
    p, c = np.concatenate(picks), np.concatenate(cands)
    keep = everywhere[p]
    x_t, y_t = np.ascontiguousarray(x.T), np.ascontiguousarray(y.T)  # (K, N): joint-major, so any() runs across pairs
    step = max(1, _BLOCK // k)
    for start in range(0, len(p), step):
        pb, cb = p[start : start + step], c[start : start + step]
        close = np.abs(np.take(x_t, pb, axis=1) - np.take(x_t, cb, axis=1)) <= reach
        close &= np.abs(np.take(y_t, pb, axis=1) - np.take(y_t, cb, axis=1)) <= reach
        keep[start : start + step] |= close.any(axis=0)
    return p[keep], c[keep]


def _absorption(x: np.ndarray, y: np.ndarray, tanh_s: np.ndarray, match_r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which candidates each pick would absorb (similarity above gamma or >= 5 joints within its match radius), as
    CSR rows: pick p absorbs ``targets[indptr[p]:indptr[p + 1]]``, ascending.

    Per pair the original's float32 expressions on the same (pairs, K) rows: ``get_parametric_distance`` (score term
    tanh(S_p) tanh(S_c) where the joints are within 1 px, point term exp(-d / 2.65), each summed over the joints)
    and ``PCK_match`` (d / min(ref_p, 7) <= 1). Torch reduces each row on its own, so a row's sums do not depend on
    which other rows are computed with it. Pairs too far apart to be absorbed are skipped (see :func:`_reach`),
    except for picks whose match radius is negative: d / r <= 1 then holds at any distance.
    """
    n, k = x.shape
    picks, cands = _near_pairs(x, y, np.signbit(match_r), _reach(k))
    hits = [np.zeros(0, bool)]
    step = max(1, _BLOCK // k)
    for start in range(0, len(picks), step):
        p, c = picks[start : start + step], cands[start : start + step]
        dist = _distances(np.take(x, p, 0) - np.take(x, c, 0), np.take(y, p, 0) - np.take(y, c, 0))  # (P, K)
        score_term = np.where(dist <= 1, np.take(tanh_s, p, 0) * np.take(tanh_s, c, 0), _F32(0))
        sim = _tsum(score_term) + _F32(MU) * _tsum(_exp(-dist / _F32(DELTA2)))
        n_match = np.count_nonzero(dist / match_r[p, None] <= 1, axis=1)
        hits.append((sim > _F32(GAMMA)) | (n_match >= MATCH_THRESHOLD))
    hit = np.concatenate(hits)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(picks[hit], minlength=n))])
    return indptr, cands[hit]


def _greedy(human: np.ndarray, indptr: np.ndarray, targets: np.ndarray) -> tuple[list[int], list[np.ndarray]]:
    """AlphaPose's greedy loop: the remaining candidate with the highest mean joint score (the first on ties, a NaN
    before any number, as torch.argmax) takes every remaining candidate it absorbs (itself alone when none)."""
    nan = np.isnan(human)
    rest = np.flatnonzero(~nan)
    order = np.concatenate([np.flatnonzero(nan), rest[np.argsort(-human[rest], kind="stable")]]).tolist()
    alive = np.ones(len(human), bool)
    picks: list[int] = []
    clusters: list[np.ndarray] = []
    at, end = 0, len(order)
    while at < end:
        p = order[at]
        if not alive[p]:
            at += 1
            continue
        row = targets[indptr[p] : indptr[p + 1]]
        members = row[alive[row]]
        if members.size == 0:
            members = np.array([p], np.int64)
        alive[members] = False
        picks.append(p)
        clusters.append(members.astype(np.int64))
    return picks, clusters


def _merge(kp: np.ndarray, s: np.ndarray, merge_r: np.ndarray, picks: np.ndarray, clusters: list[np.ndarray]):
    """Score-weighted merges (``p_merge_fast``): per joint, the members within min(ref, 15) px of the pick's joint,
    weighted by their scores -> (M, K, 2), (M, K). The members' weights are computed for all clusters at once; the
    sums over members for clusters of equal size together (each sums on its own, see :func:`_tsum`)."""
    k = s.shape[1]
    sizes = np.array([len(c) for c in clusters])
    order = np.argsort(sizes, kind="stable")  # clusters grouped by size; their members laid out in that order
    members = np.concatenate([clusters[i] for i in order])
    pick_of_member = np.repeat(picks[order], sizes[order])
    preds = np.take(kp, members, 0)  # (T, K, 2)
    diff = np.take(kp, pick_of_member, 0) - preds  # the original's ref_pose - cluster_preds
    within = _distances(diff[..., 0], diff[..., 1]) <= merge_r[pick_of_member, None]
    masked = np.take(s, members, 0) * within.astype(_F32)  # multiplied, not selected: NaN/inf members propagate
    poses = np.empty((len(picks), k, 2), _F32)
    pose_scores = np.empty((len(picks), k), _F32)
    start = 0
    for rows in np.split(order, np.flatnonzero(np.diff(sizes[order])) + 1):
        size = int(sizes[rows[0]])
        end = start + len(rows) * size
        group = masked[start:end].reshape(len(rows), size, k)
        normed = group / _tsum(group, keepdim=True)
        poses[rows] = _tsum(preds[start:end].reshape(len(rows), size, k, 2) * normed[..., None])
        pose_scores[rows] = _tsum(group * normed)
        start = end
    return poses, pose_scores


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

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # reference distance in the boxes' own precision, as the original; the joints meet its float32 rounding
        side = np.maximum(out_boxes[:, 2] - out_boxes[:, 0], out_boxes[:, 3] - out_boxes[:, 1])
        ref = (np.asarray(ALPHA, side.dtype) * side).astype(_F32)
        match_r = np.where(ref > MATCH_RADIUS_CAP, _F32(MATCH_RADIUS_CAP), ref)  # Python's min(ref, 7): NaN stays
        x, y = np.ascontiguousarray(kp[:, :, 0]), np.ascontiguousarray(kp[:, :, 1])
        absorbs = _absorption(x, y, _t(torch.tanh, s / _F32(DELTA1)), match_r)
        picks, clusters = _greedy(_tmean(s), *absorbs)

        keep = np.flatnonzero(~(np.max(s[picks], axis=1) < _F32(SCORE_THRESHOLD)))
        if not keep.size:
            return _empty_result(k)
        picks_kept = np.array(picks, np.int64)[keep]
        clusters = [clusters[j] for j in keep]
        merge_r = np.where(ref > MERGE_RADIUS_CAP, _F32(MERGE_RADIUS_CAP), ref)
        poses, pose_scores = _merge(kp, s, merge_r, picks_kept, clusters)
        ok = ~(np.max(pose_scores, axis=1) < _F32(SCORE_THRESHOLD)) & ~(_extent_areas(poses) < _F32(min_box_area))
    if not ok.any():
        return _empty_result(k)
    ids = picks_kept[ok]
    return PoseNMSResult(
        picked=ids,
        boxes=out_boxes[ids],
        box_scores=out_box_scores[ids],
        keypoints=poses[ok],
        keypoint_scores=pose_scores[ok],
        scores=person_score(pose_scores[ok], out_box_scores[ids]),
        clusters=tuple(c for c, good in zip(clusters, ok, strict=True) if good),
    )


# ---------------------------------------------------------------------------------------------------------------
# OKS-NMS (scripts/validate.py --oks-nms)
# ---------------------------------------------------------------------------------------------------------------


def default_oks_sigmas(num_joints: int) -> np.ndarray:
    """Per-joint OKS sigmas of the registered keypoint set with ``num_joints`` joints (COCO-17, Halpe-26, ...)."""
    try:
        return get_keypoint_set(num_joints).sigma_array
    except AkitError:
        raise AkitError(
            f"no default OKS sigmas for {num_joints} joints; pass sigmas with {num_joints} values"
        ) from None


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
        sel = np.flatnonzero(~(_extent_areas(kp[kept]) < _F32(min_box_area)))
    if not sel.size:
        return _empty_result(k, np.float64)
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
