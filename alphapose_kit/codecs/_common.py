"""Helpers shared by the codecs: array conversion and shape checks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from numpy.typing import NDArray

F32 = np.float32
HeatmapArray = torch.Tensor | NDArray


def to_numpy(heatmaps: HeatmapArray) -> NDArray:
    """CPU NumPy view of a heatmap batch; float32 unless it already is float64."""
    if isinstance(heatmaps, torch.Tensor):
        t = heatmaps.detach()
        if t.dtype not in (torch.float32, torch.float64):
            t = t.float()
        return t.cpu().numpy()
    a = np.asarray(heatmaps)
    return a if a.dtype in (np.float32, np.float64) else a.astype(F32)


def to_cpu_tensor(heatmaps: HeatmapArray) -> torch.Tensor:
    """CPU float32 tensor of a heatmap batch given as a tensor or an array."""
    t = heatmaps.detach() if isinstance(heatmaps, torch.Tensor) else torch.from_numpy(np.asarray(heatmaps))
    return t.cpu().float()


def check_4d(shape: Sequence[int], what: str = "heatmaps") -> None:
    """Raise ValueError unless ``shape`` is (N, K, H, W)."""
    if len(shape) != 4:
        raise ValueError(f"{what} must have shape (N, K, H, W); got {tuple(shape)}")
