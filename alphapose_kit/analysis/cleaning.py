"""Cleaning of per-track 2D keypoint signals before any angle: gap filling, Hampel outliers, low-pass filtering and
left/right swap repair.

The defaults follow Pose2Sim and Sports2D (Pagnon et al., JOSS 2022 / 2024; their filtering.py and Config.toml):
linear interpolation of gaps shorter than ``max_gap`` frames (Pose2Sim: 20; no extrapolation), a Hampel filter over
7 frames at 30 fps with a 2-sigma threshold (sigma = 1.4826 * MAD), then a zero-phase 4th-order Butterworth at 6 Hz,
which is a 2nd-order design run forwards and backwards by ``scipy.signal.filtfilt``. Every function takes a (T, ...)
array whose first axis is time, sampled on consecutive frames, with NaN for a missing value; NaN never becomes a
made-up number except inside a filled gap.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from alphapose_kit.analysis.series import Track
from alphapose_kit.errors import AkitError

FILTERS = ("butterworth", "one-euro", "savgol", "none")


def _columns(x: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    arr = np.asarray(x, np.float64)
    return arr.reshape(arr.shape[0], -1).copy(), arr.shape


def _runs(valid: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True in a 1-D boolean array."""
    edges = np.diff(np.concatenate([[0], valid.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def fill_gaps(x: np.ndarray, max_gap: int) -> np.ndarray:
    """Linearly interpolate interior runs of fewer than ``max_gap`` NaN frames in each column of (T, ...) ``x``;
    longer gaps, and gaps at either end (no extrapolation), stay NaN."""
    if max_gap < 0:
        raise AkitError(f"--max-gap must be 0 or more frames, got {max_gap}")
    cols, shape = _columns(x)
    frames = np.arange(cols.shape[0])
    for c in range(cols.shape[1]):
        col = cols[:, c]
        valid = np.isfinite(col)
        if valid.sum() < 2:
            continue
        for start, stop in _runs(~valid):
            if start > 0 and stop < col.size and stop - start < max_gap:
                col[start:stop] = np.interp(frames[start:stop], frames[valid], col[valid])
    return cols.reshape(shape)


def hampel(x: np.ndarray, window: int = 7, n_sigmas: float = 2.0) -> np.ndarray:
    """Replace each sample farther than ``n_sigmas`` robust sigmas (1.4826 * MAD) from the median of the ``window``
    frames centred on it by that median (Hampel 1974); NaNs are ignored in the window and stay NaN."""
    if window < 3:
        raise AkitError(f"the Hampel window must be at least 3 frames, got {window}")
    cols, shape = _columns(x)
    half = window // 2
    padded = np.pad(cols, ((half, half), (0, 0)), constant_values=np.nan)
    windows = sliding_window_view(padded, 2 * half + 1, axis=0)  # (T, C, W)
    median = _window_median(windows)
    sigma = 1.4826 * _window_median(np.abs(windows - median[..., None]))
    outlier = np.abs(cols - median) > n_sigmas * sigma
    cols[outlier] = median[outlier]
    return cols.reshape(shape)


def _window_median(windows: np.ndarray) -> np.ndarray:
    """Median over the last axis ignoring NaN (NaN when all are): plain median where no NaN (much faster)."""
    holes = np.isnan(windows).any(axis=-1)
    out = np.median(windows, axis=-1)
    if holes.any():
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows: the median stays NaN
            out[holes] = np.nanmedian(windows[holes], axis=-1)
    return out


def _per_run(x: np.ndarray, min_len: int, fn) -> np.ndarray:
    """Apply ``fn`` to each run of finite samples of each column that is at least ``min_len`` long; shorter runs
    are left as they are (too short to filter)."""
    cols, shape = _columns(x)
    for c in range(cols.shape[1]):
        for start, stop in _runs(np.isfinite(cols[:, c])):
            if stop - start >= min_len:
                cols[start:stop, c] = fn(cols[start:stop, c])
    return cols.reshape(shape)


def butterworth(x: np.ndarray, fps: float, cutoff: float = 6.0, order: int = 4) -> np.ndarray:
    """Zero-phase low-pass Butterworth of total order ``order`` (a design of order/2 run forwards and backwards with
    ``scipy.signal.filtfilt``) at ``cutoff`` Hz, on each finite run of each column."""
    from scipy.signal import butter, filtfilt

    if order < 2 or order % 2:
        raise AkitError(f"the Butterworth order must be even (zero-phase doubles it), got {order}")
    if not 0 < cutoff < fps / 2:
        raise AkitError(f"--cutoff must lie between 0 and half the frame rate ({fps / 2:g} Hz), got {cutoff:g}")
    b, a = butter(order // 2, cutoff / (fps / 2))
    padlen = 3 * max(len(a), len(b))
    return _per_run(x, padlen + 1, lambda col: filtfilt(b, a, col, padlen=padlen))


def savgol(x: np.ndarray, window: int = 9, polyorder: int = 2) -> np.ndarray:
    """Savitzky-Golay smoothing (``scipy.signal.savgol_filter``) of each finite run of each column."""
    from scipy.signal import savgol_filter

    if window % 2 == 0 or polyorder >= window:
        raise AkitError(f"the Savitzky-Golay window must be odd and above the order, got {window} / {polyorder}")
    return _per_run(x, window, lambda col: savgol_filter(col, window, polyorder))


def one_euro(
    x: np.ndarray, fps: float, min_cutoff: float = 1.0, beta: float = 0.0, d_cutoff: float = 1.0
) -> np.ndarray:
    """The One Euro filter (Casiez et al., CHI 2012; as ``track.smoothing.OneEuroFilter``, but per scalar column,
    speeds in units per second) run forwards over all columns at once, restarting after each gap. Causal: it lags
    a little, unlike the zero-phase filters."""
    if min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
        raise AkitError("the One Euro cutoffs must be positive and beta not negative")
    cols, shape = _columns(x)
    out = np.full_like(cols, np.nan)
    dt = 1.0 / fps

    def alpha(cutoff: np.ndarray | float) -> np.ndarray:
        return np.asarray(1.0 / (1.0 + 1.0 / (2 * np.pi * cutoff * dt)))

    est, speed = np.zeros(cols.shape[1]), np.zeros(cols.shape[1])
    seen = np.zeros(cols.shape[1], bool)
    for t in range(cols.shape[0]):
        value = cols[t]
        ok = np.isfinite(value)
        go_on = ok & seen
        fresh = ok & ~seen
        est[fresh], speed[fresh] = value[fresh], 0.0
        raw = np.where(go_on, (value - est) / dt, 0.0)
        speed = np.where(go_on, speed + alpha(d_cutoff) * (raw - speed), speed)
        gain = alpha(min_cutoff + beta * np.abs(speed))
        est = np.where(go_on, est + gain * (value - est), est)
        out[t, ok] = est[ok]
        seen = ok
    return out.reshape(shape)


def smooth(x: np.ndarray, fps: float, method: str = "butterworth", cutoff: float = 6.0) -> np.ndarray:
    """Filter (T, ...) ``x`` by ``method`` (butterworth | one-euro | savgol | none); ``cutoff`` in Hz is the
    Butterworth cutoff and the One Euro minimum cutoff."""
    if method == "butterworth":
        return butterworth(x, fps, cutoff)
    if method == "one-euro":
        return one_euro(x, fps, min_cutoff=cutoff)
    if method == "savgol":
        return savgol(x, window=max(5, round(9 * fps / 30) | 1))
    if method == "none":
        return np.asarray(x, np.float64).copy()
    raise AkitError(f"unknown --filter {method!r}; choose one of {', '.join(FILTERS)}")


def _swap_costs(pairs: np.ndarray) -> np.ndarray:
    """(T, P, 2, 2, 2) cost at frame t of labelling frames t-2, t-1, t as kept (0) or swapped (1): the pair's summed
    acceleration where the three frames are known, else its step from frame t-1 where those two are, else 0."""
    both = np.stack([pairs, pairs[:, :, ::-1]], axis=2)  # (T, P, label, joint, xy)
    cost = np.zeros((pairs.shape[0], pairs.shape[1], 2, 2, 2))
    step = np.linalg.norm(both[1:, :, None, :] - both[:-1, :, :, None], axis=-1).sum(-1)  # (T-1, P, b, c)
    cost[1:] = np.nan_to_num(step, nan=0.0)[:, :, None]
    if pairs.shape[0] > 2:
        acc = both[2:, :, None, None, :] - 2 * both[1:-1, :, None, :, None] + both[:-2, :, :, None, None]
        acc = np.linalg.norm(acc, axis=-1).sum(-1)  # (T-2, P, a, b, c)
        cost[2:] = np.where(np.isnan(acc), cost[2:], acc)
    return cost


def repair_swaps(keypoints: np.ndarray, flip_pairs: tuple[tuple[int, int], ...] | list[tuple[int, int]]) -> np.ndarray:
    """Undo left/right swaps of a tracked person: for each flip pair, the labelling of every frame as kept or swapped
    that makes the two joints' paths smoothest (least summed acceleration, by dynamic programming over the whole
    track; a tiny cost per swapped frame keeps the original sides when both are equal, so the sides most frames had
    are taken as right); a repaired copy of (T, K, 2) ``keypoints``."""
    kps = np.asarray(keypoints, np.float64).copy()
    if not flip_pairs or kps.shape[0] < 2:
        return kps
    index = np.array(flip_pairs)  # (P, 2)
    pairs = kps[:, index]  # (T, P, 2, 2)
    eps = 1e-6 * np.arange(2)
    cost = _swap_costs(pairs) + eps  # + eps on the label of frame t (the last axis)
    t_count, p_count = pairs.shape[:2]
    best = cost[1, :, 0] + eps[None, :, None]  # (P, s0, s1)
    back = np.zeros((t_count, p_count, 2, 2), np.int64)
    for t in range(2, t_count):
        total = best[:, :, :, None] + cost[t]  # (P, a, b, c)
        back[t] = total.argmin(axis=1)
        best = total.min(axis=1)
    labels = np.zeros((t_count, p_count), np.int64)
    flat = best.reshape(p_count, 4).argmin(axis=1)
    labels[-2], labels[-1] = flat // 2, flat % 2
    for t in range(t_count - 1, 1, -1):
        labels[t - 2] = back[t, np.arange(p_count), labels[t - 1], labels[t]]
    swapped = labels.astype(bool)
    pairs[swapped] = pairs[swapped][:, ::-1]
    kps[:, index] = pairs
    return kps


def dense_track(track: Track) -> Track:
    """``track`` on every frame from its first to its last, NaN keypoints and zero scores on frames it missed."""
    frames = np.arange(int(track.frames[0]), int(track.frames[-1]) + 1) if len(track) else track.frames
    where = frames.searchsorted(track.frames) if len(track) else np.zeros(0, np.int64)
    kps = np.full((frames.size, *track.keypoints.shape[1:]), np.nan)
    scores = np.zeros((frames.size, track.scores.shape[1]))
    boxes = np.full((frames.size, 4), np.nan)
    kps[where], scores[where], boxes[where] = track.keypoints, track.scores, track.boxes
    return Track(track.track_id, frames, kps, scores, boxes)


@dataclass(frozen=True)
class CleaningOptions:
    """What :func:`clean_track` does: joints scored below ``min_score`` are dropped, swaps repaired, gaps shorter
    than ``max_gap`` frames filled, Hampel over ``hampel_window`` frames at 30 fps (0 = off), then ``filter`` at
    ``cutoff`` Hz."""

    max_gap: int = 20
    hampel_window: int = 7
    filter: str = "butterworth"
    cutoff: float = 6.0
    min_score: float = 0.4
    swaps: bool = True


def clean_track(
    track: Track,
    fps: float,
    flip_pairs: tuple[tuple[int, int], ...] = (),
    options: CleaningOptions | None = None,
) -> Track:
    """The cleaned copy of ``track`` on consecutive frames: low-score joints -> NaN, left/right swaps repaired (before
    filtering, which would blur a swap into both sides), gaps filled, Hampel outliers replaced, then low-pass filtered.
    Joints still missing keep score 0."""
    opts = options or CleaningOptions()
    if opts.filter not in FILTERS:
        raise AkitError(f"unknown --filter {opts.filter!r}; choose one of {', '.join(FILTERS)}")
    dense = dense_track(track)
    xy = np.where((dense.scores >= opts.min_score)[..., None], dense.keypoints, np.nan)
    if opts.swaps and flip_pairs:
        xy = repair_swaps(xy, flip_pairs)
    xy = fill_gaps(xy, opts.max_gap)
    if opts.hampel_window:
        xy = hampel(xy, window=max(3, round(opts.hampel_window * fps / 30)))
    xy = smooth(xy, fps, opts.filter, opts.cutoff)
    scores = np.where(np.isfinite(xy).all(axis=-1), np.maximum(dense.scores, opts.min_score), 0.0)
    return replace(dense, keypoints=xy, scores=scores)
