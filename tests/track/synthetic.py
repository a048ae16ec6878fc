"""Synthetic tracking sequences with known identities, built from the annotated people of PoseTrack18 val.

Each person is one annotated pose (keypoints relative to its box) carried along a straight path; people cross, the
one further back (feet higher in the image) is missed while mostly hidden and scored low while partly hidden,
keypoints and boxes jitter, and some detections are dropped at random. The ground truth is the clean poses with
their person index as track id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from alphapose_kit.evaluation.posetrack import Poses, posetrack18_poses
from tests.paths import DATA

ANNOTATIONS = DATA / "posetrack18" / "annotations" / "test_posetrack18_val.json"


@dataclass
class Template:
    rel: np.ndarray  # (17, 2) keypoints relative to the box centre, in box heights
    labelled: np.ndarray  # (17,) bool
    head: float  # head-box diagonal in box heights


def templates() -> list[Template]:
    """The annotated people with at least 12 labelled joints, normalised by their keypoints' box."""
    data = json.loads(ANNOTATIONS.read_text())
    out = []
    for ann in data["annotations"]:
        kp = np.array(ann["keypoints"], np.float64).reshape(17, 3)
        labelled = kp[:, 2] > 0
        if labelled.sum() < 12:
            continue
        pts = kp[labelled, :2]
        lo, hi = pts.min(0), pts.max(0)
        height = hi[1] - lo[1]
        rel = np.where(labelled[:, None], (kp[:, :2] - (lo + hi) / 2) / height, 0.0)
        out.append(Template(rel, labelled, float(np.hypot(*ann["bbox_head"][2:])) / height))
    return out


@dataclass
class Walker:
    template: Template
    start: tuple[float, float]  # (x centre, y of the box centre) at frame 0
    velocity: tuple[float, float]  # pixels per frame
    height: float  # box height in pixels


def _box(points: np.ndarray) -> np.ndarray:
    lo, hi = points.min(0), points.max(0)
    pad = 0.05 * (hi[1] - lo[1])
    return np.array([lo[0] - pad, lo[1] - pad, hi[0] + pad, hi[1] + pad])


def _covered(back: np.ndarray, front: np.ndarray) -> float:
    inter = np.prod(np.clip(np.minimum(back[2:], front[2:]) - np.maximum(back[:2], front[:2]), 0, None))
    return float(inter / np.prod(back[2:] - back[:2]))


def make_sequence(walkers: list[Walker], frames: int, seed: int, drop: float = 0.05, jitter: float = 0.01):
    """(ground truth Poses per frame, detections per frame as (boxes, box scores, keypoints, keypoint scores))."""
    rng = np.random.default_rng(seed)
    gt_frames, detections = [], []
    for f in range(frames):
        poses, boxes = [], []
        for w in walkers:
            centre = np.array(w.start) + f * np.array(w.velocity)
            pts = centre + w.template.rel * w.height
            poses.append(pts)
            boxes.append(_box(pts[w.template.labelled]))
        records = []
        for i, (w, pts) in enumerate(zip(walkers, poses, strict=True)):
            kp = np.concatenate([pts, w.template.labelled[:, None].astype(float)], axis=1)
            kp[~w.template.labelled] = 0
            head = w.template.head * w.height / np.sqrt(2)
            records.append((i, kp.reshape(-1).tolist(), [0, 0, head, head]))
        gt_frames.append(posetrack18_poses(records))

        det_boxes, det_scores, det_kps, det_kp_scores = [], [], [], []
        for i, (w, pts, box) in enumerate(zip(walkers, poses, boxes, strict=True)):
            covered = max(
                (_covered(box, boxes[j]) for j in range(len(walkers)) if j != i and boxes[j][3] > box[3]), default=0.0
            )
            if covered > 0.6 or rng.random() < drop:
                continue  # hidden behind someone nearer, or simply missed
            score = 0.3 if covered > 0.3 else rng.uniform(0.7, 0.95)
            noise = jitter * w.height * (3 if covered > 0.3 else 1)
            det_kps.append(pts + rng.normal(0, noise, pts.shape))
            det_kp_scores.append(np.where(w.template.labelled, rng.uniform(0.5, 0.9, 17), 0.05))
            det_boxes.append(box + rng.normal(0, 2 * jitter * w.height, 4))
            det_scores.append(score)
        detections.append(
            (
                np.array(det_boxes).reshape(-1, 4),
                np.array(det_scores),
                np.array(det_kps).reshape(-1, 17, 2),
                np.array(det_kp_scores).reshape(-1, 17),
            )
        )
    return gt_frames, detections


def crossing_scenes() -> list[tuple[list[Walker], int]]:
    """Scenes of 60 frames: people walking past each other (the one behind is hidden for a few frames), and a
    group where two people overtake a third."""
    t = templates()
    return [
        (
            [
                Walker(t[0], (660, 600), (12, 0), 360),
                Walker(t[1], (1140, 560), (-12, 0), 340),
                Walker(t[2], (650, 250), (9, 1), 200),
                Walker(t[3], (1250, 240), (-10, 0), 210),
            ],
            60,
        ),
        (
            [
                Walker(t[4], (200, 620), (15, 0), 380),
                Walker(t[5], (500, 580), (5, 0), 360),
                Walker(t[6], (1800, 300), (-14, 1), 260),
                Walker(t[7], (1500, 320), (-4, 0), 250),
            ],
            60,
        ),
    ]


def run_tracker(tracker, detections) -> list[Poses]:
    """Predicted Poses per frame (track ids from ``tracker``; joints scored below 0.4 absent, untracked poses out)."""
    out = []
    for boxes, scores, kps, kp_scores in detections:
        ids = tracker.update(boxes, scores, kps, kp_scores)
        records = []
        for m in np.flatnonzero(ids >= 0):
            triples = np.concatenate([kps[m], kp_scores[m][:, None]], axis=1)
            triples[kp_scores[m] < 0.4] = 0
            records.append((int(ids[m]), triples.reshape(-1).tolist(), None))
        out.append(posetrack18_poses(records) if records else Poses.empty())
    return out
