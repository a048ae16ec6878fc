"""OpenSim's TRC marker files (tab-separated; the layout Pose2Sim's triangulation.py ``make_trc`` and Sports2D
write): a ``PathFileType`` line, the header names ``DataRate CameraRate NumFrames NumMarkers Units OrigDataRate
OrigDataStartFrame OrigNumFrames`` and their values, ``Frame#  Time`` and the marker names (each over its X Y Z
columns), the ``X1 Y1 Z1 ...`` line, then one row per frame. A missing marker is left empty, as OpenSim reads it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from alphapose_kit.errors import AkitError
from alphapose_kit.io.atomic import atomic_write_text


def zup_to_yup(points: np.ndarray) -> np.ndarray:
    """(..., 3) Z-up points in OpenSim's Y-up frame: (x, y, z) -> (y, z, x), the axis turn Pose2Sim applies."""
    pts = np.asarray(points, np.float64)
    return pts[..., [1, 2, 0]]


def trc_text(names: list[str], points: np.ndarray, fps: float, frames: np.ndarray, units: str = "m",
             file_name: str = "markers.trc") -> str:  # fmt: skip
    """The TRC text of (T, M, 3) ``points`` named ``names`` at ``fps``; ``frames`` (T,) are the frame numbers
    (time = frame / fps)."""
    pts = np.asarray(points, np.float64)
    frames = np.asarray(frames)
    if pts.ndim != 3 or pts.shape[1:] != (len(names), 3) or frames.shape != pts.shape[:1]:
        raise AkitError(f"TRC needs (frames, {len(names)}, 3) points and one frame number each, got {pts.shape}")
    if not fps > 0:
        raise AkitError(f"a TRC file needs a positive frame rate, got {fps}")
    first = int(frames[0]) if frames.size else 0
    lines = [
        f"PathFileType\t4\t(X/Y/Z)\t{file_name}",
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
        f"{fps:g}\t{fps:g}\t{pts.shape[0]}\t{len(names)}\t{units}\t{fps:g}\t{first}\t{pts.shape[0]}",
        "Frame#\tTime\t" + "\t\t\t".join(names) + "\t\t",
        "\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, len(names) + 1)),
    ]
    for frame, row in zip(frames.tolist(), pts.reshape(pts.shape[0], -1), strict=True):
        values = "\t".join("" if not np.isfinite(v) else f"{v:.6f}" for v in row.tolist())
        lines.append(f"{int(frame)}\t{frame / fps:.6f}\t{values}")
    return "\n".join(lines) + "\n"


def write_trc(path: str | Path, names: list[str], points: np.ndarray, fps: float, frames: np.ndarray,
              units: str = "m") -> Path:  # fmt: skip
    """Write a TRC file atomically (see :func:`trc_text`)."""
    return atomic_write_text(path, trc_text(names, points, fps, frames, units, Path(path).name))
