"""The three codecs of AlphaPose's ``LOSS.TYPE`` values (heatmap, integral, combined), registered by name, and
:func:`decode_pose` for callers that only have the name (export metadata records ``loss_type``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from alphapose_kit.codecs._common import F32, HeatmapArray
from alphapose_kit.codecs.codec import PoseCodec, Target, codec_class, register_codec
from alphapose_kit.codecs.flip import merge_flip
from alphapose_kit.codecs.heatmap import decode_heatmaps, render_gaussian_heatmaps
from alphapose_kit.codecs.integral import integral_decode, integral_encode

Decoded = tuple[NDArray[np.float32], NDArray[np.float32]]


def combined_split(num_joints: int) -> int:
    """Joints decoded from heatmaps by a ``LOSS.TYPE: Combined`` model; the rest use the integral decode.

    AlphaPose's writer takes the last 110 joints (face + hands) as integral, or the last 42 (hands) when
    ``K = 68``: so 26 of 136 (Halpe-136), 23 of 133 (COCO-WholeBody) and 26 of 68.
    """
    tail = 42 if num_joints == 68 else 110
    if num_joints <= tail:
        raise ValueError(f"a Combined model needs more than {tail} joints; got {num_joints}")
    return num_joints - tail


def _points(coords: ArrayLike, visibility: ArrayLike) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    pts = np.asarray(coords, dtype=F32)
    vis = np.asarray(visibility, dtype=F32)
    if pts.ndim != 2 or pts.shape[1] != 2 or vis.shape != pts.shape[:1]:
        raise ValueError(f"coords must be (K, 2) and visibility (K,); got {pts.shape} and {vis.shape}")
    return pts, vis


@register_codec
class HeatmapCodec(PoseCodec):
    """``MSELoss``: Gaussian heatmap targets and AlphaPose's peak decode (:func:`decode_heatmaps`).

    Encode renders :func:`render_gaussian_heatmaps` at ``(x / s0, y / s1)`` with the feature stride
    ``s = (H_in / H_hm, W_in / W_hm)`` (QUIRK kept: x is divided by the height ratio; both are 4 in every zoo
    config); target ``(K, H_hm, W_hm)``, weight ``(K, 1, 1)``.
    """

    name = "MSELoss"

    def encode(self, coords: ArrayLike, visibility: ArrayLike) -> tuple[Target, Target]:
        """Gaussian heatmaps of the joints (crop pixels) and the visibility weights."""
        pts, vis = _points(coords, visibility)
        stride = np.asarray(self.input_size, dtype=np.float64) / np.asarray(self.heatmap_size, dtype=np.float64)
        maps, weight = render_gaussian_heatmaps(pts.astype(np.float64) / stride, vis, self.heatmap_size, self.sigma)
        return maps, weight[:, None, None]

    def decode(self, heatmaps: HeatmapArray, heatmaps_flip: HeatmapArray | None = None) -> Decoded:
        """Peak of each heatmap (of the averaged maps when ``heatmaps_flip`` is given)."""
        coords, scores = decode_heatmaps(heatmaps if heatmaps_flip is None else merge_flip(heatmaps, heatmaps_flip))
        return coords, scores.astype(F32)


@register_codec
class IntegralCodec(PoseCodec):
    """``L1JointRegression``: normalised-coordinate targets (:func:`integral_encode`, body boost on the whole-body
    sets) and the soft-argmax decode (:func:`integral_decode`); target and weight ``(2K,)``."""

    name = "L1JointRegression"

    def encode(self, coords: ArrayLike, visibility: ArrayLike) -> tuple[Target, Target]:
        """Joints in normalised crop coordinates and their weights."""
        pts, vis = _points(coords, visibility)
        return integral_encode(pts, vis, self.input_size)

    def decode(self, heatmaps: HeatmapArray, heatmaps_flip: HeatmapArray | None = None) -> Decoded:
        """Soft-argmax of the logits (both views averaged when ``heatmaps_flip`` is given)."""
        return integral_decode(heatmaps, self.norm_type, heatmaps_flip)


@register_codec
class CombinedCodec(PoseCodec):
    """``Combined``: the first :func:`combined_split` joints as heatmaps, the rest as integral regression (no body
    boost); target and weight are ``(heatmap part, integral part)`` pairs."""

    name = "Combined"

    def __init__(
        self,
        num_joints: int,
        input_size: Sequence[int] = (256, 192),
        heatmap_size: Sequence[int] = (64, 48),
        sigma: float = 2,
        norm_type: str = "sigmoid",
    ) -> None:
        super().__init__(num_joints, input_size, heatmap_size, sigma, norm_type)
        self.split = combined_split(self.num_joints)
        self.body = HeatmapCodec(self.split, input_size, heatmap_size, sigma, norm_type)

    def encode(self, coords: ArrayLike, visibility: ArrayLike) -> tuple[Target, Target]:
        """Heatmaps of the body joints, normalised coordinates of the others."""
        pts, vis = _points(coords, visibility)
        hm, hm_weight = self.body.encode(pts[: self.split], vis[: self.split])
        reg, reg_weight = integral_encode(pts[self.split :], vis[self.split :], self.input_size, boost_body=False)
        return (hm, reg), (hm_weight, reg_weight)  # type: ignore[return-value]

    def decode(self, heatmaps: HeatmapArray, heatmaps_flip: HeatmapArray | None = None) -> Decoded:
        """Peak decode of the body joints, soft-argmax of the others, concatenated."""
        s = self.split
        head, tail = (None, None) if heatmaps_flip is None else (heatmaps_flip[:, :s], heatmaps_flip[:, s:])
        c1, s1 = self.body.decode(heatmaps[:, :s], head)
        c2, s2 = integral_decode(heatmaps[:, s:], self.norm_type, tail)
        return np.concatenate([c1, c2], axis=1), np.concatenate([s1, s2], axis=1)


def decode_pose(
    heatmaps: HeatmapArray,
    loss_type: str = "MSELoss",
    norm_type: str | None = "sigmoid",
    heatmaps_flip: HeatmapArray | None = None,
) -> Decoded:
    """:meth:`PoseCodec.decode` of the codec named ``loss_type`` (AlphaPose's ``get_func_heatmap_to_coord``), sized
    from the heatmaps; ``norm_type`` None means softmax. For callers that hold the name, not a config."""
    codec = codec_class(loss_type)(int(heatmaps.shape[1]), norm_type=norm_type or "softmax")
    return codec.decode(heatmaps, heatmaps_flip)
