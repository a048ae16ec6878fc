"""Integral (soft-argmax) codec of ``LOSS.TYPE: L1JointRegression`` models: AlphaPose's decode
(``heatmap_to_coord_simple_regress``), the differentiable soft-argmax its loss uses, and the training target
(Sun et al., "Integral Human Pose Regression", ECCV 2018)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray

from alphapose_kit.codecs._common import F32, HeatmapArray, check_4d, to_cpu_tensor

IntegralOp = Callable[[torch.Tensor], torch.Tensor]


def _integral_tensor(
    hm: torch.Tensor, norm_type: str, integral_op: IntegralOp | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised soft-argmax of AlphaPose's ``_integral_tensor``: coords in [-0.5, 0.5) and confidences.

    The torch operations, shapes and order are the original's, so CPU results are bit-identical.
    ``integral_op`` maps a marginal ``(N, K, L)`` to ``marginal * arange(L)`` (training passes one with
    AlphaPose's symmetric gradient); by default the plain product.
    """
    n, k, h, w = hm.shape
    p = hm.reshape(n, k, -1)
    if norm_type == "sigmoid":
        p = p.sigmoid()
        conf = p.max(dim=2, keepdim=True)[0]
    elif norm_type == "softmax":
        p = torch.softmax(p, 2)
        conf = torch.ones((n, k, 1), dtype=torch.float32, device=hm.device)
    elif norm_type == "divide_sum":
        p = p / p.sum(dim=2, keepdim=True)
        conf = torch.ones((n, k, 1), dtype=torch.float32, device=hm.device)
    else:
        raise ValueError(f"LOSS.NORM_TYPE {norm_type!r} is not supported; choose sigmoid, softmax or divide_sum")
    q = (p / p.sum(dim=2, keepdim=True)).reshape(n, k, 1, h, w)
    if integral_op is None:
        hm_x = q.sum((2, 3)) * torch.arange(w, device=hm.device).float()
        hm_y = q.sum((2, 4)) * torch.arange(h, device=hm.device).float()
    else:
        hm_x = integral_op(q.sum((2, 3)))
        hm_y = integral_op(q.sum((2, 4)))
    coord_x = hm_x.sum(dim=2, keepdim=True) / float(w) - 0.5
    coord_y = hm_y.sum(dim=2, keepdim=True) / float(h) - 0.5
    return torch.cat((coord_x, coord_y), dim=2), conf.float()


def integral_coords(
    logits: torch.Tensor, norm_type: str = "sigmoid", integral_op: IntegralOp | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Differentiable soft-argmax of ``(N, K, H, W)`` logits, on their device: normalised coordinates
    ``(N, K, 2)`` in ``[-0.5, 0.5)`` (the space of :func:`integral_encode`'s targets) and confidences
    ``(N, K, 1)``. ``integral_op`` as in AlphaPose's loss (see ``alphapose_kit.engine.losses``)."""
    check_4d(logits.shape)
    return _integral_tensor(logits, norm_type, integral_op)


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


#: Integral-regression weight boost: AlphaPose doubles the weights of the first ``n`` (body) joints of these
#: whole-body sets when trained with ``L1JointRegression`` alone (never under ``Combined``).
INTEGRAL_BODY_BOOST = {136: 26, 133: 23, 68: 26}


def integral_encode(
    coords: ArrayLike,
    visibility: ArrayLike,
    input_size: Sequence[int],
    boost_body: bool = True,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Integral-regression targets, as AlphaPose's ``SimpleTransform._integral_target_generator``.

    ``target = (x / W_in - 0.5, y / H_in - 0.5)`` per joint (normalised crop coordinates, the inverse of
    :func:`integral_decode`'s mapping), flattened ``[x0, y0, x1, y1, ...]``; the weight of both entries is the
    joint's visibility, doubled on the body joints of the 136/133/68-joint sets (:data:`INTEGRAL_BODY_BOOST`)
    when ``boost_body``.

    Args:
        coords: ``(..., K, 2)`` joints in crop (input) pixels.
        visibility: ``(..., K)`` visibility.
        input_size: crop ``(height, width)``.
        boost_body: apply the whole-body boost (False under ``LOSS.TYPE: Combined``).

    Returns:
        ``(target, weight)``, each ``(..., 2K)`` float32.
    """
    pts = np.asarray(coords, dtype=F32)
    vis = np.asarray(visibility, dtype=F32)
    if pts.shape[-1:] != (2,) or pts.shape[:-1] != vis.shape:
        raise ValueError(f"coords must be (..., K, 2) and visibility (..., K); got {pts.shape} and {vis.shape}")
    inp_h, inp_w = int(input_size[0]), int(input_size[1])
    target = np.empty(pts.shape, dtype=F32)
    target[..., 0] = pts[..., 0] / F32(inp_w) - F32(0.5)
    target[..., 1] = pts[..., 1] / F32(inp_h) - F32(0.5)
    weight = np.repeat(vis[..., None], 2, axis=-1)
    num_joints = vis.shape[-1]
    if boost_body and num_joints in INTEGRAL_BODY_BOOST:
        weight[..., : INTEGRAL_BODY_BOOST[num_joints], :] *= F32(2)
    lead = vis.shape[:-1]
    return target.reshape(*lead, 2 * num_joints), weight.reshape(*lead, 2 * num_joints)
