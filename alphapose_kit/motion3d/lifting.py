"""Lifting one person's 2D keypoint track to root-relative 3D with a VideoPose3D network.

The steps of VideoPose3D's inference (run.py ``evaluate`` with its UnchunkedGenerator, INFERENCE.md): pixel
coordinates normalised so that x in [0, w] maps to [-1, 1] with the aspect ratio kept (``X / w * 2 - [1, h / w]``),
the sequence padded at both ends by repeating its first and last frames so that every frame gets an output, and
test-time flip augmentation (the input mirrored with left/right joints swapped, the output mirrored back and
averaged). Outputs are in the camera frame in metres, relative to the root (the hip; its own output is kept as the
network predicts it, close to 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from alphapose_kit.data.h36m import H36M17
from alphapose_kit.data.keypoints import COCO17
from alphapose_kit.motion3d.videopose3d import TemporalModel


def normalise_screen(xy: np.ndarray, width: float, height: float) -> np.ndarray:
    """Pixels -> VideoPose3D's screen coordinates: x in [0, w] to [-1, 1], y scaled alike (aspect kept)."""
    return xy / width * 2 - np.array([1.0, height / width])


def _swap(array: Any, pairs: Sequence[tuple[int, int]], axis: int) -> None:
    """Swap the left/right joints of ``pairs`` along ``axis`` of a NumPy array or tensor, in place."""
    left = [a for a, _ in pairs]
    right = [b for _, b in pairs]
    index: list[slice | list[int]] = [slice(None)] * array.ndim
    source: list[slice | list[int]] = [slice(None)] * array.ndim
    index[axis], source[axis] = left + right, right + left
    array[tuple(index)] = array[tuple(source)]


@torch.no_grad()
def lift_track(
    model: TemporalModel,
    keypoints: np.ndarray,
    width: float,
    height: float,
    flip: bool = True,
    device: torch.device | None = None,
) -> np.ndarray:
    """(T, 17, 2) COCO-17 pixel keypoints of one person -> (T, 17, 3) Human3.6M joints, root-relative metres."""
    poses = np.asarray(keypoints, np.float64)
    if poses.ndim != 3 or poses.shape[1:] != (COCO17.num_joints, 2):
        raise ValueError(f"expected (T, 17, 2) COCO-17 keypoints, got {poses.shape}")
    model = model.eval()
    pad = (model.receptive_field - 1) // 2
    shift = model.causal_shift
    x = normalise_screen(poses, width, height)
    x = np.pad(x, ((pad + shift, pad - shift), (0, 0), (0, 0)), mode="edge")
    batch = x[None]
    if flip:
        mirrored = batch.copy()
        mirrored[..., 0] *= -1
        _swap(mirrored, COCO17.flip_pairs, axis=2)
        batch = np.concatenate([batch, mirrored])
    inputs = torch.from_numpy(batch.astype(np.float32))
    if device is not None:
        inputs = inputs.to(device)
    out = model(inputs)
    if flip:
        out[1, ..., 0] *= -1
        _swap(out[1], H36M17.flip_pairs, axis=1)
        out = out.mean(dim=0, keepdim=True)
    return out[0].float().cpu().numpy()
