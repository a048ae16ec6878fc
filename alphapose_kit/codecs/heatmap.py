"""Gaussian heatmaps (``LOSS.TYPE: MSELoss``): the training target (encode) and AlphaPose's peak decode.

Fang et al., "AlphaPose: Whole-Body Regional Multi-Person Pose Estimation and Tracking in Real-Time", TPAMI 2022;
``SimpleTransform._target_generator`` and ``heatmap_to_coord_simple`` of release v0.6.0. Decoded coordinates are
in heatmap pixels; heatmap index ``i`` is crop pixel ``4 i`` (no half-pixel offset).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from alphapose_kit.codecs._common import F32, HeatmapArray, check_4d, to_numpy


def render_gaussian_heatmaps(
    coords: ArrayLike,
    visibility: ArrayLike,
    heatmap_size: Sequence[int] = (64, 48),
    sigma: float = 2,
    subpixel: bool = False,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Gaussian heatmap targets, as AlphaPose's ``SimpleTransform._target_generator`` (MSELoss training).

    Training rule (``subpixel=False``): an unnormalised Gaussian ``exp(-d^2 / (2 sigma^2))`` with peak 1 on a
    ``(6 sigma + 1)^2`` support (13 x 13 for sigma 2), centred on the integer pixel
    ``(int(x + 0.5), int(y + 0.5))`` (``int`` truncates towards zero), clipped to the map. The weight is the
    visibility, set to 0 when the support lies fully outside the map; the Gaussian is drawn only where the
    weight is > 0.5.

    ``subpixel=True`` instead evaluates a true Gaussian centred at the float position over the whole map (for
    tests of the decoder); weights follow the same rule.

    Args:
        coords: ``(..., K, 2)`` joint positions in heatmap pixels (crop pixels divided by the stride, 4).
        visibility: ``(..., K)`` visibility (AlphaPose uses ``min(1, v)``).
        heatmap_size: ``(height, width)``.
        sigma: Gaussian sigma in heatmap pixels; ``3 * sigma`` must be an integer for the training rule.

    Returns:
        ``(targets, weights)``: ``(..., K, H, W)`` and ``(..., K)`` float32.
    """
    pts = np.asarray(coords, dtype=np.float64)
    vis = np.asarray(visibility, dtype=F32)
    if pts.shape[-1:] != (2,) or pts.shape[:-1] != vis.shape:
        raise ValueError(f"coords must be (..., K, 2) and visibility (..., K); got {pts.shape} and {vis.shape}")
    h, w = int(heatmap_size[0]), int(heatmap_size[1])
    lead = vis.shape
    pts = pts.reshape(-1, 2)
    weights = vis.reshape(-1).copy()

    tmp_size = 3 * sigma
    if float(tmp_size) != int(tmp_size):
        raise ValueError(f"3 * sigma must be a whole number of pixels; got sigma = {sigma}")
    tmp = int(tmp_size)
    mu = np.trunc(pts + 0.5).astype(np.int64)
    ul = mu - tmp
    br = mu + tmp + 1
    outside = (ul[:, 0] >= w) | (ul[:, 1] >= h) | (br[:, 0] < 0) | (br[:, 1] < 0)
    weights[outside] = 0
    draw = weights > 0.5

    cols = np.arange(w)
    rows = np.arange(h)
    if subpixel:
        dx2 = (cols[None, :] - pts[:, :1]) ** 2  # (M, W)
        dy2 = (rows[None, :] - pts[:, 1:]) ** 2  # (M, H)
        maps = np.exp(-(dy2[:, :, None] + dx2[:, None, :]) / (2.0 * sigma**2)).astype(F32)
    else:
        size = 2 * tmp + 1
        x = np.arange(0, size, 1, dtype=F32)
        y = x[:, None]
        g = np.exp(-((x - tmp) ** 2 + (y - tmp) ** 2) / F32(2 * sigma**2)).astype(F32)
        gx = cols[None, :] - ul[:, :1]  # (M, W) index into g
        gy = rows[None, :] - ul[:, 1:]  # (M, H)
        inside = ((gy >= 0) & (gy < size))[:, :, None] & ((gx >= 0) & (gx < size))[:, None, :]
        maps = g[np.clip(gy, 0, size - 1)[:, :, None], np.clip(gx, 0, size - 1)[:, None, :]]
        maps = np.where(inside, maps, F32(0))
    maps[~draw] = 0
    return maps.reshape(*lead, h, w).astype(F32), weights.reshape(lead)


def decode_heatmaps(heatmaps: HeatmapArray) -> tuple[NDArray[np.float32], NDArray]:
    """Heatmaps -> keypoints in heatmap pixels and scores, as AlphaPose's ``heatmap_to_coord_simple`` (step 9).

    Per person and joint, vectorised over both:

    - the peak is the first maximum of the row-major flattened map (``np.argmax``), ``x = idx % W``,
      ``y = idx // W``; the score is the raw peak value (no sigmoid);
    - if the peak is <= 0 the location becomes ``(0, 0)`` (the score stays the negative peak);
    - if ``1 < x < W - 1`` and ``1 < y < H - 1`` (strict: a peak in column 1 or row 1 is not refined),
      ``x += 0.25 * sign(hm[y, x+1] - hm[y, x-1])`` and ``y += 0.25 * sign(hm[y+1, x] - hm[y-1, x])``
      (equal neighbours: no move).

    Args:
        heatmaps: ``(N, K, H, W)`` tensor or array (the flip-merged maps when flip test is on).

    Returns:
        ``(coords, scores)``: ``(N, K, 2)`` float32 ``(x, y)`` in heatmap pixels and ``(N, K)`` peak values in
        the heatmaps' dtype. Map them to the image with :func:`heatmap_to_image`.
    """
    hm = to_numpy(heatmaps)
    check_4d(hm.shape)
    n, k, h, w = hm.shape
    flat = hm.reshape(n * k, h * w)
    idx = np.argmax(flat, axis=1)
    rows = np.arange(n * k)
    scores = flat[rows, idx]
    positive = scores > 0
    px = np.where(positive, idx % w, 0)
    py = np.where(positive, idx // w, 0)
    coords = np.stack([px, py], axis=1).astype(F32)

    refine = (px > 1) & (px < w - 1) & (py > 1) & (py < h - 1)
    r = rows[refine]
    x, y = px[refine], py[refine]
    dx = flat[r, y * w + x + 1] - flat[r, y * w + x - 1]
    dy = flat[r, (y + 1) * w + x] - flat[r, (y - 1) * w + x]
    step = np.sign(np.stack([dx, dy], axis=1)).astype(F32) * F32(0.25)
    coords[refine] += step
    return coords.reshape(n, k, 2), scores.reshape(n, k)
