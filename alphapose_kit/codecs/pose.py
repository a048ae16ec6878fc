"""Decode a pose network's output, and encode its training targets, the way ``LOSS.TYPE`` says (heatmap,
integral or combined)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from alphapose_kit.codecs._common import F32, HeatmapArray
from alphapose_kit.codecs.flip import merge_flip
from alphapose_kit.codecs.heatmap import decode_heatmaps, render_gaussian_heatmaps
from alphapose_kit.codecs.integral import integral_decode, integral_encode

#: A training target (or weight): one array, or ``(heatmap part, integral part)`` under ``Combined``.
Target = NDArray[np.float32] | tuple[NDArray[np.float32], NDArray[np.float32]]


def combined_split(num_joints: int) -> int:
    """Joints decoded from heatmaps by a ``LOSS.TYPE: Combined`` model; the rest use the integral decode.

    AlphaPose's writer takes the last 110 joints (face + hands) as integral, or the last 42 (hands) when
    ``K = 68``: so 26 of 136 (Halpe-136), 23 of 133 (COCO-WholeBody) and 26 of 68.
    """
    tail = 42 if num_joints == 68 else 110
    if num_joints <= tail:
        raise ValueError(f"a Combined model needs more than {tail} joints; got {num_joints}")
    return num_joints - tail


def decode_pose(
    heatmaps: HeatmapArray,
    loss_type: str = "MSELoss",
    norm_type: str | None = "sigmoid",
    heatmaps_flip: HeatmapArray | None = None,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Decode a pose network's output the way ``LOSS.TYPE`` says (AlphaPose's ``get_func_heatmap_to_coord``).

    ``MSELoss`` -> :func:`decode_heatmaps`; ``L1JointRegression`` -> :func:`integral_decode`; ``Combined`` ->
    the first :func:`combined_split` joints with :func:`decode_heatmaps`, the rest with :func:`integral_decode`.

    Flip test: for the demo's behaviour merge first (``merge_flip(h, flip_heatmaps_back(h_mirrored, pairs))``)
    and pass no ``heatmaps_flip``. Passing ``heatmaps_flip`` (already flipped back) gives
    ``scripts/validate.py``'s behaviour: heatmap joints decode the averaged maps, integral joints average the
    two decoded coordinates and scores.

    Returns:
        ``(coords, scores)``: ``(N, K, 2)`` float32 in heatmap pixels and ``(N, K)`` float32.
    """
    if loss_type == "MSELoss":
        hm = heatmaps if heatmaps_flip is None else merge_flip(heatmaps, heatmaps_flip)
        coords, scores = decode_heatmaps(hm)
        return coords, scores.astype(F32)
    if loss_type == "L1JointRegression":
        return integral_decode(heatmaps, norm_type or "softmax", heatmaps_flip)
    if loss_type == "Combined":
        k = int(heatmaps.shape[1])
        split = combined_split(k)
        flip_head = None if heatmaps_flip is None else heatmaps_flip[:, :split]
        flip_tail = None if heatmaps_flip is None else heatmaps_flip[:, split:]
        c1, s1 = decode_pose(heatmaps[:, :split], "MSELoss", None, flip_head)
        c2, s2 = integral_decode(heatmaps[:, split:], norm_type or "softmax", flip_tail)
        return np.concatenate([c1, c2], axis=1), np.concatenate([s1, s2], axis=1)
    raise ValueError(f"LOSS.TYPE {loss_type!r} is not supported; choose MSELoss, L1JointRegression or Combined")


def encode_pose(
    coords: ArrayLike,
    visibility: ArrayLike,
    loss_type: str = "MSELoss",
    input_size: Sequence[int] = (256, 192),
    heatmap_size: Sequence[int] = (64, 48),
    sigma: float = 2,
) -> tuple[Target, Target]:
    """Training targets of one person the way ``LOSS.TYPE`` says, as AlphaPose's ``SimpleTransform`` makes them.

    - ``MSELoss``: :func:`render_gaussian_heatmaps` at ``(x / s0, y / s1)`` with the feature stride
      ``s = (H_in / H_hm, W_in / W_hm)`` (QUIRK kept: x is divided by the height ratio; both are 4 in every zoo
      config); target ``(K, H_hm, W_hm)``, weight ``(K, 1, 1)``.
    - ``L1JointRegression``: :func:`integral_encode`; target and weight ``(2K,)``.
    - ``Combined``: the first :func:`combined_split` joints as heatmaps, the rest as integral targets (no body
      boost); target and weight are ``(heatmap part, integral part)`` pairs.

    Args:
        coords: ``(K, 2)`` joints in crop (input) pixels, after augmentation.
        visibility: ``(K,)`` visibility (0 for unlabelled joints).
        loss_type: ``MSELoss``, ``L1JointRegression`` or ``Combined``.
        input_size: crop ``(height, width)``.
        heatmap_size: output ``(height, width)``.
        sigma: Gaussian sigma in heatmap pixels.
    """
    pts = np.asarray(coords, dtype=F32)
    vis = np.asarray(visibility, dtype=F32)
    if pts.ndim != 2 or pts.shape[1] != 2 or vis.shape != pts.shape[:1]:
        raise ValueError(f"coords must be (K, 2) and visibility (K,); got {pts.shape} and {vis.shape}")
    if loss_type == "MSELoss":
        stride = np.asarray(input_size, dtype=np.float64) / np.asarray(heatmap_size, dtype=np.float64)
        maps, weight = render_gaussian_heatmaps(pts.astype(np.float64) / stride, vis, heatmap_size, sigma)
        return maps, weight[:, None, None]
    if loss_type == "L1JointRegression":
        return integral_encode(pts, vis, input_size)
    if loss_type == "Combined":
        split = combined_split(len(vis))
        hm, hm_weight = encode_pose(pts[:split], vis[:split], "MSELoss", input_size, heatmap_size, sigma)
        reg, reg_weight = integral_encode(pts[split:], vis[split:], input_size, boost_body=False)
        return (hm, reg), (hm_weight, reg_weight)  # type: ignore[return-value]
    raise ValueError(f"LOSS.TYPE {loss_type!r} is not supported; choose MSELoss, L1JointRegression or Combined")
