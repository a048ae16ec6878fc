"""AlphaPose's letterbox for the YOLO detectors, YOLOX's top-left padding and Ultralytics' letterbox (YOLOv8 / YOLO11),
each with its inverse for boxes.

Forward: f = min(S/w, S/h); the image is resized (cv2 INTER_CUBIC) to (int(w*f), int(h*f)) and pasted at
((S - new_w)//2, (S - new_h)//2) on an S x S canvas filled with 128. Inverse (QUIRK kept from AlphaPose): the
offsets are the FLOAT (S - f*w)/2, (S - f*h)/2, not the integer paste offsets, computed in float32 as the
original does; boxes are then clamped to the image.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch

from alphapose_kit.errors import AkitError

FILL = 128


def as_bgr(image: np.ndarray) -> np.ndarray:
    """Check a frame is a non-empty uint8 image; grey (H, W) and BGRA (H, W, 4) become BGR (H, W, 3)."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        kind = image.dtype if isinstance(image, np.ndarray) else type(image).__name__
        raise AkitError(f"detector frames must be uint8 numpy images (BGR, as cv2.imread gives), got {kind}")
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] == 0 or image.shape[1] == 0:
        raise AkitError(f"detector frames must be H x W x 3 BGR images, got shape {image.shape}")
    return image


def letterbox_geometry(width: int, height: int, size: int) -> tuple[float, int, int, int, int]:
    """(f, new_w, new_h, paste_x, paste_y) for a width x height image in a size x size letterbox."""
    f = min(size / width, size / height)
    new_w = max(1, int(width * f))  # max(1, .): AlphaPose would crash on a 0-pixel side
    new_h = max(1, int(height * f))
    return f, new_w, new_h, (size - new_w) // 2, (size - new_h) // 2


def letterbox(image: np.ndarray, size: int, fill: int = FILL) -> np.ndarray:
    """The size x size BGR uint8 letterbox of a BGR uint8 image."""
    height, width = image.shape[:2]
    _, new_w, new_h, x0, y0 = letterbox_geometry(width, height, size)
    canvas = np.full((size, size, 3), fill, np.uint8)
    canvas[y0 : y0 + new_h, x0 : x0 + new_w] = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_CUBIC)
    return canvas


def letterbox_batch(
    images: Sequence[np.ndarray], size: int, device: torch.device | str = "cpu", fill: int = FILL
) -> torch.Tensor:
    """N x 3 x size x size float32 network input: letterboxed, BGR -> RGB, divided by 255."""
    return _rgb_tensor(np.stack([letterbox(image, size, fill) for image in images]), device)


def _rgb_tensor(batch: np.ndarray, device: torch.device | str) -> torch.Tensor:
    """N x S x S x 3 BGR uint8 -> N x 3 x S x S float32 RGB / 255 on ``device``."""
    # Move uint8 (4x less to copy), then flip channels and scale on the device; x/255 is exact IEEE either way.
    tensor = torch.from_numpy(batch).to(device).permute(0, 3, 1, 2).flip(1)
    return tensor.float().div_(255.0).contiguous()


def alphapose_scale(width: int, height: int, size: int) -> np.float32:
    """min(S/w, S/h) exactly as AlphaPose's detector APIs compute it to map boxes back: ``inp_dim / orig_dim`` with a
    Python int over a float32 tensor, which torch evaluates as the float32 reciprocal times the int, one ulp away from
    S/w for some sizes (640 / 500 gives 1.28000009, not 1.27999997)."""
    one, s = np.float32(1), np.float32(size)
    return min(s * (one / np.float32(width)), s * (one / np.float32(height)))


def unletterbox_boxes(boxes: np.ndarray, width: int, height: int, size: int) -> np.ndarray:
    """Map float32 (M, 4) x1, y1, x2, y2 from letterbox pixels back to the width x height image, clamped."""
    w, h, s = np.float32(width), np.float32(height), np.float32(size)
    f = alphapose_scale(width, height, size)  # float32 throughout, as AlphaPose computes it on float32 tensors
    out = np.array(boxes, dtype=np.float32, copy=True).reshape(-1, 4)
    out[:, [0, 2]] -= (s - f * w) / np.float32(2)
    out[:, [1, 3]] -= (s - f * h) / np.float32(2)
    out /= f
    out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, w)
    out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, h)
    return out


# --- YOLOX's input (AlphaPose detector/yolox/utils/preprocess.py ``preproc``, Megvii's ValTransform) -------------

PAD_FILL = 114


def pad_image(image: np.ndarray, size: int, fill: int = PAD_FILL) -> np.ndarray:
    """YOLOX's size x size input: resized by r = min(S/h, S/w) (cv2 INTER_LINEAR) to (int(w*r), int(h*r)) and put at
    the TOP-LEFT corner of a canvas filled with 114; the colours stay BGR."""
    height, width = image.shape[:2]
    r = min(size / height, size / width)
    new_w, new_h = max(1, int(width * r)), max(1, int(height * r))
    canvas = np.full((size, size, 3), fill, np.uint8)
    canvas[:new_h, :new_w] = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    return canvas


def pad_batch(images: Sequence[np.ndarray], size: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """N x 3 x size x size float32 YOLOX input: :func:`pad_image`, BGR, pixel values 0-255 (no scaling)."""
    batch = np.stack([pad_image(image, size) for image in images])
    return torch.from_numpy(batch).to(device).permute(0, 3, 1, 2).float().contiguous()


def unpad_boxes(boxes: np.ndarray, width: int, height: int, size: int) -> np.ndarray:
    """Map float32 (M, 4) x1, y1, x2, y2 from YOLOX input pixels back to the image: divided by
    :func:`alphapose_scale` as AlphaPose's yolox_api does, then clamped to [0, w] x [0, h]."""
    w, h = np.float32(width), np.float32(height)
    out = np.array(boxes, dtype=np.float32, copy=True).reshape(-1, 4) / alphapose_scale(width, height, size)
    out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, w)
    out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, h)
    return out


# --- Ultralytics' letterbox (ultralytics/data/augment.py ``LetterBox``, auto=False; utils/ops.py ``scale_boxes``) ---


def ultralytics_geometry(width: int, height: int, size: int) -> tuple[int, int, int, int]:
    """(new_w, new_h, left, top): r = min(S/h, S/w), sides round(w*r), round(h*r) (at least 1), the padding split as
    round(d/2 - 0.1) before and the rest after, d being the pixels left over on that axis."""
    r = min(size / height, size / width)
    new_w, new_h = max(round(width * r), 1), max(round(height * r), 1)
    return new_w, new_h, round((size - new_w) / 2 - 0.1), round((size - new_h) / 2 - 0.1)


def ultralytics_letterbox(image: np.ndarray, size: int, fill: int = PAD_FILL) -> np.ndarray:
    """The size x size BGR uint8 input Ultralytics' predictor makes with ``rect=False``: resized with cv2
    INTER_LINEAR (skipped when the size already fits), centred on a canvas filled with 114."""
    height, width = image.shape[:2]
    new_w, new_h, left, top = ultralytics_geometry(width, height, size)
    resized = image if (width, height) == (new_w, new_h) else cv2.resize(image, (new_w, new_h), cv2.INTER_LINEAR)
    canvas = np.full((size, size, 3), fill, np.uint8)
    canvas[top : top + new_h, left : left + new_w] = resized
    return canvas


def ultralytics_letterbox_batch(
    images: Sequence[np.ndarray], size: int, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """N x 3 x size x size float32 YOLOv8 / YOLO11 input: :func:`ultralytics_letterbox`, BGR -> RGB, divided by 255."""
    return _rgb_tensor(np.stack([ultralytics_letterbox(image, size) for image in images]), device)


def ultralytics_unletterbox_boxes(boxes: np.ndarray, width: int, height: int, size: int) -> np.ndarray:
    """Map float32 (M, 4) x1, y1, x2, y2 from Ultralytics' letterbox back to the image as ``scale_boxes`` does: minus
    the integer padding, divided by each axis' own gain new_side / side, clamped to [0, w] x [0, h]."""
    new_w, new_h, left, top = ultralytics_geometry(width, height, size)
    out = np.array(boxes, dtype=np.float32, copy=True).reshape(-1, 4)
    out[:, [0, 2]] = (out[:, [0, 2]] - np.float32(left)) / np.float32(new_w / width)
    out[:, [1, 3]] = (out[:, [1, 3]] - np.float32(top)) / np.float32(new_h / height)
    out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, np.float32(width))
    out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, np.float32(height))
    return out
