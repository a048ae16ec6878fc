"""Integral (soft-argmax) decode of ``LOSS.TYPE: L1JointRegression`` models, as AlphaPose's
``heatmap_to_coord_simple_regress`` (Sun et al., "Integral Human Pose Regression", ECCV 2018)."""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import NDArray

from alphapose_kit.codecs._common import F32, HeatmapArray, check_4d, to_cpu_tensor


def _integral_tensor(hm: torch.Tensor, norm_type: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised soft-argmax of AlphaPose's ``_integral_tensor``: coords in [-0.5, 0.5) and confidences.

    The torch operations, shapes and order are the original's, so CPU results are bit-identical.
    """
    n, k, h, w = hm.shape
    p = hm.reshape(n, k, -1)
    if norm_type == "sigmoid":
        p = p.sigmoid()
        conf = p.max(dim=2, keepdim=True)[0]
    elif norm_type == "softmax":
        p = torch.softmax(p, 2)
        conf = torch.ones((n, k, 1), dtype=torch.float32)
    elif norm_type == "divide_sum":
        p = p / p.sum(dim=2, keepdim=True)
        conf = torch.ones((n, k, 1), dtype=torch.float32)
    else:
        raise ValueError(f"LOSS.NORM_TYPE {norm_type!r} is not supported; choose sigmoid, softmax or divide_sum")
    q = (p / p.sum(dim=2, keepdim=True)).reshape(n, k, 1, h, w)
    hm_x = q.sum((2, 3)) * torch.arange(w).float()
    hm_y = q.sum((2, 4)) * torch.arange(h).float()
    coord_x = hm_x.sum(dim=2, keepdim=True) / float(w) - 0.5
    coord_y = hm_y.sum(dim=2, keepdim=True) / float(h) - 0.5
    return torch.cat((coord_x, coord_y), dim=2), conf.float()


def integral_decode(
    heatmaps: HeatmapArray,
    norm_type: str = "sigmoid",
    heatmaps_flip: HeatmapArray | None = None,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Integral (soft-argmax) decode, as AlphaPose's ``heatmap_to_coord_simple_regress`` (step 12).

    ``p = sigmoid(logits)`` (``LOSS.NORM_TYPE``), ``score = max p``, ``q = p / sum p``,
    ``x = sum q * col``, ``y = sum q * row``, computed with the original's torch operations on CPU and the
    same round trip through normalised coordinates (``x / W - 0.5``, then ``(x + 0.5) * W`` in float32).

    Args:
        heatmaps: ``(N, K, H, W)`` logits. For the demo's flip test pass ``merge_flip(h, flipped_back)`` here
            (QUIRK: the demo averages raw logits before decoding).
        norm_type: ``LOSS.NORM_TYPE`` (``sigmoid`` in every zoo model; ``softmax`` and ``divide_sum`` give
            score 1).
        heatmaps_flip: the flipped-back logits of the mirrored crops, for ``scripts/validate.py`` semantics:
            both views are decoded and their normalised coordinates and scores averaged.

    Returns:
        ``(coords, scores)``: ``(N, K, 2)`` float32 in heatmap pixels and ``(N, K)`` float32.
    """
    hm = to_cpu_tensor(heatmaps)
    check_4d(hm.shape)
    n, k, h, w = hm.shape
    with torch.no_grad():
        jts, conf = _integral_tensor(hm, norm_type)
        if heatmaps_flip is not None:
            hm_f = to_cpu_tensor(heatmaps_flip)
            if hm_f.shape != hm.shape:
                raise ValueError(f"heatmaps_flip shape {tuple(hm_f.shape)} differs from {tuple(hm.shape)}")
            jts_f, conf_f = _integral_tensor(hm_f, norm_type)
            jts = (jts + jts_f) / 2
            conf = (conf + conf_f) / 2
    coords = jts.numpy().astype(F32)
    coords[..., 0] = (coords[..., 0] + F32(0.5)) * F32(w)
    coords[..., 1] = (coords[..., 1] + F32(0.5)) * F32(h)
    return coords, conf.numpy().astype(F32).reshape(n, k)
