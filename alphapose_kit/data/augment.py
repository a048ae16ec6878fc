"""AlphaPose's training augmentation (``SimpleTransform.__call__`` with ``train=True``), one small function per step.

Order per sample, as the original: [DPG box jitter] -> box to centre/scale (x1.25) -> [half-body] -> [scale] ->
[rotation] -> [horizontal flip] -> affine warp of the image and of the labelled joints -> targets -> the same
normalisation as inference (Fang et al., "AlphaPose", TPAMI 2022; release v0.6.0). Every step can be switched off
(:class:`AugmentSettings`). Randomness comes from a ``numpy.random.Generator`` handed in, so a sample is a pure
function of its seed: the same seed gives the same crop whatever the number of DataLoader workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from yacs.config import CfgNode

from alphapose_kit.codecs import PoseCodec, Target
from alphapose_kit.data.keypoints import KeypointSet
from alphapose_kit.data.transforms import (
    affine_transform_points,
    box_to_center_scale,
    center_scale_to_box,
    get_affine_transform,
    normalize_crop,
    warp_affine_linear,
)
from alphapose_kit.errors import ConfigError

_F32 = np.float32

#: Probability of a rotation (AlphaPose: ``random.random() <= 0.6``).
ROTATION_PROB = 0.6
#: Probability of a horizontal flip (AlphaPose: ``random.random() > 0.5``).
FLIP_PROB = 0.5
#: Enlargement of the half-body box (instead of the usual 1.25).
HALF_BODY_SCALE = 1.5


@dataclass(frozen=True)
class AugmentSettings:
    """Which augmentation steps run, with AlphaPose's parameters; each step is off at 0 / False / a negative p.

    ``flip`` is honoured here; AlphaPose ignores ``AUG.FLIP`` and always flips in training (every shipped config
    says ``FLIP: true``, so the default is the same).
    """

    scale_factor: float = 0.3
    rot_factor: float = 40.0
    rot_prob: float = ROTATION_PROB
    flip: bool = True
    half_body_prob: float = -1.0
    num_joints_half_body: int = 8
    dpg: bool = False

    @classmethod
    def from_config(cls, aug: CfgNode, dpg: bool = False) -> AugmentSettings:
        """Settings from a ``DATASET.TRAIN.AUG`` node (``ROT_PROB`` is akit's; AlphaPose fixes it at 0.6)."""
        return cls(
            scale_factor=float(aug.SCALE_FACTOR),
            rot_factor=float(aug.ROT_FACTOR),
            rot_prob=float(aug.get("ROT_PROB", ROTATION_PROB)),
            flip=bool(aug.FLIP),
            half_body_prob=float(aug.PROB_HALF_BODY),
            num_joints_half_body=int(aug.NUM_JOINTS_HALF_BODY),
            dpg=dpg,
        )

    @classmethod
    def off(cls) -> AugmentSettings:
        """No augmentation at all: the training crop is the validation crop."""
        return cls(scale_factor=0.0, rot_factor=0.0, rot_prob=0.0, flip=False, half_body_prob=-1.0, dpg=False)


def dpg_jitter_box(box: ArrayLike, width: int, height: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """AlphaPose's DPG box jitter (``addDPG``), used after ``TRAIN.DPG_MILESTONE``.

    With ``u ~ U(0, 1)``: if ``u > 0.85`` a random sub-box of size ``u * (w, h)`` inside the box (plus 1 on
    ``x2, y2``); otherwise each side moves by a Gaussian fraction of the box size, fitted to detector errors:
    ``x1 += N(-0.0142, 0.1158) w``, ``y1 += N(0.0043, 0.068) h``, ``x2 += N(0.0154, 0.1337) w``,
    ``y2 += N(-0.0013, 0.0711) h``, clamped to ``[1, W-3] x [1, H-3]`` with ``x2 >= x1 + 2``, ``y2 >= y1 + 2``.
    """
    x1, y1, x2, y2 = (float(v) for v in np.asarray(box, dtype=np.float64).reshape(4))
    w, h = x2 - x1, y2 - y1
    u = rng.uniform(0.0, 1.0)
    if u > 0.85:
        ratio = h / w
        if w < h:
            patch_w = u * w
            patch_h = patch_w * ratio
        else:
            patch_h = u * h
            patch_w = patch_h / ratio
        nx1 = x1 + rng.uniform(0.0, 1.0) * (w - patch_w)
        ny1 = y1 + rng.uniform(0.0, 1.0) * (h - patch_h)
        return np.array([nx1, ny1, nx1 + patch_w + 1, ny1 + patch_h + 1])
    nx1 = max(1.0, min(x1 + rng.normal(-0.0142, 0.1158) * w, width - 3.0))
    ny1 = max(1.0, min(y1 + rng.normal(0.0043, 0.068) * h, height - 3.0))
    nx2 = min(max(nx1 + 2, x2 + rng.normal(0.0154, 0.1337) * w), width - 3.0)
    ny2 = min(max(ny1 + 2, y2 + rng.normal(-0.0013, 0.0711) * h), height - 3.0)
    return np.array([nx1, ny1, nx2, ny2])


def half_body_center_scale(
    joints: ArrayLike,
    visibility: ArrayLike,
    upper_body: Sequence[int],
    aspect_ratio: float,
    rng: np.random.Generator,
) -> tuple[NDArray[np.float32], NDArray[np.float32]] | None:
    """AlphaPose's half-body crop: a box around the labelled upper- or lower-body joints, aspect-fixed, x1.5.

    QUIRK kept: the upper half is chosen when a standard normal draw is < 0.5 (p ~ 0.69) and more than 2 upper
    joints are labelled; otherwise the lower half if more than 2 are labelled, else the upper one. Every joint not
    in ``upper_body`` counts as lower body. Returns None (crop unchanged) when the chosen half has < 2 joints.
    """
    pts = np.asarray(joints, dtype=_F32).reshape(-1, 2)
    labelled = np.asarray(visibility).reshape(-1) > 0
    is_upper = np.isin(np.arange(len(pts)), np.asarray(upper_body, dtype=np.int64))
    upper, lower = pts[labelled & is_upper], pts[labelled & ~is_upper]
    pick_upper = rng.standard_normal() < 0.5 and len(upper) > 2
    chosen = upper if pick_upper or len(lower) <= 2 else lower
    if len(chosen) < 2:
        return None
    center = chosen.mean(axis=0).astype(_F32)
    w, h = chosen.max(axis=0) - chosen.min(axis=0)
    if w > aspect_ratio * h:
        h = w / aspect_ratio
    elif w < aspect_ratio * h:
        w = h * aspect_ratio
    return center, (np.array([w, h], dtype=_F32) * _F32(HALF_BODY_SCALE)).astype(_F32)


def random_scale(scale_factor: float, rng: np.random.Generator) -> float:
    """Scale multiplier ``clip(N(0, 1) * sf + 1, 1 - sf, 1 + sf)`` applied to the crop size (1 when sf is 0)."""
    if scale_factor <= 0:
        return 1.0
    return float(np.clip(rng.standard_normal() * scale_factor + 1, 1 - scale_factor, 1 + scale_factor))


def random_rotation(rot_factor: float, prob: float, rng: np.random.Generator) -> float:
    """Rotation in degrees: with probability ``prob`` (AlphaPose 0.6), ``clip(N(0, 1) * rf, -2 rf, 2 rf)``, else 0."""
    if rot_factor <= 0 or prob <= 0:
        return 0.0
    if rng.random() <= prob:
        return float(np.clip(rng.standard_normal() * rot_factor, -2 * rot_factor, 2 * rot_factor))
    return 0.0


def flip_sample(
    image: NDArray,
    joints: ArrayLike,
    visibility: ArrayLike,
    center: ArrayLike,
    flip_pairs: Sequence[tuple[int, int]],
) -> tuple[NDArray, NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """Mirror an image and its person, as AlphaPose's training flip (``flip_joints_3d``).

    The image is mirrored left-right; joints get ``x -> W - x - 1`` and every ``(left, right)`` pair swaps its
    coordinates and visibility; then coordinates are multiplied by the visibility (unlabelled joints become
    ``(0, 0)``); the crop centre gets ``c_x -> W - c_x - 1``.

    Returns:
        ``(image, joints, visibility, center)``, new arrays.
    """
    width = image.shape[1]
    pts = np.array(joints, dtype=_F32).reshape(-1, 2)
    vis = np.array(visibility, dtype=_F32).reshape(-1)
    pts[:, 0] = width - pts[:, 0] - 1
    perm = np.arange(len(pts))
    for a, b in flip_pairs:
        perm[a], perm[b] = b, a
    pts, vis = pts[perm], vis[perm]
    pts *= vis[:, None]
    c = np.array(center, dtype=_F32).reshape(2)
    c[0] = width - c[0] - 1
    return np.ascontiguousarray(image[:, ::-1]), pts, vis, c


def warp_joints(joints: ArrayLike, visibility: ArrayLike, matrix: ArrayLike) -> NDArray[np.float32]:
    """Map the labelled joints (visibility > 0) through the crop's affine matrix; unlabelled ones stay as they are."""
    pts = np.array(joints, dtype=_F32).reshape(-1, 2)
    labelled = np.asarray(visibility).reshape(-1) > 0
    pts[labelled] = affine_transform_points(pts[labelled], matrix).astype(_F32)
    return pts


class TrainTransform:
    """One training sample from an image and a person: augment, crop, encode targets, normalise.

    ``__call__(image_rgb, box, joints, visibility, rng)`` returns a dict with ``image`` (3 x H x W float32,
    normalised as at inference), ``target`` and ``target_weight`` (``codec.encode``, at the codec's input size)
    and ``box`` (the crop box after augmentation, in flipped coordinates when flipped, as AlphaPose returns it).
    """

    def __init__(self, keypoint_set: KeypointSet, settings: AugmentSettings, codec: PoseCodec) -> None:
        if settings.half_body_prob > 0 and not keypoint_set.upper_body:
            raise ConfigError(
                f"half-body augmentation needs the upper-body joints of keypoint set {keypoint_set.name!r} "
                "(add 'upper_body' to its JSON, or set DATASET.TRAIN.AUG.PROB_HALF_BODY: -1)"
            )
        self.keypoint_set = keypoint_set
        self.settings = settings
        self.codec = codec
        self.input_size = codec.input_size
        self.aspect_ratio = self.input_size[1] / self.input_size[0]

    def __call__(
        self,
        image_rgb: NDArray[np.uint8],
        box: ArrayLike,
        joints: ArrayLike,
        visibility: ArrayLike,
        rng: np.random.Generator,
    ) -> dict[str, NDArray[np.float32] | Target]:
        s = self.settings
        img_h, img_w = image_rgb.shape[:2]
        pts = np.asarray(joints, dtype=_F32).reshape(-1, 2)
        vis = np.asarray(visibility, dtype=_F32).reshape(-1)
        xyxy = np.asarray(box, dtype=np.float64).reshape(4)
        if s.dpg:
            xyxy = dpg_jitter_box(xyxy, img_w, img_h, rng)
        center, scale = box_to_center_scale(xyxy, self.aspect_ratio)
        if s.half_body_prob > 0 and vis.sum() > s.num_joints_half_body and rng.random() < s.half_body_prob:
            half = half_body_center_scale(pts, vis, self.keypoint_set.upper_body, self.aspect_ratio, rng)
            if half is not None:
                center, scale = half
        scale = (scale * _F32(random_scale(s.scale_factor, rng))).astype(_F32)
        rotation = random_rotation(s.rot_factor, s.rot_prob, rng)
        image = image_rgb
        if s.flip and rng.random() > 1 - FLIP_PROB:
            image, pts, vis, center = flip_sample(image, pts, vis, center, self.keypoint_set.flip_pairs)
        inp_h, inp_w = self.input_size
        matrix = get_affine_transform(center, float(scale[0]), (inp_w, inp_h), rot=rotation)
        crop = warp_affine_linear(image, matrix, (inp_w, inp_h))
        pts = warp_joints(pts, vis, matrix)
        target, weight = self.codec.encode(pts, vis)
        return {
            "image": normalize_crop(crop),
            "target": target,
            "target_weight": weight,
            "box": center_scale_to_box(center, scale),
        }


class EpochTransform:
    """:class:`TrainTransform` as a dataset uses it: the config's settings, a generator per sample seeded by
    ``(TRAIN.SEED, epoch, index)`` (so a sample does not depend on the worker that makes it, and a resumed run
    draws what an uninterrupted one would), and DPG switched on per epoch by :meth:`set_epoch`."""

    def __init__(self, cfg: CfgNode, keypoint_set: KeypointSet, codec: PoseCodec) -> None:
        self.seed = int(cfg.TRAIN.SEED)
        self.epoch = 0
        self.transform = TrainTransform(keypoint_set, AugmentSettings.from_config(cfg.DATASET.TRAIN.AUG), codec)

    def set_epoch(self, epoch: int, dpg: bool = False) -> None:
        """Draw the samples of ``epoch`` next, with DPG box jitter when ``dpg``."""
        self.epoch = int(epoch)
        self.transform.settings = replace(self.transform.settings, dpg=dpg)

    def __call__(self, image_rgb: NDArray[np.uint8], label: Any, index: int) -> dict[str, Any]:
        """The training sample of dataset item ``index`` as tensors; ``label`` has AlphaPose's ``bbox`` (x1, y1, x2,
        y2) and ``joints`` (K, 3, 2) like :class:`alphapose_kit.data.coco.PersonLabel`."""
        rng = np.random.default_rng([self.seed, self.epoch, int(index)])
        joints = np.asarray(label.joints)
        sample = self.transform(image_rgb, label.bbox, joints[:, 0:2, 0], joints[:, 0, 1], rng)
        return {key: as_tensors(value) for key, value in sample.items()}


def as_tensors(value: Any) -> Any:
    """Arrays -> tensors, keeping the (heatmap, integral) pairs of ``Combined`` targets as lists."""
    if isinstance(value, tuple):
        return [torch.from_numpy(v) for v in value]
    return torch.from_numpy(value)
