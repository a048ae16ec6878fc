"""Time offsets between cameras from the people's motion, as Pose2Sim's synchronization.py does it: per camera, the
summed absolute vertical speed of every confidently seen joint, low-passed (zero-phase Butterworth, 6 Hz); each
camera's offset is the lag that maximises Pearson's r with the reference camera (the one with the fewest frames).

An offset o means the camera's frame f shows what the reference shows at frame f - o."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.signal import correlate, correlation_lags

from alphapose_kit.analysis.cleaning import butterworth
from alphapose_kit.errors import AkitError
from alphapose_kit.multiview.association import Track2D


def motion_signal(tracks: Sequence[Track2D], fps: float, min_score: float = 0.4) -> np.ndarray:
    """(F,) summed |vertical speed| (pixels per frame) of the joints of ``tracks`` scored at least ``min_score`` on
    two consecutive frames, F = the last frame + 1, low-passed at 6 Hz (or at 0.4 x the frame rate when below 15)."""
    length = int(max((int(t.frames[-1]) for t in tracks if len(t.frames)), default=-1)) + 1
    signal = np.zeros(max(length, 0))
    for track in tracks:
        step = np.diff(track.frames) == 1
        dy = np.abs(np.diff(track.keypoints[..., 1], axis=0))
        ok = (track.scores[1:] >= min_score) & (track.scores[:-1] >= min_score) & step[:, None] & np.isfinite(dy)
        np.add.at(signal, track.frames[1:], np.where(ok, dy, 0.0).sum(axis=1))
    if signal.size > 12:
        signal = butterworth(signal, fps, cutoff=min(6.0, 0.4 * fps))
    return signal


def best_lag(reference: np.ndarray, other: np.ndarray, max_offset: int, min_overlap: int) -> tuple[int, float]:
    """The lag L (``other[f + L]`` matches ``reference[f]``), |L| <= ``max_offset``, of greatest Pearson r over at
    least ``min_overlap`` common frames, and that r."""
    x, y = np.asarray(reference, np.float64), np.asarray(other, np.float64)
    n, m = x.size, y.size
    lags = correlation_lags(m, n)
    sxy = correlate(y, x, mode="full", method="fft")  # sum over f of y[f + L] * x[f]
    start = np.maximum(0, -lags)
    stop = np.minimum(n, m - lags)
    count = stop - start
    cx, cxx = np.concatenate([[0], np.cumsum(x)]), np.concatenate([[0], np.cumsum(x * x)])
    cy, cyy = np.concatenate([[0], np.cumsum(y)]), np.concatenate([[0], np.cumsum(y * y)])
    valid = (count >= max(min_overlap, 2)) & (np.abs(lags) <= max_offset)
    if not valid.any():
        raise AkitError("the cameras' recordings overlap too little to synchronise them; pass --offset")
    lags, sxy, start, stop, count = lags[valid], sxy[valid], start[valid], stop[valid], count[valid]
    sx, sxx = cx[stop] - cx[start], cxx[stop] - cxx[start]
    sy, syy = cy[stop + lags] - cy[start + lags], cyy[stop + lags] - cyy[start + lags]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (sxy - sx * sy / count) / np.sqrt((sxx - sx**2 / count) * (syy - sy**2 / count))
    r = np.where(np.isfinite(r), r, -np.inf)
    best = int(np.argmax(r))
    if not np.isfinite(r[best]):
        raise AkitError("nobody moves in the videos, so they cannot be synchronised automatically; pass --offset")
    return int(lags[best]), float(r[best])


def sync_offsets(signals: list[np.ndarray], max_offset: int | None = None) -> list[int]:
    """Each camera's offset in frames (the reference camera's is 0) from per-camera motion signals; by default lags
    up to half the reference's length are searched, with at least half of it overlapping."""
    ref = int(np.argmin([s.size for s in signals]))
    half = signals[ref].size // 2
    limit = half if max_offset is None else max_offset
    offsets = []
    for i, signal in enumerate(signals):
        offsets.append(0 if i == ref else best_lag(signals[ref], signal, limit, max(half, 2))[0])
    return offsets
