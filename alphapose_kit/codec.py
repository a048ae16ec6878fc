"""Heatmap codec: pose-network outputs <-> keypoint coordinates (in the MMPose "codec" sense).

Decoding follows the demo / validation path of AlphaPose (Fang et al., "AlphaPose: Whole-Body Regional
Multi-Person Pose Estimation and Tracking in Real-Time", TPAMI 2022), release v0.6.0, including its quirks:

- :func:`decode_heatmaps` (``LOSS.TYPE: MSELoss``): first maximum of the row-major flattened map, its raw value
  as the score, ``(0, 0)`` when that peak is <= 0, then a quarter-pixel step towards the larger neighbour,
  only strictly inside the map.
- :func:`integral_decode` (``L1JointRegression``): sigmoid-normalised soft-argmax; ``Combined`` models use both
  (:func:`combined_split`, :func:`decode_pose`).
- Flip test: :func:`flip_images`, :func:`flip_heatmaps_back` (width flip, joint-pair swap, the clean one-column
  shift) and :func:`merge_flip`.
- :func:`heatmap_to_image` (re-exported from :mod:`alphapose_kit.transforms`) maps the heatmap coordinates to
  image pixels.
- :func:`render_gaussian_heatmaps`: the training target of AlphaPose's ``SimpleTransform``.

Decoded coordinates are in heatmap pixels; heatmap index ``i`` is crop pixel ``4 i`` (no half-pixel offset).
Everything accepts ``torch.Tensor`` or ``numpy.ndarray`` and works on whole batches at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray

from .transforms import heatmap_to_image

__all__ = [
    "combined_split",
    "decode_heatmaps",
    "decode_pose",
    "flip_heatmaps_back",
    "flip_images",
    "heatmap_to_image",
    "integral_decode",
    "merge_flip",
    "render_gaussian_heatmaps",
]

_F32 = np.float32
HeatmapArray = torch.Tensor | NDArray


def _to_numpy(heatmaps: HeatmapArray) -> NDArray:
    """CPU NumPy view of a heatmap batch; float32 unless it already is float64."""
    if isinstance(heatmaps, torch.Tensor):
        t = heatmaps.detach()
        if t.dtype not in (torch.float32, torch.float64):
            t = t.float()
        return t.cpu().numpy()
    a = np.asarray(heatmaps)
    return a if a.dtype in (np.float32, np.float64) else a.astype(_F32)


def _check_4d(shape: Sequence[int], what: str = "heatmaps") -> None:
    if len(shape) != 4:
        raise ValueError(f"{what} must have shape (N, K, H, W); got {tuple(shape)}")


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
    hm = _to_numpy(heatmaps)
    _check_4d(hm.shape)
    n, k, h, w = hm.shape
    flat = hm.reshape(n * k, h * w)
    idx = np.argmax(flat, axis=1)
    rows = np.arange(n * k)
    scores = flat[rows, idx]
    positive = scores > 0
    px = np.where(positive, idx % w, 0)
    py = np.where(positive, idx // w, 0)
    coords = np.stack([px, py], axis=1).astype(_F32)

    refine = (px > 1) & (px < w - 1) & (py > 1) & (py < h - 1)
    r = rows[refine]
    x, y = px[refine], py[refine]
    dx = flat[r, y * w + x + 1] - flat[r, y * w + x - 1]
    dy = flat[r, (y + 1) * w + x] - flat[r, (y - 1) * w + x]
    step = np.sign(np.stack([dx, dy], axis=1)).astype(_F32) * _F32(0.25)
    coords[refine] += step
    return coords.reshape(n, k, 2), scores.reshape(n, k)


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


def _to_cpu_tensor(heatmaps: HeatmapArray) -> torch.Tensor:
    t = heatmaps.detach() if isinstance(heatmaps, torch.Tensor) else torch.from_numpy(np.asarray(heatmaps))
    return t.cpu().float()


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
    hm = _to_cpu_tensor(heatmaps)
    _check_4d(hm.shape)
    n, k, h, w = hm.shape
    with torch.no_grad():
        jts, conf = _integral_tensor(hm, norm_type)
        if heatmaps_flip is not None:
            hm_f = _to_cpu_tensor(heatmaps_flip)
            if hm_f.shape != hm.shape:
                raise ValueError(f"heatmaps_flip shape {tuple(hm_f.shape)} differs from {tuple(hm.shape)}")
            jts_f, conf_f = _integral_tensor(hm_f, norm_type)
            jts = (jts + jts_f) / 2
            conf = (conf + conf_f) / 2
    coords = jts.numpy().astype(_F32)
    coords[..., 0] = (coords[..., 0] + _F32(0.5)) * _F32(w)
    coords[..., 1] = (coords[..., 1] + _F32(0.5)) * _F32(h)
    return coords, conf.numpy().astype(_F32).reshape(n, k)


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
        return coords, scores.astype(_F32)
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


def flip_images(crops: HeatmapArray) -> HeatmapArray:
    """Mirror normalised crops (or any ``(..., H, W)`` batch) along the width, as AlphaPose's ``flip``."""
    if isinstance(crops, torch.Tensor):
        return crops.flip(dims=(-1,))
    return np.ascontiguousarray(np.flip(np.asarray(crops), axis=-1))


def _pair_permutation(num_joints: int, flip_pairs: Iterable[Sequence[int]]) -> list[int]:
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
    perm = _pair_permutation(int(flipped.shape[-3]), flip_pairs)
    if isinstance(flipped, torch.Tensor):
        out = flipped.flip(dims=(-1,))[..., perm, :, :]
        if shift:
            out = torch.cat((out[..., :1], out[..., :-1]), dim=-1)
        return out
    out = np.flip(np.asarray(flipped), axis=-1)[..., perm, :, :]
    if shift:
        out = np.concatenate((out[..., :1], out[..., :-1]), axis=-1)
    return np.ascontiguousarray(out)


def merge_flip(heatmaps: HeatmapArray, flipped_back: HeatmapArray) -> HeatmapArray:
    """Average the heatmaps of the crops and the flipped-back heatmaps of the mirrored crops: ``(h + f) / 2``."""
    return (heatmaps + flipped_back) / 2


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
    vis = np.asarray(visibility, dtype=_F32)
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
        maps = np.exp(-(dy2[:, :, None] + dx2[:, None, :]) / (2.0 * sigma**2)).astype(_F32)
    else:
        size = 2 * tmp + 1
        x = np.arange(0, size, 1, _F32)
        y = x[:, None]
        g = np.exp(-((x - tmp) ** 2 + (y - tmp) ** 2) / _F32(2 * sigma**2)).astype(_F32)
        gx = cols[None, :] - ul[:, :1]  # (M, W) index into g
        gy = rows[None, :] - ul[:, 1:]  # (M, H)
        inside = ((gy >= 0) & (gy < size))[:, :, None] & ((gx >= 0) & (gx < size))[:, None, :]
        maps = g[np.clip(gy, 0, size - 1)[:, :, None], np.clip(gx, 0, size - 1)[:, None, :]]
        maps = np.where(inside, maps, _F32(0))
    maps[~draw] = 0
    return maps.reshape(*lead, h, w).astype(_F32), weights.reshape(lead)
