"""Flip test: mirror the crops, then bring the mirrored heatmaps back (width flip, joint-pair swap, shift)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch

from alphapose_kit.codecs._common import HeatmapArray


def flip_images(crops: HeatmapArray) -> HeatmapArray:
    """Mirror normalised crops (or any ``(..., H, W)`` batch) along the width, as AlphaPose's ``flip``."""
    if isinstance(crops, torch.Tensor):
        return crops.flip(dims=(-1,))
    return np.ascontiguousarray(np.flip(np.asarray(crops), axis=-1))


def flip_permutation(num_joints: int, flip_pairs: Iterable[Sequence[int]]) -> list[int]:
    """Channel order after swapping every pair in turn (``out[:, (a, b)] = out[:, (b, a)]`` per pair)."""
    perm = list(range(num_joints))
    for a, b in flip_pairs:
        perm[a], perm[b] = perm[b], perm[a]
    return perm


def flip_heatmaps_back(
    flipped: HeatmapArray,
    flip_pairs: Iterable[Sequence[int]],
    shift: bool = True,
) -> HeatmapArray:
    """Heatmaps of mirrored crops -> heatmaps in the unmirrored frame, as AlphaPose's ``flip_heatmap`` (step 8).

    Flip the width, swap the channels of every ``(left, right)`` joint pair, then (``shift=True``, as in the
    demo and validation) move everything one column right: ``new[x] = old[x - 1]`` for ``x >= 1``, column 0
    kept. This is the clean shift that AlphaPose's GPU runs and published AP numbers assume; its in-place
    overlapping copy is backend-dependent (on CPU with torch 2.x it smears column 0 over the whole map), and
    that behaviour is deliberately not reproduced.

    Args:
        flipped: ``(N, K, H, W)`` or ``(K, H, W)`` tensor or array: the network output for the mirrored crops.
        flip_pairs: joint index pairs of the TRAIN dataset of the model's config.
        shift: apply the one-column shift.

    Returns:
        A new tensor/array of the same type and shape.
    """
    if flipped.ndim not in (3, 4):
        raise ValueError(f"heatmaps must have shape (N, K, H, W) or (K, H, W); got {tuple(flipped.shape)}")
    perm = flip_permutation(int(flipped.shape[-3]), flip_pairs)
    if isinstance(flipped, torch.Tensor):
        out = flipped.flip(dims=(-1,))[..., perm, :, :]
        if shift:
            out = torch.cat((out[..., :1], out[..., :-1]), dim=-1)
        return out
    mirrored = np.flip(np.asarray(flipped), axis=-1)[..., perm, :, :]
    if shift:
        mirrored = np.concatenate((mirrored[..., :1], mirrored[..., :-1]), axis=-1)
    return np.ascontiguousarray(mirrored)


def merge_flip(heatmaps: HeatmapArray, flipped_back: HeatmapArray) -> HeatmapArray:
    """Average the heatmaps of the crops and the flipped-back heatmaps of the mirrored crops: ``(h + f) / 2``."""
    return (heatmaps + flipped_back) / 2
