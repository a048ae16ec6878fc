"""Decode a pose network's output the way its config's ``LOSS.TYPE`` says (heatmap, integral or combined)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from alphapose_kit.codecs._common import F32, HeatmapArray
from alphapose_kit.codecs.flip import merge_flip
from alphapose_kit.codecs.heatmap import decode_heatmaps
from alphapose_kit.codecs.integral import integral_decode


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
