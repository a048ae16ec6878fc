"""Per-frame pose results and their conversion to AlphaPose / COCO / OpenPose JSON records.

Schemas follow AlphaPose's writer (alphapose/utils/pPose_nms.py ``write_json``; Fang et al., TPAMI 2022) and
OpenPose's per-image ``pose_keypoints_2d`` layout (Cao et al., TPAMI 2019).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# COCO-17 joints in OpenPose's COCO-18 order; -1 is the neck slot (AlphaPose reads flat keypoint 17 there).
OPENPOSE_ORDER = (0, -1, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3)


@dataclass
class FrameResult:
    """Poses of one frame after pose NMS; arrays are empty (0 rows) when nobody was found."""

    frame_index: int
    image_id: str
    boxes: np.ndarray  # (M, 4) x1, y1, x2, y2 of the picked detection boxes
    box_scores: np.ndarray  # (M,)
    keypoints: np.ndarray  # (M, K, 2) image pixels
    keypoint_scores: np.ndarray  # (M, K)
    scores: np.ndarray  # (M,) AlphaPose's person score
    idx: list[Any] = field(default_factory=list)  # AlphaPose's "idx" value of each pose (see alphapose_idx)
    image_size: tuple[int, int] = (0, 0)  # (height, width)
    image: np.ndarray | None = field(default=None, repr=False, compare=False)  # the BGR frame, for rendering

    @property
    def num_people(self) -> int:
        """How many poses this frame has after pose NMS."""
        return int(self.boxes.shape[0])

    @classmethod
    def empty(cls, frame_index: int, image_id: str, num_joints: int, image_size: tuple[int, int]) -> FrameResult:
        """A frame where no person was detected: an empty list in every output, not an error."""
        return cls(
            frame_index,
            image_id,
            np.zeros((0, 4), np.float32),
            np.zeros((0,), np.float32),
            np.zeros((0, num_joints, 2), np.float32),
            np.zeros((0, num_joints), np.float32),
            np.zeros((0,), np.float32),
            [],
            image_size,
        )


def alphapose_idx(members: list[int] | np.ndarray, ids: np.ndarray | None) -> Any:
    """AlphaPose's "idx" value for a pose merged from detections ``members``.

    Network detections carry a (N, 1) tensor of zero ids, so AlphaPose writes [0.0] for one member and
    [[0.0], [0.0], ...] for several; detection-file ids are a flat int tensor (the records' "idx", 0 where
    absent), written as a bare int for one member and a flat list for several.
    """
    members = [int(j) for j in members]
    if ids is None:
        return [0.0] if len(members) == 1 else [[0.0] for _ in members]
    values = [int(ids[j]) for j in members]
    return values[0] if len(values) == 1 else values


def coco_image_id(image_id: str) -> int | str:
    """COCO's integer id from a file name (``000000000785.jpg`` -> 785, ``COCO_val2014_000000000042.jpg`` -> 42)."""
    stem = Path(image_id).stem.split("_")[-1]
    return int(stem) if stem.isdigit() else image_id


def alphapose_records(result: FrameResult, coco_ids: bool = False) -> list[dict]:
    """One AlphaPose-schema dict per person: image_id, category_id, keypoints, score, box, idx (in this order)."""
    records = []
    image_id: int | str = coco_image_id(result.image_id) if coco_ids else result.image_id
    for m in range(result.num_people):
        triples = np.concatenate([result.keypoints[m], result.keypoint_scores[m][:, None]], axis=1)
        x1, y1, x2, y2 = (float(v) for v in result.boxes[m])
        records.append(
            {
                "image_id": image_id,
                "category_id": 1,
                "keypoints": [float(v) for v in triples.reshape(-1)],
                "score": float(result.scores[m]),
                "box": [x1, y1, x2 - x1, y2 - y1],
                "idx": result.idx[m] if m < len(result.idx) else [0.0],
            }
        )
    return records


def openpose_people(result: FrameResult) -> list[dict]:
    """OpenPose's per-person dicts with COCO-18 ``pose_keypoints_2d`` (x, y, score) including the neck.

    AlphaPose appends neck = mean of joints 5 and 6 and then reads flat joint 17 into the neck slot, so for
    Halpe-26 models the slot holds "head" (facts section 5 QUIRK, reproduced).
    """
    people = []
    for m in range(result.num_people):
        triples = np.concatenate([result.keypoints[m], result.keypoint_scores[m][:, None]], axis=1)
        neck = (triples[5] + triples[6]) / 2
        extended = np.concatenate([triples, neck[None]], axis=0)
        flat = []
        for joint in OPENPOSE_ORDER:
            flat.extend(float(v) for v in extended[17 if joint == -1 else joint])
        people.append({"pose_keypoints_2d": flat})
    return people
