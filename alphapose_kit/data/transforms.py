"""Top-down geometry: person box -> centre/scale -> affine crop -> normalised tensor, and back.

Everything here follows the inference path of AlphaPose (Fang et al., "AlphaPose: Whole-Body Regional
Multi-Person Pose Estimation and Tracking in Real-Time", TPAMI 2022), release v0.6.0, step by step and
including its quirks, so that the same weights and boxes give the same keypoints. The arithmetic is done
in the same floating-point precision as the original at every step (float32 where it used float32, float64
where NumPy 1.x promoted to float64), the affine matrices come from ``cv2.getAffineTransform`` on the
same float32 points, and the crop is OpenCV 4.x's fixed-point bilinear warp re-done in NumPy
(:func:`warp_affine_linear`, because OpenCV 5 changed ``cv2.warpAffine``), so crops and decoded keypoints
are bit-identical to the original's, not merely close (checked against AlphaPose's own functions with
NumPy 1.26 and OpenCV 4.8-4.12).

Conventions: boxes are ``(x1, y1, x2, y2)`` in image pixels; ``input_size`` is ``(height, width)`` like
AlphaPose's ``DATA_PRESET.IMAGE_SIZE``; ``output_size`` given to :func:`get_affine_transform` is
``(width, height)`` like OpenCV's ``dsize``.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "DEFAULT_INPUT_SIZE",
    "PIXEL_MEANS_RGB",
    "SCALE_MULT",
    "affine_transform_points",
    "box_to_center_scale",
    "center_scale_to_box",
    "crop_boxes",
    "crop_people",
    "get_affine_transform",
    "heatmap_to_image",
    "normalize_crop",
    "warp_affine_linear",
]

#: AlphaPose's pose input size ``(height, width)`` for every zoo model.
DEFAULT_INPUT_SIZE: tuple[int, int] = (256, 192)
#: Per-channel means subtracted from the [0, 1] crop, in RGB order (no std division in AlphaPose).
PIXEL_MEANS_RGB: tuple[float, float, float] = (0.406, 0.457, 0.480)
#: Box enlargement applied by ``_box_to_center_scale`` at inference.
SCALE_MULT: float = 1.25

_F32 = np.float32


def box_to_center_scale(
    boxes: ArrayLike,
    aspect_ratio: float = DEFAULT_INPUT_SIZE[1] / DEFAULT_INPUT_SIZE[0],
    scale_mult: float = SCALE_MULT,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Person boxes -> crop centres and scales, as AlphaPose's ``_box_to_center_scale`` (inference step 3).

    ``w = x2 - x1``, ``h = y2 - y1`` (no +1); ``c = (x1 + w/2, y1 + h/2)``; the shorter side is grown so
    that ``w / h == aspect_ratio`` (``h = w / a`` if ``w > a*h``, ``w = h * a`` if ``w < a*h``); then
    ``scale = (w, h) * scale_mult``. QUIRK kept: the ``scale_mult`` is skipped for a box whose centre x is
    exactly -1 (AlphaPose uses -1 as an "empty" marker there).

    Precision follows AlphaPose: float32 boxes (a detector's tensors) are computed in float32; float64 boxes (a
    ``--detfile``, which AlphaPose keeps in float64) are computed in float64 and the centre and scale rounded to
    float32 before the float32 ``* scale_mult``. Other dtypes are taken as float32.

    Args:
        boxes: ``(N, 4)`` (or ``(4,)``) boxes ``x1, y1, x2, y2`` in image pixels.
        aspect_ratio: pose input width / height (``192 / 256 = 0.75`` for every zoo model).
        scale_mult: enlargement factor (1.25 at inference).

    Returns:
        ``(centers, scales)``, each float32 of shape ``(N, 2)`` (``(2,)`` for a single box).
    """
    b = np.asarray(boxes)
    dtype = np.float64 if b.dtype == np.float64 else _F32
    b = b.astype(dtype)
    single = b.ndim == 1
    b = np.atleast_2d(b)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"boxes must have shape (N, 4) as x1, y1, x2, y2; got {np.shape(boxes)}")
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    w = x2 - x1
    h = y2 - y1
    half = dtype(0.5)
    a = dtype(aspect_ratio)
    centers = np.stack([x1 + w * half, y1 + h * half], axis=1).astype(_F32)
    wider = w > a * h
    taller = w < a * h
    new_h = np.where(wider, w / a, h)
    new_w = np.where(taller, h * a, w)
    scales = np.stack([new_w, new_h], axis=1).astype(_F32)
    mult = np.where(centers[:, 0] != _F32(-1), _F32(scale_mult), _F32(1))
    scales = (scales * mult[:, None]).astype(_F32)
    if single:
        return centers[0], scales[0]
    return centers, scales


def center_scale_to_box(centers: ArrayLike, scales: ArrayLike) -> NDArray[np.float32]:
    """Crop centres and scales -> the ``cropped_box`` used for decoding (inference step 7).

    ``(x_min, y_min) = c - scale/2`` and ``(x_max, y_max) = (x_min, y_min) + scale``, computed in float64 from
    the float32 inputs and rounded to float32, which is what AlphaPose's ``_center_scale_to_box`` does under
    NumPy 1.x (float32 scalar times a Python float promotes to float64) followed by ``torch.FloatTensor``.

    Args:
        centers: ``(N, 2)`` float32 centres.
        scales: ``(N, 2)`` float32 scales ``(w, h)``.

    Returns:
        ``(N, 4)`` float32 boxes ``x_min, y_min, x_max, y_max``.
    """
    c = np.asarray(centers, dtype=_F32).astype(np.float64)
    s = np.asarray(scales, dtype=_F32).astype(np.float64)
    mins = c - s * 0.5
    maxs = mins + s
    return np.concatenate([mins, maxs], axis=-1).astype(_F32)


def get_affine_transform(
    center: ArrayLike,
    scale_w: float,
    output_size: Sequence[int],
    rot: float = 0.0,
    inverse: bool = False,
) -> NDArray[np.float64]:
    """The 2x3 affine matrix of AlphaPose's ``get_affine_transform`` (inference step 4).

    Three point pairs are built in float32 and handed to ``cv2.getAffineTransform``, exactly as the
    original does, so the matrix is bit-identical: source ``c`` -> destination ``(W/2, H/2)``; source
    ``c + (sin r, -cos r) * scale_w/2`` -> ``(W/2, H/2 - W/2)``; the third point of each triple is
    ``p1 + (-(p0 - p1).y, (p0 - p1).x)``. Only the width of the scale is used, so the vertical pixel size
    equals the horizontal one. With ``rot = 0`` and ``s = W / scale_w`` the matrix is (up to float rounding)
    ``[[s, 0, W/2 - s*c_x], [0, s, H/2 - s*c_y]]``: ``x' = s*(x - c_x) + W/2`` (no half-pixel offset).

    Args:
        center: ``(2,)`` centre ``(c_x, c_y)`` in source pixels. Pass float32 values for the crop (AlphaPose's
            centre is a float32 array) and float64 values when inverting a ``cropped_box`` (AlphaPose then
            works from Python floats); the sums are formed in float64 and rounded to float32, which gives the
            same float32 points as the original in both cases.
        scale_w: width of the source region in source pixels.
        output_size: ``(width, height)`` of the destination (``(192, 256)`` for the crop, ``(48, 64)`` for the
            heatmap).
        rot: rotation in degrees (0 at inference; used by training augmentation).
        inverse: return the destination -> source matrix instead.

    Returns:
        ``(2, 3)`` float64 matrix for ``cv2.warpAffine``.
    """
    c = np.asarray(center).reshape(2)
    dst_w, dst_h = float(output_size[0]), float(output_size[1])
    # Direction of "up" in the source, float64 like the original's get_dir (sin/cos are float64).
    rot_rad = np.pi * rot / 180
    sn, cs = float(np.sin(rot_rad)), float(np.cos(rot_rad))
    up = float(scale_w) * -0.5
    src_dir = (0.0 * cs - up * sn, 0.0 * sn + up * cs)

    src = np.zeros((3, 2), dtype=_F32)
    dst = np.zeros((3, 2), dtype=_F32)
    src[0] = c.astype(np.float64)
    src[1] = c.astype(np.float64) + np.asarray(src_dir, dtype=np.float64)
    dst[0] = (dst_w * 0.5, dst_h * 0.5)
    dst[1] = (dst_w * 0.5, dst_h * 0.5 + dst_w * -0.5)
    src[2] = _third_point(src[0], src[1])
    dst[2] = _third_point(dst[0], dst[1])
    if inverse:
        return cv2.getAffineTransform(dst, src)
    return cv2.getAffineTransform(src, dst)


def _third_point(a: NDArray[np.float32], b: NDArray[np.float32]) -> NDArray[np.float32]:
    """``b + (-(a-b).y, (a-b).x)``: ``a - b`` turned by 90 degrees, in float32 like the original."""
    d = a - b
    return b + np.array([-d[1], d[0]], dtype=_F32)


def affine_transform_points(points: ArrayLike, matrix: ArrayLike) -> NDArray[np.float64]:
    """Apply a ``(2, 3)`` affine matrix to ``(..., 2)`` points, in float64: ``M @ (x, y, 1)``."""
    p = np.asarray(points, dtype=np.float64)
    m = np.asarray(matrix, dtype=np.float64)
    x, y = p[..., 0], p[..., 1]
    return np.stack([m[0, 0] * x + m[0, 1] * y + m[0, 2], m[1, 0] * x + m[1, 1] * y + m[1, 2]], axis=-1)


# OpenCV 4.x fixed-point bilinear warp constants (imgwarp.cpp): coordinates in 1/1024 px, then 1/32 px
# (INTER_BITS = 5) table steps, 15-bit weights.
_AB_BITS = 10
_INTER_BITS = 5
_INTER_TAB = 1 << _INTER_BITS
_COEF_BITS = 15


def warp_affine_linear(
    image: NDArray[np.uint8],
    matrix: ArrayLike,
    dsize: Sequence[int],
) -> NDArray[np.uint8]:
    """``cv2.warpAffine(image, matrix, dsize, flags=INTER_LINEAR)`` with a constant 0 border, bit for bit as
    OpenCV 4.x computes it, independent of the installed OpenCV.

    AlphaPose's crops were made by OpenCV 4.x, whose 8-bit bilinear warp is fixed point: the matrix is
    inverted in float64; source coordinates are accumulated in 1/1024 pixel (``round(M0 * x * 1024)`` per
    column plus ``round((M1 * y + M2) * 1024) + 16`` per row, rounding half to even), cut to 1/32 pixel, and
    handed to ``remap`` as integer taps plus a 1/32-pixel table index, whose bilinear weights are 15-bit
    fixed point. OpenCV 5 changed how ``warpAffine`` builds those maps (about 6 % of crop pixels differ, by up
    to 6 grey levels), but not ``remap`` itself, so akit builds the 4.x maps here and calls ``cv2.remap``.

    Args:
        image: ``(H, W, C)`` or ``(H, W)`` uint8 image.
        matrix: ``(2, 3)`` forward affine (source -> destination), as given to ``cv2.warpAffine``.
        dsize: ``(width, height)`` of the output.

    Returns:
        ``(height, width, C)`` (or ``(height, width)``) uint8 image.
    """
    src = np.asarray(image)
    if src.dtype != np.uint8:
        raise ValueError(f"warp_affine_linear needs a uint8 image; got {src.dtype}")
    taps, fractions = _fixed_point_maps(matrix, dsize)
    return cv2.remap(src, taps, fractions, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _fixed_point_maps(matrix: ArrayLike, dsize: Sequence[int]) -> tuple[NDArray[np.int16], NDArray[np.uint16]]:
    """OpenCV 4.x warpAffine's remap maps: (height, width, 2) int16 source taps, (height, width) table indices."""
    out_w, out_h = int(dsize[0]), int(dsize[1])
    m0, m1, m2, m3, m4, m5 = (float(v) for v in np.asarray(matrix, dtype=np.float64).reshape(6))
    # Invert the forward matrix exactly as OpenCV does (plain float64 operations, in this order).
    d = m0 * m4 - m1 * m3
    d = 1.0 / d if d != 0 else 0.0
    a11, a22 = m4 * d, m0 * d
    m0, m1, m3, m4 = a11, m1 * -d, m3 * -d, a22
    m2, m5 = -m0 * m2 - m1 * m5, -m3 * m2 - m4 * m5

    ab_scale = float(1 << _AB_BITS)
    round_delta = (1 << _AB_BITS) // _INTER_TAB // 2
    cols = np.arange(out_w, dtype=np.float64)
    rows = np.arange(out_h, dtype=np.float64)
    adelta = np.rint(m0 * cols * ab_scale).astype(np.int64)
    bdelta = np.rint(m3 * cols * ab_scale).astype(np.int64)
    x0 = np.rint((m1 * rows + m2) * ab_scale).astype(np.int64) + round_delta
    y0 = np.rint((m4 * rows + m5) * ab_scale).astype(np.int64) + round_delta
    xq = (x0[:, None] + adelta[None, :]) >> (_AB_BITS - _INTER_BITS)
    yq = (y0[:, None] + bdelta[None, :]) >> (_AB_BITS - _INTER_BITS)
    taps = np.empty((out_h, out_w, 2), np.int16)
    taps[..., 0] = np.clip(xq >> _INTER_BITS, -32768, 32767)  # saturate_cast<short>, as OpenCV
    taps[..., 1] = np.clip(yq >> _INTER_BITS, -32768, 32767)
    fractions = ((yq & (_INTER_TAB - 1)) * _INTER_TAB + (xq & (_INTER_TAB - 1))).astype(np.uint16)
    return taps, fractions


def normalize_crop(crop: NDArray) -> NDArray[np.float32]:
    """HWC RGB crop -> CHW float32 pose input, as AlphaPose's ``im_to_torch`` + mean subtraction (step 6).

    Divides by 255 only if the crop's maximum is above 1 (QUIRK kept: a crop whose pixels are all 0 or 1 is
    not rescaled), then subtracts 0.406 / 0.457 / 0.480 from channels R / G / B. No std division. The
    float32 operations are the ones ``torch`` performs on CPU, so the result is bit-identical.
    """
    return _normalize_chw(np.transpose(np.asarray(crop), (2, 0, 1)))


def _normalize_chw(chw: NDArray) -> NDArray[np.float32]:
    """:func:`normalize_crop` on a ``(3, H, W)`` crop (always returns a new array)."""
    img = np.array(chw, dtype=_F32, order="C", copy=True)
    if img.size and img.max() > 1:
        img /= _F32(255)
    for ch, mean in enumerate(PIXEL_MEANS_RGB):
        img[ch] += _F32(-mean)
    return img


def crop_people(
    image_rgb: NDArray[np.uint8],
    centers: ArrayLike,
    scales: ArrayLike,
    input_size: Sequence[int] = DEFAULT_INPUT_SIZE,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Crop every person and normalise it: AlphaPose's ``SimpleTransform.test_transform`` (steps 4-7).

    Each crop is ``cv2.warpAffine(image, M, (W, H), INTER_LINEAR)`` with a constant 0 border as OpenCV 4.x
    computes it (:func:`warp_affine_linear`: fixed point, 1/32-pixel steps), ``M`` from
    :func:`get_affine_transform` (rotation 0), then :func:`normalize_crop`. The image is padded once and
    shared by all its crops (about 1.5 ms per person on one CPU core).

    Args:
        image_rgb: ``(H_img, W_img, 3)`` uint8 image in RGB order (AlphaPose feeds RGB to the pose model).
        centers: ``(N, 2)`` float32 centres from :func:`box_to_center_scale`.
        scales: ``(N, 2)`` float32 scales from :func:`box_to_center_scale`.
        input_size: pose input ``(height, width)``.

    Returns:
        ``(crops, cropped_boxes)``: ``(N, 3, H, W)`` float32 normalised crops and ``(N, 4)`` float32
        ``cropped_box`` values (:func:`center_scale_to_box`) to hand to the decoder.
    """
    image = np.asarray(image_rgb)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be H x W x 3 (RGB); got shape {image.shape}")
    c = np.asarray(centers, dtype=_F32).reshape(-1, 2)
    s = np.asarray(scales, dtype=_F32).reshape(-1, 2)
    if len(c) != len(s):
        raise ValueError(f"got {len(c)} centres but {len(s)} scales")
    inp_h, inp_w = int(input_size[0]), int(input_size[1])
    crops = np.empty((len(c), 3, inp_h, inp_w), dtype=_F32)
    for i in range(len(c)):
        m = get_affine_transform(c[i], s[i, 0], (inp_w, inp_h))
        if image.dtype == np.uint8:
            warped = warp_affine_linear(image, m, (inp_w, inp_h))
        else:  # not uint8: AlphaPose never gets here (cv2.imread gives uint8); use OpenCV as is
            warped = cv2.warpAffine(image, m, (inp_w, inp_h), flags=cv2.INTER_LINEAR, borderValue=0)
        crops[i] = normalize_crop(warped)
    return crops, center_scale_to_box(c, s)


def crop_boxes(
    image_rgb: NDArray[np.uint8],
    boxes: ArrayLike,
    input_size: Sequence[int] = DEFAULT_INPUT_SIZE,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Crop a frame's people: ``(N, 4)`` x1, y1, x2, y2 boxes -> normalised crops and cropped boxes
    (:func:`box_to_center_scale` at the input's aspect ratio, then :func:`crop_people`), the one crop step of
    inference, evaluation and calibration. An array keeps its precision (float64 ``--detfile`` boxes are computed
    in float64, as AlphaPose does); other sequences are taken as float32."""
    inp_h, inp_w = int(input_size[0]), int(input_size[1])
    b = boxes if isinstance(boxes, np.ndarray) else np.asarray(boxes, dtype=_F32)
    centers, scales = box_to_center_scale(b.reshape(-1, 4), inp_w / inp_h)
    return crop_people(image_rgb, centers, scales, input_size)


def heatmap_to_image(
    coords: ArrayLike,
    cropped_boxes: ArrayLike,
    heatmap_size: Sequence[int] = (64, 48),
) -> NDArray[np.float32]:
    """Heatmap-pixel coordinates -> image pixels (inference step 10).

    For each person the ``cropped_box`` gives ``c = (x_min + w/2, y_min + h/2)`` and ``w`` (float64, from the
    float32 box, as AlphaPose's decoder gets it through ``tolist()``); the coordinates are mapped with the
    inverse of the step-4 affine built for the heatmap size, i.e. ``x = (x_hm - W_hm/2) * w / W_hm + c_x`` and
    ``y = (y_hm - H_hm/2) * w / W_hm + c_y`` (both axes scale with the box *width*; heatmap index ``i``
    corresponds to crop pixel ``4 i``). The matrices come from ``cv2.getAffineTransform`` (one call per person,
    the joints are vectorised), so the float32 result equals AlphaPose's.

    Args:
        coords: ``(N, K, 2)`` coordinates in heatmap pixels (from :func:`alphapose_kit.codecs.pose.decode_heatmaps`).
        cropped_boxes: ``(N, 4)`` float32 boxes from :func:`crop_people`.
        heatmap_size: ``(height, width)`` of the heatmap (``(64, 48)`` for every zoo model).

    Returns:
        ``(N, K, 2)`` float32 image coordinates.
    """
    pts = np.asarray(coords)
    boxes = np.asarray(cropped_boxes, dtype=_F32).astype(np.float64).reshape(-1, 4)
    if pts.ndim != 3 or pts.shape[-1] != 2 or pts.shape[0] != boxes.shape[0]:
        raise ValueError(f"coords must be (N, K, 2) with N = number of boxes ({boxes.shape[0]}); got {pts.shape}")
    hm_h, hm_w = int(heatmap_size[0]), int(heatmap_size[1])
    out = np.empty(pts.shape, dtype=_F32)
    for i, (x_min, y_min, x_max, y_max) in enumerate(boxes):
        w = x_max - x_min
        h = y_max - y_min
        center = np.array([x_min + w * 0.5, y_min + h * 0.5])
        m = get_affine_transform(center, w, (hm_w, hm_h), inverse=True)
        out[i] = affine_transform_points(pts[i].astype(np.float64), m)
    return out
