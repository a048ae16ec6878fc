"""COCO-WholeBody annotations read as 133 joints, and any annotation layout read into a keypoint set by joint name.

COCO-WholeBody (Jin et al., ECCV 2020; its v1.0 annotation files) keeps the 17 body joints in ``keypoints`` and the
other parts in ``foot_kpts`` (6), ``face_kpts`` (68), ``lefthand_kpts`` (21) and ``righthand_kpts`` (21), with
``foot_valid``, ``face_valid``, ``lefthand_valid``, ``righthand_valid`` flags; AlphaPose appends the parts in that
order (``alphapose/datasets/coco_wholebody.py``), which is akit's ``coco_wholebody133`` order.

Reading by name deviates on purpose from AlphaPose's mixed Halpe + COCO-WholeBody set
(``alphapose/datasets/halpe_coco_wholebody_136.py``): the original pads three zeros (head, neck, hip) and then copies
COCO-WholeBody's foot list (left big toe, left small toe, left heel, right ...) straight into Halpe's foot slots
20-25, which are ordered left big toe, right big toe, left small toe, right small toe, left heel, right heel, so four
of the six feet land on the wrong joint. akit puts every joint where its name says.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from alphapose_kit.data.keypoints import KeypointSet

#: Each COCO-WholeBody part after the body: its joint list key, its validity flag and its joint count, in file order.
WHOLEBODY_PARTS = (
    ("foot_kpts", "foot_valid", 6),
    ("face_kpts", "face_valid", 68),
    ("lefthand_kpts", "lefthand_valid", 21),
    ("righthand_kpts", "righthand_valid", 21),
)
WHOLEBODY_BODY_JOINTS = 17


def has_wholebody_parts(annotation: Mapping[str, Any]) -> bool:
    """Whether an annotation carries COCO-WholeBody's part lists (any of them)."""
    return any(key in annotation for key, _, _ in WHOLEBODY_PARTS)


def wholebody_triples(annotation: Mapping[str, Any]) -> NDArray[np.float64]:
    """The ``(133, 3)`` x, y, v of a COCO-WholeBody annotation in file order; a part that is absent or flagged
    not valid (``face_valid: false``...) is all zeros, i.e. unlabelled. ValueError on a list of the wrong length."""
    out = np.zeros((WHOLEBODY_BODY_JOINTS + sum(n for _, _, n in WHOLEBODY_PARTS), 3), np.float64)
    body = annotation.get("keypoints") or []
    if len(body) != 3 * WHOLEBODY_BODY_JOINTS:
        raise ValueError(f"'keypoints' has {len(body)} values; COCO-WholeBody keeps 17 body joints (51 values) there")
    out[:WHOLEBODY_BODY_JOINTS] = np.asarray(body, np.float64).reshape(-1, 3)
    start = WHOLEBODY_BODY_JOINTS
    for key, valid, count in WHOLEBODY_PARTS:
        values = annotation.get(key)
        if values is not None and annotation.get(valid, True):
            if len(values) != 3 * count:
                raise ValueError(f"'{key}' has {len(values)} values; it holds {count} joints ({3 * count} values)")
            out[start : start + count] = np.asarray(values, np.float64).reshape(-1, 3)
        start += count
    return out


def name_index(source: KeypointSet, target: KeypointSet) -> NDArray[np.int64]:
    """For each joint of ``target``, its index in ``source`` by joint name, -1 where ``source`` has no such joint."""
    where = {name: i for i, name in enumerate(source.names)}
    return np.array([where.get(name, -1) for name in target.names], np.int64)


def take_joints(triples: NDArray[np.float64], index: NDArray[np.int64]) -> NDArray[np.float64]:
    """``triples`` reordered by :func:`name_index`'s ``index``; joints the source lacks are zeros (unlabelled)."""
    out = np.zeros((len(index), 3), np.float64)
    found = index >= 0
    out[found] = triples[index[found]]
    return out
