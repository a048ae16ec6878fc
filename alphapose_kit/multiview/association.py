"""Which tracks of different cameras are the same person, by reprojection error.

For every pair of tracks of two cameras, their joints on the frames both saw are triangulated from those two views
and reprojected; the pair's cost is the median reprojection error in pixels. Pairs are then merged cheapest first
into people (union-find), never giving a person two tracks of one camera on the same frame, and never across a pair
costlier than ``max_error`` (Pose2Sim's personAssociation.py also keeps the views of least reprojection error, with
20 px as its default bound). Tracks must already be on the common time base (offsets applied)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from alphapose_kit.multiview.camera import Camera
from alphapose_kit.multiview.triangulate import dlt, reprojection_errors

MAX_PAIR_FRAMES = 300  # frames a pair's cost is measured on (evenly spread): enough for a median


class Track2D(Protocol):
    """One camera's person over time (``analysis.series.Track`` is one)."""

    track_id: int
    frames: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray


@dataclass
class Person:
    """A person seen by several cameras: ``members`` (camera index, track) pairs."""

    members: list[tuple[int, Track2D]]

    @property
    def first_frame(self) -> int:
        """The first frame any member was seen on."""
        return int(min(t.frames[0] for _, t in self.members))


def pair_cost(cams: tuple[Camera, Camera], a: Track2D, b: Track2D, min_score: float = 0.3) -> float:
    """Median reprojection error (pixels) of ``a`` and ``b``'s joints triangulated from their two views on the
    frames both saw; inf when they share no frame with a joint both scored at least ``min_score``."""
    _, ia, ib = np.intersect1d(a.frames, b.frames, return_indices=True)
    if not ia.size:
        return float("inf")
    pick = np.unique(np.linspace(0, ia.size - 1, min(ia.size, MAX_PAIR_FRAMES)).round().astype(int))
    ia, ib = ia[pick], ib[pick]
    pix = np.stack([a.keypoints[ia].reshape(-1, 2), b.keypoints[ib].reshape(-1, 2)], axis=1)
    sc = np.stack([a.scores[ia].reshape(-1), b.scores[ib].reshape(-1)], axis=1)
    ok = (sc >= min_score).all(axis=1) & np.isfinite(pix).all(axis=(1, 2))
    if not ok.any():
        return float("inf")
    norm = np.stack([cams[0].normalise(pix[ok, 0]), cams[1].normalise(pix[ok, 1])], axis=1)
    ext = np.stack([cams[0].extrinsic, cams[1].extrinsic])
    points = dlt(ext, norm, np.ones(norm.shape[:2]))
    err = reprojection_errors(ext, np.array([cams[0].focal, cams[1].focal]), norm, points).mean(axis=1)
    err = err[np.isfinite(err)]
    return float(np.median(err)) if err.size else float("inf")


def _overlaps(group: list[tuple[int, Track2D]], other: list[tuple[int, Track2D]]) -> bool:
    for cam, track in group:
        for cam2, track2 in other:
            if cam == cam2 and np.intersect1d(track.frames, track2.frames).size:
                return True
    return False


def associate(
    cameras: list[Camera], views: Sequence[Sequence[Track2D]], max_error: float = 20.0, min_score: float = 0.3
) -> list[Person]:
    """People seen by at least two cameras, from each camera's tracks (``views[c]``), ordered by first frame."""
    pairs = []
    for c1 in range(len(views)):
        for c2 in range(c1 + 1, len(views)):
            for i, a in enumerate(views[c1]):
                for j, b in enumerate(views[c2]):
                    cost = pair_cost((cameras[c1], cameras[c2]), a, b, min_score)
                    if cost <= max_error:
                        pairs.append((cost, (c1, i), (c2, j)))
    nodes = [(c, i) for c in range(len(views)) for i in range(len(views[c]))]
    group_of = {node: n for n, node in enumerate(nodes)}
    groups = {n: [node] for n, node in enumerate(nodes)}
    for _, u, v in sorted(pairs, key=lambda p: p[0]):
        gu, gv = group_of[u], group_of[v]
        if gu == gv:
            continue
        members_u = [(c, views[c][k]) for c, k in groups[gu]]
        members_v = [(c, views[c][k]) for c, k in groups[gv]]
        if _overlaps(members_u, members_v):
            continue
        for node in groups.pop(gv):
            group_of[node] = gu
            groups[gu].append(node)
    people = [Person([(c, views[c][k]) for c, k in sorted(group)]) for group in groups.values() if len(group) > 1]
    return sorted(people, key=lambda p: (p.first_frame, p.members[0][0], p.members[0][1].track_id))


def gather(person: Person, num_cameras: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The frames a person was seen on (F,), their pixels (F, K, C, 2) (NaN where a camera missed them) and joint
    scores (F, K, C) (0 there)."""
    frames = np.unique(np.concatenate([t.frames for _, t in person.members]))
    k = person.members[0][1].keypoints.shape[1]
    pixels = np.full((frames.size, k, num_cameras, 2), np.nan)
    scores = np.zeros((frames.size, k, num_cameras))
    for cam, track in person.members:
        where = frames.searchsorted(track.frames)
        pixels[where, :, cam] = track.keypoints
        scores[where, :, cam] = track.scores
    return frames, pixels, scores
