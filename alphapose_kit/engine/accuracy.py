"""AlphaPose's training accuracy: ``calc_accuracy`` (heatmaps) and ``calc_integral_accuracy`` (integral models).

Both follow ``alphapose/utils/metrics.py`` of AlphaPose (Fang et al., TPAMI 2022), vectorised: a joint counts only
when its target location has x > 1 and y > 1; the distance between prediction and target is measured in tenths of
the heatmap size, ``||(pred - gt) / (W/10, H/10)||``; a joint is a hit below 0.5; the result is the mean over the
joints with at least one counted sample (0 when none).
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import NDArray

from alphapose_kit.codecs import integral_coords

#: Hit threshold on the normalised distance (AlphaPose's ``dist_acc`` default).
HIT_THRESHOLD = 0.5


def _argmax_xy(heatmaps: NDArray) -> NDArray[np.float32]:
    """``(N, K, 2)`` column/row of each map's first maximum; ``(0, 0)`` where the maximum is <= 0."""
    n, k, _, w = heatmaps.shape
    flat = heatmaps.reshape(n, k, -1)
    idx = flat.argmax(axis=2)
    xy = np.stack([idx % w, idx // w], axis=-1).astype(np.float32)
    return xy * (flat.max(axis=2) > 0)[..., None]


def _mean_joint_accuracy(pred: NDArray, gt: NDArray, norm: NDArray) -> float:
    """Share of counted samples under the threshold, per joint, averaged over joints with any counted sample."""
    counted = (gt[..., 0] > 1) & (gt[..., 1] > 1)
    dist = np.linalg.norm(pred.astype(np.float32) / norm - gt.astype(np.float32) / norm, axis=-1)
    hits = ((dist < HIT_THRESHOLD) & counted).sum(axis=0)
    per_joint = counted.sum(axis=0)
    valid = per_joint > 0
    if not valid.any():
        return 0.0
    return float(np.mean(hits[valid] / per_joint[valid]))


def heatmap_accuracy(output: torch.Tensor, target: torch.Tensor) -> float:
    """AlphaPose's ``calc_accuracy`` on ``(N, K, H, W)`` heatmaps (pass ``output * w`` and ``target * w``)."""
    out = output.detach().float().cpu().numpy()
    tgt = target.detach().float().cpu().numpy()
    h, w = out.shape[-2:]
    return _mean_joint_accuracy(_argmax_xy(out), _argmax_xy(tgt), np.array([w, h], dtype=np.float64) / 10)


def integral_accuracy(output: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, norm_type: str) -> float:
    """AlphaPose's ``calc_integral_accuracy``: soft-argmax of the logits vs the ``(N, 2K)`` integral targets.

    Both are mapped to heatmap pixels (``(c + 0.5) * W``) and multiplied by the weights (so the 2x whole-body
    weights double those distances, as in the original) before the distance test.
    """
    with torch.no_grad():
        coords, _ = integral_coords(output.detach().float(), norm_type)
    n, k, h, w = output.shape
    size = np.array([w, h], dtype=np.float64)
    mask = weight.detach().float().cpu().numpy().reshape(n, k, 2)
    pred = (coords.cpu().numpy().astype(np.float64) + 0.5) * size * mask
    gt = (target.detach().float().cpu().numpy().reshape(n, k, 2).astype(np.float64) + 0.5) * size * mask
    return _mean_joint_accuracy(pred, gt, size / 10)
