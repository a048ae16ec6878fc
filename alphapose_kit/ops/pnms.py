"""AlphaPose's parametric pose NMS (P-NMS), the body variant of ``pose_nms_body`` in alphapose/utils/pPose_nms.py
(any number of joints K, used for COCO-17 and Halpe-26 alike).

Its float32 arithmetic is the original's, done by the same torch kernels on the same per-row shapes (exp arguments
whose result is subnormal excepted: float64 exp rounded gives torch's values there, which a test checks for every such
float32), so picks, clusters, merged poses and person scores match the original bit for bit. It is vectorised: the
similarity and match count of every candidate pair that could be absorbed are computed at once, then the greedy loop
only indexes, and clusters of equal size are merged together. At 50 and 200 candidates it runs 15-45x faster than the
original (scripts/bench_infer.py's P-NMS table).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from alphapose_kit.ops.nms_result import PoseNMSResult, check_inputs, empty_result, extent_areas, output_precision
from alphapose_kit.ops.scores import person_score

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
ZERO_SCORE = 1e-5  # keypoint scores that are exactly 0 become this

# Torch calls stay below torch's parallel grains, so that each runs on one thread (a fork/join per small call would
# cost more than the work): 2048 elements for its vectorised math functions, 32768 for reductions.
_SERIAL = 2048
_SERIAL_SUM = 32767
_BLOCK = 1 << 20  # elements per array in one block of candidate pairs (bounds memory for crowded frames)
_EXP_NORMAL_LIMIT = -87.5  # float32 exp is subnormal or 0 below this argument

_F32 = np.float32


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
    bx, bs, kp, s = check_inputs(boxes, box_scores, keypoints, keypoint_scores)
    n, k = s.shape
    if n == 0:
        return empty_result(k)
    s = np.where(s == 0, _F32(ZERO_SCORE), s)
    # float64 detections (a detection file) come back in float64 and score in float64, as in AlphaPose
    out_boxes, out_box_scores = output_precision(boxes, bx), output_precision(box_scores, bs)

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # reference distance in the boxes' own precision, as the original; the joints meet its float32 rounding
        side = np.maximum(out_boxes[:, 2] - out_boxes[:, 0], out_boxes[:, 3] - out_boxes[:, 1])
        ref = (np.asarray(ALPHA, side.dtype) * side).astype(_F32)
        match_r = np.where(ref > MATCH_RADIUS_CAP, _F32(MATCH_RADIUS_CAP), ref)  # Python's min(ref, 7): NaN stays
        x, y = np.ascontiguousarray(kp[:, :, 0]), np.ascontiguousarray(kp[:, :, 1])
        absorbs = _absorption(x, y, _t(torch.tanh, s / _F32(DELTA1)), match_r)
        picks, clusters = _greedy(_tmean(s), *absorbs)
        return merged_result(kp, s, ref, picks, clusters, out_boxes, out_box_scores, SCORE_THRESHOLD, min_box_area)


def merged_result(kp, s, ref, picks, clusters, boxes, box_scores, threshold: float, min_box_area: float):
    """The end of AlphaPose's P-NMS, both variants: picks whose best joint scores under ``threshold`` dropped, each
    remaining cluster merged (members within min(ref, 15) px, score-weighted), merged poses whose best joint scores
    under ``threshold`` or whose 1.5^2 x keypoint-extent area is under ``min_box_area`` dropped."""
    k = s.shape[1]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        keep = np.flatnonzero(~(np.max(s[picks], axis=1) < _F32(threshold)))
        if not keep.size:
            return empty_result(k)
        picks_kept = np.array(picks, np.int64)[keep]
        clusters = [clusters[j] for j in keep]
        merge_r = np.where(ref > MERGE_RADIUS_CAP, _F32(MERGE_RADIUS_CAP), ref)
        poses, pose_scores = _merge(kp, s, merge_r, picks_kept, clusters)
        ok = ~(np.max(pose_scores, axis=1) < _F32(threshold)) & ~(extent_areas(poses) < _F32(min_box_area))
    if not ok.any():
        return empty_result(k)
    ids = picks_kept[ok]
    return PoseNMSResult(
        picked=ids,
        boxes=boxes[ids],
        box_scores=box_scores[ids],
        keypoints=poses[ok],
        keypoint_scores=pose_scores[ok],
        scores=person_score(pose_scores[ok], box_scores[ids]),
        clusters=tuple(c for c, good in zip(clusters, ok, strict=True) if good),
    )
