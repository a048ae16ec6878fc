"""People in 3D from several cameras' 2D tracks: associate them across views, triangulate every joint of every
frame, and write ``poses3d.json`` (one record per person and frame: ``frame``, ``idx``, ``keypoints3d`` as
[x, y, z, score] per joint in the calibration's units, null coordinates and score 0 for a joint not triangulated,
and ``reprojection_error``, the mean over the joints in pixels)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from alphapose_kit.errors import AkitError
from alphapose_kit.io.atomic import atomic_write_text
from alphapose_kit.multiview.association import Track2D, associate, gather
from alphapose_kit.multiview.camera import Camera
from alphapose_kit.multiview.triangulate import triangulate

POSES3D_NAME = "poses3d.json"


@dataclass
class Person3D:
    """One person in 3D: ``idx`` (1, 2, ... by first appearance), frames (F,), points (F, K, 3), scores (F, K) and
    reprojection errors (F, K) in pixels; NaN points (score 0) where a joint could not be triangulated."""

    idx: int
    frames: np.ndarray
    points: np.ndarray
    scores: np.ndarray
    errors: np.ndarray


def reconstruct(
    cameras: list[Camera],
    views: Sequence[Sequence[Track2D]],
    min_score: float = 0.3,
    max_error: float = 15.0,
    association_error: float = 20.0,
) -> list[Person3D]:
    """Everyone seen by two cameras or more, triangulated frame by frame (views scored below ``min_score`` unused;
    views disagreeing by more than ``max_error`` pixels dropped, see :func:`triangulate`)."""
    people = associate(cameras, views, association_error, min_score)
    if not people:
        raise AkitError(
            f"no person is seen by two cameras at the same frames within {association_error:g} px; check the "
            "offsets (--offset / --sync auto), the camera order (--camera) and the calibration"
        )
    out = []
    for n, person in enumerate(people, start=1):
        frames, pixels, scores = gather(person, len(cameras))
        f, k = scores.shape[:2]
        tri = triangulate(cameras, pixels.reshape(f * k, -1, 2), scores.reshape(f * k, -1), min_score, max_error)
        out.append(Person3D(n, frames, tri.points.reshape(f, k, 3), tri.scores.reshape(f, k), tri.errors.reshape(f, k)))
    return out


def poses3d_records(people: list[Person3D]) -> list[dict[str, Any]]:
    """The ``poses3d.json`` records, by frame then idx; frames where nothing of a person was triangulated are left
    out."""
    records = []
    for person in people:
        for i, frame in enumerate(person.frames.tolist()):
            ok = np.isfinite(person.points[i]).all(axis=1)
            if not ok.any():
                continue
            kps: list[float | None] = []
            for j in range(ok.size):
                if ok[j]:
                    kps.extend(
                        [*(round(float(v), 6) for v in person.points[i, j]), round(float(person.scores[i, j]), 4)]
                    )
                else:
                    kps.extend([None, None, None, 0.0])
            error = float(np.nanmean(person.errors[i][ok]))
            records.append(
                {"frame": int(frame), "idx": person.idx, "keypoints3d": kps, "reprojection_error": round(error, 4)}
            )
    return sorted(records, key=lambda r: (r["frame"], r["idx"]))


def write_poses3d(path: str | Path, people: list[Person3D]) -> Path:
    """Write ``poses3d.json`` atomically."""
    return atomic_write_text(path, json.dumps(poses3d_records(people), allow_nan=False))
