"""AlphaPose's parametric pose NMS for whole-body poses (133 and 136 joints: ``pose_nms_fullbody``).

The whole-body variant of ``alphapose/utils/pPose_nms.py`` (Fang et al., TPAMI 2022) differs from the body one in
three places, all reproduced here to the bit:

- the similarity counts a joint's score term only where the candidate's joint scores under the score threshold and
  drops the point term there; body, face and hand joints are averaged separately, the face and hand distances are
  scaled by 1.9 and 0.55 and the parts weighted (scores 1 / 1 / 0.1, distances 1 / 1 / 1.5);
- the match count uses per-part radii (first 26 joints: min(ref, 7); joints 26-93: 1.9x; the rest: 0.55x) and is
  normalised by the number of candidates still in play and by the pick's joints scoring above half the threshold,
  so whether a pick absorbs a candidate depends on how many remain;
- networks trained with a regression loss (``LOSS.TYPE`` other than MSELoss) use another set of constants.

A pick that absorbs others but not itself stays in play and is picked again, as in the original.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch

from alphapose_kit.ops.nms_result import PoseNMSResult, check_inputs, empty_result, output_precision
from alphapose_kit.ops.pnms import ZERO_SCORE, _distances, _exp, _t, _tmean, merged_result, parametric_pose_nms

WHOLEBODY_JOINTS = (133, 136)
FACE_FACTOR = 1.9
HAND_FACTOR = 0.55
FACE_WEIGHT_SCORE, HAND_WEIGHT_SCORE = 1.0, 0.1
FACE_WEIGHT_DIST, HAND_WEIGHT_DIST = 1.0, 1.5
BODY_MATCH_JOINTS = 26  # the match count's body slice, for 133 joints too (as the original)
FACE_MATCH_END = 94
TAIL_FACE, TAIL_HAND = 110, 42  # the similarity's parts, counted from the end: body | face (110-42) | hands (42)
MATCH_RADIUS_CAP, MERGE_RADIUS_CAP = 7, 15

__all__ = [
    "HEATMAP_CONSTANTS",
    "REGRESSION_CONSTANTS",
    "WholeBodyConstants",
    "parametric_nms_for",
    "wholebody_pose_nms",
]


@dataclass(frozen=True)
class WholeBodyConstants:
    """The constants of one variant of the whole-body NMS."""

    delta1: float
    mu: float
    delta2: float
    gamma: float
    score_threshold: float
    match_threshold: float
    alpha: float


HEATMAP_CONSTANTS = WholeBodyConstants(1.0, 1.7, 2.65, 22.48, 0.3, 5, 0.1)
REGRESSION_CONSTANTS = WholeBodyConstants(1.0, 1.65, 8.0, 3.6, 0.01, 3.0, 0.15)


def _part_mean(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """torch.mean over the body, face and hand columns of (P, K) rows (each part reduced as its own rows)."""
    k = values.shape[1]
    cut_face, cut_hand = k - TAIL_FACE, k - TAIL_HAND
    return (
        _tmean(np.ascontiguousarray(values[:, :cut_face])),
        _tmean(np.ascontiguousarray(values[:, cut_face:cut_hand])),
        _tmean(np.ascontiguousarray(values[:, cut_hand:])),
    )


def _pair_terms(kp: np.ndarray, s: np.ndarray, tanh_s: np.ndarray, ref: np.ndarray, c: WholeBodyConstants):
    """For every (pick, candidate) pair: the similarity (float32) and the raw match count (joints within their
    part's radius), as (N, N) arrays. Neither depends on which candidates remain; the match threshold does."""
    n, k = s.shape
    f32 = np.float32
    sim = np.empty((n, n), f32)
    total = np.empty((n, n), np.int64)
    match_r = np.where(ref > MATCH_RADIUS_CAP, f32(MATCH_RADIUS_CAP), ref)  # Python's min(ref, 7)
    cut_face, cut_hand = k - TAIL_FACE, k - TAIL_HAND
    divisor = np.full(k, f32(c.delta2), f32)
    divisor[cut_face:cut_hand] = f32(c.delta2 * FACE_FACTOR)
    divisor[cut_hand:] = f32(c.delta2 * HAND_FACTOR)
    low = s < f32(c.score_threshold)  # candidates' joints that count in the score term, not in the point term
    rows = max(1, (1 << 20) // max(1, n * k))
    for start in range(0, n, rows):
        p = np.arange(start, min(n, start + rows))
        pick = np.repeat(p, n)
        cand = np.tile(np.arange(n), len(p))
        diff = kp[pick] - kp[cand]
        dist = _distances(np.ascontiguousarray(diff[..., 0]), np.ascontiguousarray(diff[..., 1]))  # (P, K)
        lows = low[cand]
        score_term = np.where((dist <= 1) & lows, tanh_s[pick] * tanh_s[cand], f32(0))
        point = _exp(-dist / divisor)
        point[lows] = 0
        sb, sf, sh = _part_mean(score_term)
        pb, pf, ph = _part_mean(point)
        score_part = sb + sf * f32(FACE_WEIGHT_SCORE) + sh * f32(HAND_WEIGHT_SCORE)
        sim[p] = (score_part + f32(c.mu) * (pb + pf * f32(FACE_WEIGHT_DIST) + ph * f32(HAND_WEIGHT_DIST))).reshape(
            len(p), n
        )
        scaled = dist / match_r[pick, None]
        matches = np.count_nonzero(scaled[:, :BODY_MATCH_JOINTS] <= 1, axis=1)
        matches += np.count_nonzero(scaled[:, BODY_MATCH_JOINTS:FACE_MATCH_END] <= f32(FACE_FACTOR), axis=1)
        matches += np.count_nonzero(scaled[:, FACE_MATCH_END:] <= f32(HAND_FACTOR), axis=1)
        total[p] = matches.reshape(len(p), n)
    return sim, total


def _greedy(human, s, sim, total, c: WholeBodyConstants) -> tuple[list[int], list[np.ndarray]]:
    """The original's loop: the best remaining candidate absorbs those similar to it or matching enough joints,
    the match count normalised by the candidates remaining; itself alone when it absorbs nobody."""
    f32 = np.float32
    n, k = s.shape
    nan = np.isnan(human)
    rest = np.flatnonzero(~nan)
    order = np.concatenate([np.flatnonzero(nan), rest[np.argsort(-human[rest], kind="stable")]]).tolist()
    confident = np.count_nonzero(s > f32(c.score_threshold / 2), axis=1)
    alive = np.ones(n, bool)
    picks: list[int] = []
    clusters: list[np.ndarray] = []
    at = 0
    while at < len(order):
        p = order[at]
        if not alive[p]:
            at += 1
            continue
        remaining = np.flatnonzero(alive)
        mask_sum = f32(len(remaining) * 2 * confident[p])
        if mask_sum < 2:
            matched = np.zeros(len(remaining), bool)
        else:
            count = total[p, remaining].astype(f32) / mask_sum / f32(2) * f32(k)
            matched = count >= f32(c.match_threshold)
        members = remaining[(sim[p, remaining] > f32(c.gamma)) | matched]
        if members.size == 0:
            members = np.array([p], np.int64)
        alive[members] = False
        picks.append(p)
        clusters.append(members.astype(np.int64))
    return picks, clusters


def wholebody_pose_nms(
    boxes,
    box_scores,
    keypoints,
    keypoint_scores,
    min_box_area: float = 0.0,
    regression: bool = False,
) -> PoseNMSResult:
    """AlphaPose's whole-body parametric pose NMS for one image (133 or 136 joints; see the module docstring).

    Same inputs and result as :func:`alphapose_kit.ops.parametric_pose_nms`; ``regression`` selects the
    constants AlphaPose uses for networks not trained on heatmaps alone (``LOSS.TYPE`` other than MSELoss).
    """
    c = REGRESSION_CONSTANTS if regression else HEATMAP_CONSTANTS
    bx, bs, kp, s = check_inputs(boxes, box_scores, keypoints, keypoint_scores)
    n, k = s.shape
    if k not in WHOLEBODY_JOINTS:
        raise ValueError(f"whole-body pose NMS takes 133 or 136 joints, got {k}")
    if n == 0:
        return empty_result(k)
    s = np.where(s == 0, np.float32(ZERO_SCORE), s)
    out_boxes, out_box_scores = output_precision(boxes, bx), output_precision(box_scores, bs)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        side = np.maximum(out_boxes[:, 2] - out_boxes[:, 0], out_boxes[:, 3] - out_boxes[:, 1])
        ref = (np.asarray(c.alpha, side.dtype) * side).astype(np.float32)
        sim, total = _pair_terms(kp, s, _t(torch.tanh, s / np.float32(c.delta1)), ref, c)
        picks, clusters = _greedy(_tmean(s), s, sim, total, c)
        return merged_result(kp, s, ref, picks, clusters, out_boxes, out_box_scores, c.score_threshold, min_box_area)


def parametric_nms_for(num_joints: int, heatmap_loss: bool = True) -> Callable[..., PoseNMSResult]:
    """The parametric NMS AlphaPose's ``pose_nms`` runs for a network: the whole-body variant for 133 and 136 joints
    (with the regression constants unless the network is trained on heatmaps alone), the body variant otherwise."""
    if num_joints not in WHOLEBODY_JOINTS:
        return parametric_pose_nms
    return partial(wholebody_pose_nms, regression=not heatmap_loss)
