"""Per-frame pose results and their conversion to AlphaPose / COCO / OpenPose JSON records.

Schemas follow AlphaPose's writer (alphapose/utils/pPose_nms.py ``write_json``; Fang et al., TPAMI 2022) and
OpenPose's per-image ``pose_keypoints_2d`` layout (Cao et al., TPAMI 2019).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from alphapose_kit.data.keypoints import KeypointSet
from alphapose_kit.data.wholebody import COCO_WHOLEBODY_FIELDS

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


def coco_image_id(image_id: str) -> int | None:
    """COCO's integer id in a file name (``000000000785.jpg`` -> 785, ``COCO_val2014_000000000042.jpg`` -> 42);
    None when the name holds no such number."""
    stem = Path(image_id).stem.split("_")[-1]
    return int(stem) if stem.isdigit() else None


class CocoImageIds:
    """Integer image ids for file names, as COCO result files need them; one name always gets the same id.

    A COCO-style name keeps its number (``000000000785.jpg`` -> 785) unless another name took it first; every other
    name gets the smallest unused integer from 1 up, in the order names arrive (input order: stable from run to
    run). ``mapping`` holds every name -> id given so far, to be written beside the results.
    """

    def __init__(self) -> None:
        self.mapping: dict[str, int] = {}
        self._taken: set[int] = set()
        self._next = 1

    def __call__(self, name: str) -> int:
        if name in self.mapping:
            return self.mapping[name]
        number = coco_image_id(name)
        if number is None or number in self._taken:
            while self._next in self._taken:
                self._next += 1
            number = self._next
        self._taken.add(number)
        self.mapping[name] = number
        return number


def finite_people(result: FrameResult) -> tuple[FrameResult, int]:
    """``result`` without the people whose box, keypoints or scores hold NaN or inf (JSON cannot carry them), and
    how many were left out."""
    m = result.num_people
    if m == 0:
        return result, 0
    ok = (
        np.isfinite(np.asarray(result.boxes, np.float64).reshape(m, -1)).all(axis=1)
        & np.isfinite(np.asarray(result.box_scores, np.float64).reshape(m))
        & np.isfinite(np.asarray(result.keypoints, np.float64).reshape(m, -1)).all(axis=1)
        & np.isfinite(np.asarray(result.keypoint_scores, np.float64).reshape(m, -1)).all(axis=1)
        & np.isfinite(np.asarray(result.scores, np.float64).reshape(m))
    )
    if ok.all():
        return result, 0
    keep = np.flatnonzero(ok)
    kept = dataclasses.replace(
        result,
        boxes=result.boxes[keep],
        box_scores=result.box_scores[keep],
        keypoints=result.keypoints[keep],
        keypoint_scores=result.keypoint_scores[keep],
        scores=result.scores[keep],
        idx=[result.idx[i] for i in keep if i < len(result.idx)],
    )
    return kept, m - len(keep)


def alphapose_records(result: FrameResult, image_id: int | str | None = None) -> list[dict]:
    """One AlphaPose-schema dict per person: image_id, category_id, keypoints, score, box, idx (in this order).

    ``image_id``: the value written (e.g. a COCO integer id); default the frame's own name.
    """
    records = []
    written_id: int | str = result.image_id if image_id is None else image_id
    for m in range(result.num_people):
        triples = np.concatenate([result.keypoints[m], result.keypoint_scores[m][:, None]], axis=1)
        x1, y1, x2, y2 = (float(v) for v in result.boxes[m])
        records.append(
            {
                "image_id": written_id,
                "category_id": 1,
                "keypoints": [float(v) for v in triples.reshape(-1)],
                "score": float(result.scores[m]),
                "box": [x1, y1, x2 - x1, y2 - y1],
                "idx": result.idx[m] if m < len(result.idx) else [0.0],
            }
        )
    return records


def coco_wholebody_record(record: dict, keypoint_set: KeypointSet) -> dict:
    """A COCO result of ``coco_wholebody133`` in COCO-WholeBody's result layout: ``keypoints`` holds the 17 body
    joints and ``foot_kpts``, ``face_kpts``, ``lefthand_kpts``, ``righthand_kpts`` the other parts (as its
    evaluation reads them); other sets' records are returned as they are."""
    if keypoint_set.name != "coco_wholebody133":
        return record
    flat = record["keypoints"]
    split = {key: [v for j in keypoint_set.part(part) for v in flat[3 * j : 3 * j + 3]] for part, key in
             COCO_WHOLEBODY_FIELDS}  # fmt: skip
    return {**record, **split}


# OpenPose's names for the face and hands (its JSON output): whole-body sets fill them from their parts
OPENPOSE_PARTS = (("face", "face_keypoints_2d"), ("left_hand", "hand_left_keypoints_2d"),
                  ("right_hand", "hand_right_keypoints_2d"))  # fmt: skip


def openpose_people(result: FrameResult, keypoint_set: KeypointSet | None = None) -> list[dict]:
    """OpenPose's per-person dicts with COCO-18 ``pose_keypoints_2d`` (x, y, score) including the neck, and for
    whole-body sets ``face_keypoints_2d`` (70 points: the 68 landmarks and two pupils, which AlphaPose's sets lack
    and are written as 0) and ``hand_left_keypoints_2d`` / ``hand_right_keypoints_2d`` (21 each, OpenPose's order).

    AlphaPose appends neck = mean of joints 5 and 6 and then reads flat joint 17 into the neck slot, so for
    Halpe-26 models the slot holds "head" (facts section 5 QUIRK, reproduced).
    """
    people = []
    for m in range(result.num_people):
        triples = np.concatenate([result.keypoints[m], result.keypoint_scores[m][:, None]], axis=1)
        neck = (triples[5] + triples[6]) / 2
        extended = np.concatenate([triples, neck[None]], axis=0)
        flat: list[float] = []
        for joint in OPENPOSE_ORDER:
            flat.extend(float(v) for v in extended[17 if joint == -1 else joint])
        person: dict[str, list[float]] = {"pose_keypoints_2d": flat}
        for part, key in OPENPOSE_PARTS:
            ids = keypoint_set.part(part) if keypoint_set is not None else ()
            if ids:
                values = [float(v) for j in ids for v in triples[j]]
                person[key] = values + [0.0] * 6 if part == "face" else values
        people.append(person)
    return people
