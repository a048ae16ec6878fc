"""How alike two movements are, at any tempo: dynamic time warping on normalised poses.

Each frame's pose is moved to the mid-hip and divided by the track's median torso length (mid-hip to
mid-shoulder), so position and body size drop out; with ``mirror`` the reference is also tried left-right mirrored
(x flipped, left and right joints swapped) and the closer of the two is kept. Joints seen in at least half of the
frames of both movements are compared; gaps are filled by linear interpolation in time. DTW is dtaidistance's
multivariate ``dtw_ndim`` (Euclidean frame distance). d = the RMS joint deviation along the alignment in torso
lengths; similarity = 1 / (1 + (d / 0.5)^2): 1 for the same movement at any tempo, 0.5 at half a torso length.
Sequences longer than ``max_len`` frames are resampled to it first (DTW is quadratic in length).
"""

from __future__ import annotations

import warnings

import numpy as np

from alphapose_kit.analysis.angles import MIN_SCORE
from alphapose_kit.analysis.series import Track
from alphapose_kit.data.keypoints import KeypointSet
from alphapose_kit.errors import AkitError

SIMILARITY_SCALE = 0.5  # torso lengths of RMS joint deviation that give similarity 0.5
MAX_LEN = 1500


def normalised_poses(track: Track, keypoint_set: KeypointSet, min_score: float = MIN_SCORE) -> np.ndarray:
    """(T, K, 2) poses centred on the mid-hip and in torso lengths; NaN where a joint (or the hips) is missing."""
    names = keypoint_set.names
    needed = ("left_hip", "right_hip", "left_shoulder", "right_shoulder")
    if any(n not in names for n in needed):
        raise AkitError(f"keypoint set {keypoint_set.name} lacks hips or shoulders: compare needs them")
    lh, rh, ls, rs = (names.index(n) for n in needed)
    pts = np.where((track.scores >= min_score)[..., None], track.keypoints, np.nan)
    hip = (pts[:, lh] + pts[:, rh]) / 2
    shoulder = (pts[:, ls] + pts[:, rs]) / 2
    torso = np.hypot(*(shoulder - hip).T)
    if not np.isfinite(torso).any():
        raise AkitError(f"track {track.track_id}: hips and shoulders are never both seen; cannot normalise")
    scale = float(np.nanmedian(torso))
    if scale <= 0:
        raise AkitError(f"track {track.track_id}: zero torso length; cannot normalise")
    return (pts - hip[:, None]) / scale


def mirrored(poses: np.ndarray, keypoint_set: KeypointSet) -> np.ndarray:
    """Left-right mirror of normalised poses: x negated, left and right joints swapped."""
    out = poses[:, keypoint_set.flip_permutation()].copy()
    out[..., 0] *= -1
    return out


def _fill(poses: np.ndarray) -> np.ndarray:
    """Linear interpolation over time of each coordinate's NaN gaps (ends held)."""
    flat = poses.reshape(poses.shape[0], -1).copy()
    x = np.arange(flat.shape[0])
    for c in range(flat.shape[1]):
        ok = np.isfinite(flat[:, c])
        if ok.any() and not ok.all():
            flat[:, c] = np.interp(x, x[ok], flat[ok, c])
    return flat.reshape(poses.shape)


def _resample(poses: np.ndarray, max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_len`` frames by linear interpolation; also the source position of each output frame."""
    n = poses.shape[0]
    if n <= max_len:
        return poses, np.arange(n, dtype=np.float64)
    pos = np.linspace(0, n - 1, max_len)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    w = (pos - lo)[:, None, None]
    return poses[lo] * (1 - w) + poses[hi] * w, pos


def _dtw(a: np.ndarray, b: np.ndarray) -> tuple[float, list[tuple[int, int]]]:
    from dtaidistance import dtw_ndim

    path, distance = dtw_ndim.warping_path(
        np.ascontiguousarray(a, np.float64), np.ascontiguousarray(b, np.float64), include_distance=True, use_c=True
    )
    return float(distance), [(int(i), int(j)) for i, j in path]


def compare_tracks(
    a: Track,
    b: Track,
    keypoint_set: KeypointSet,
    mirror: bool = False,
    min_score: float = MIN_SCORE,
    max_len: int = MAX_LEN,
) -> dict:
    """Similarity of movement ``a`` to reference ``b``: similarity, DTW distance, alignment path (frame pairs),
    per-joint RMS deviation (torso lengths) and whether the mirrored reference was closer."""
    pa = normalised_poses(a, keypoint_set, min_score)
    pb = normalised_poses(b, keypoint_set, min_score)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        seen = (np.isfinite(pa[..., 0]).mean(axis=0) >= 0.5) & (np.isfinite(pb[..., 0]).mean(axis=0) >= 0.5)
    joints = np.flatnonzero(seen)
    if joints.size < 2:
        raise AkitError("the two movements share fewer than 2 joints seen in half of their frames")
    pa_r, pos_a = _resample(_fill(pa), max_len)
    candidates = [(False, pb)] + ([(True, mirrored(pb, keypoint_set))] if mirror else [])
    best = None
    for flipped, poses_b in candidates:
        pb_r, pos_b = _resample(_fill(poses_b), max_len)
        distance, path = _dtw(pa_r[:, joints].reshape(len(pa_r), -1), pb_r[:, joints].reshape(len(pb_r), -1))
        if best is None or distance < best[0]:
            best = (distance, path, flipped, pb_r, pos_b)
    assert best is not None
    distance, path, flipped, pb_r, pos_b = best
    ia = np.array([i for i, _ in path])
    ib = np.array([j for _, j in path])
    dev = np.hypot(*(pa_r[ia][:, joints] - pb_r[ib][:, joints]).transpose(2, 0, 1))  # (steps, joints)
    rms = float(np.sqrt(np.mean(dev**2)))
    frames_a = a.frames[np.rint(pos_a[ia]).astype(int)]
    frames_b = b.frames[np.rint(pos_b[ib]).astype(int)]
    return {
        "track_a": a.track_id,
        "track_b": b.track_id,
        "similarity": float(1.0 / (1.0 + (rms / SIMILARITY_SCALE) ** 2)),
        "dtw_distance": distance,
        "rms_deviation_torso": rms,
        "mirrored": flipped,
        "joints": [keypoint_set.names[j] for j in joints],
        "per_joint_deviation": {
            keypoint_set.names[j]: float(np.sqrt(np.mean(dev[:, n] ** 2))) for n, j in enumerate(joints)
        },
        "path": [[int(x), int(y)] for x, y in zip(frames_a, frames_b, strict=True)],
    }
