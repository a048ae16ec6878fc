"""Confidence-weighted DLT triangulation of many points at once, dropping views that do not agree.

Each view's 2D point is undistorted to normalised coordinates (x, y) and gives two rows w * (x P3 - P1) and
w * (y P3 - P2) of a linear system in the homogeneous 3D point, P = [R | t] and w its confidence (Hartley &
Zisserman, Multiple View Geometry, 12.2; Pose2Sim weights the rows by the likelihood the same way, common.py
``weighted_triangulation``). The solution is the eigenvector of A^T A (4 x 4) with the smallest eigenvalue, computed
for every frame and joint in one batched ``numpy.linalg.eigh``. When the mean reprojection error exceeds
``max_error`` pixels, the subsets of views with one camera fewer, then two, ... (down to ``min_views``) are tried and
the best agreeing one kept, as Pose2Sim's triangulation_from_best_cameras does; else the point is NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from alphapose_kit.errors import AkitError
from alphapose_kit.multiview.camera import Camera

CHUNK = 200_000  # points solved at once (bounds memory on long inputs)


@dataclass
class Triangulated:
    """(N, 3) points (NaN where not triangulated), (N,) mean score and mean reprojection error (pixels) of the views
    used, and (N, C) which views were used."""

    points: np.ndarray
    scores: np.ndarray
    errors: np.ndarray
    used: np.ndarray


def dlt(extrinsics: np.ndarray, norm: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(N, 3) points from (C, 3, 4) ``[R|t]``, (N, C, 2) normalised image points and (N, C) weights (0 = unused);
    NaN where fewer than two views have weight."""
    rows_x = norm[..., 0:1] * extrinsics[None, :, 2] - extrinsics[None, :, 0]  # (N, C, 4)
    rows_y = norm[..., 1:2] * extrinsics[None, :, 2] - extrinsics[None, :, 1]
    w2 = np.nan_to_num(weights)[..., None, None] ** 2
    rows_x, rows_y = np.nan_to_num(rows_x), np.nan_to_num(rows_y)
    ata = (w2 * (rows_x[..., :, None] * rows_x[..., None, :] + rows_y[..., :, None] * rows_y[..., None, :])).sum(1)
    _, vecs = np.linalg.eigh(ata)
    homog = vecs[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        points = homog[:, :3] / homog[:, 3:4]
    points[(weights > 0).sum(axis=1) < 2] = np.nan
    return points


def reprojection_errors(extrinsics: np.ndarray, focals: np.ndarray, norm: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N, C) distance in pixels between each view's undistorted point and the point reprojected into it (the
    normalised-plane distance times the camera's focal length); NaN where either is missing or behind the camera."""
    cam = np.einsum("cij,nj->nci", extrinsics[:, :, :3], points) + extrinsics[None, :, :, 3]
    with np.errstate(divide="ignore", invalid="ignore"):
        proj = cam[..., :2] / cam[..., 2:3]
    err = np.linalg.norm(proj - norm, axis=-1) * focals[None, :]
    return np.where(cam[..., 2] > 0, err, np.nan)


def _mean_error(err: np.ndarray, weights: np.ndarray) -> np.ndarray:
    used = weights > 0
    with np.errstate(invalid="ignore"):
        return np.where(used, err, 0.0).sum(axis=1) / used.sum(axis=1)


def _solve(
    extrinsics: np.ndarray, focals: np.ndarray, norm: np.ndarray, weights: np.ndarray, max_error: float, min_views: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points, mean errors and views used for one chunk: all usable views, else the best agreeing subset."""
    points = dlt(extrinsics, norm, weights)
    err = reprojection_errors(extrinsics, focals, norm, points)
    used = weights > 0
    mean = _mean_error(err, weights)
    valid = (used.sum(axis=1) >= min_views) & (mean <= max_error)
    bad = ~valid & (used.sum(axis=1) > min_views)  # a subset of at least min_views views is left to try
    cams = extrinsics.shape[0]
    best_err = np.where(valid, mean, np.inf)
    best_used = used.copy()
    best_pts = points.copy()
    if bad.any():
        idx = np.flatnonzero(bad)
        n_used = used[idx].sum(axis=1)
        found = np.zeros(idx.size, bool)
        for drop in range(1, cams - min_views + 1):  # one camera fewer, then two, ...
            level_err = np.full(idx.size, np.inf)
            level_pts = np.full((idx.size, 3), np.nan)
            level_used = np.zeros((idx.size, cams), bool)
            for keep in combinations(range(cams), cams - drop):
                mask = np.zeros(cams, bool)
                mask[list(keep)] = True
                w = np.where(mask[None], weights[idx], 0.0)
                enough = ((w > 0).sum(axis=1) == n_used - drop) & (n_used - drop >= min_views) & ~found
                if not enough.any():
                    continue
                sub = np.flatnonzero(enough)
                pts = dlt(extrinsics, norm[idx[sub]], w[sub])
                e = _mean_error(reprojection_errors(extrinsics, focals, norm[idx[sub]], pts), w[sub])
                better = e < level_err[sub]
                level_err[sub[better]] = e[better]
                level_pts[sub[better]] = pts[better]
                level_used[sub[better]] = w[sub[better]] > 0
            ok = (level_err <= max_error) & ~found
            best_err[idx[ok]] = level_err[ok]
            best_pts[idx[ok]] = level_pts[ok]
            best_used[idx[ok]] = level_used[ok]
            found |= ok
        still = idx[~found]
        best_pts[still], best_err[still], best_used[still] = np.nan, np.nan, False
    best_pts[~np.isfinite(best_err)] = np.nan
    best_used[~np.isfinite(best_err)] = False
    return best_pts, np.where(np.isfinite(best_err), best_err, np.nan), best_used


def triangulate(
    cameras: list[Camera],
    pixels: np.ndarray,
    scores: np.ndarray,
    min_score: float = 0.3,
    max_error: float = 15.0,
    min_views: int = 2,
) -> Triangulated:
    """Triangulate (N, C, 2) ``pixels`` seen by ``cameras`` with (N, C) ``scores``: views scored below
    ``min_score`` (or NaN) are unused, the rest weighted by their score; points whose mean reprojection error stays
    above ``max_error`` pixels with every subset of at least ``min_views`` views are NaN."""
    pixels = np.asarray(pixels, np.float64)
    scores = np.asarray(scores, np.float64)
    n, c = scores.shape
    if pixels.shape != (n, c, 2) or c != len(cameras):
        raise AkitError(f"{c} views of {pixels.shape} points for {len(cameras)} cameras")
    if min_views < 2:
        raise AkitError(f"triangulation needs at least 2 views, got min_views={min_views}")
    extrinsics = np.stack([cam.extrinsic for cam in cameras])
    focals = np.array([cam.focal for cam in cameras])
    norm = np.stack([cam.normalise(pixels[:, i]) for i, cam in enumerate(cameras)], axis=1)
    weights = np.where((scores >= min_score) & np.isfinite(norm).all(axis=-1), scores, 0.0)
    points, errors, used = np.full((n, 3), np.nan), np.full(n, np.nan), np.zeros((n, c), bool)
    for start in range(0, n, CHUNK):
        part = slice(start, start + CHUNK)
        points[part], errors[part], used[part] = _solve(
            extrinsics, focals, norm[part], weights[part], max_error, min_views
        )
    with np.errstate(invalid="ignore"):
        mean_score = np.where(used, scores, 0.0).sum(axis=1) / used.sum(axis=1)
    return Triangulated(points, np.where(used.any(axis=1), mean_score, 0.0), errors, used)
