"""COCO-WholeBody's metric per part (body, foot, face, left hand, right hand, whole body) on pycocotools.

COCO-WholeBody (Jin et al., ECCV 2020) scores each part as its own keypoint task: the OKS over that part's joints
with that part's sigmas, the person's area as scale, a ground truth ignored when the part has no labelled joint and a
detection left out when none of its part's joints scores above 0, and the overall ``score`` ranking detections for
every part (its reference, xtcocotools' ``COCOeval`` with ``iouType='keypoints_<part>'``; a test checks the numbers
against it). Annotations keep the parts in separate fields (``keypoints`` = body, ``foot_kpts``, ``face_kpts``,
``lefthand_kpts``, ``righthand_kpts``); akit's results hold all K joints in ``keypoints``, in the keypoint set's
order, which :class:`KeypointSet.parts` slices.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from alphapose_kit.data.keypoints import KeypointSet
from alphapose_kit.data.wholebody import COCO_WHOLEBODY_FIELDS
from alphapose_kit.errors import AkitError
from alphapose_kit.evaluation.metric import coco_index, evaluate_keypoints

WHOLEBODY_FIELDS = COCO_WHOLEBODY_FIELDS
WHOLE = "wholebody"


def wholebody_keypoints(annotation: Mapping[str, Any]) -> list[float]:
    """All 133 joints of a COCO-WholeBody annotation as one ``[x, y, v] * 133`` list (body, feet, face, hands)."""
    try:
        return [float(v) for _, key in WHOLEBODY_FIELDS for v in annotation[key]]
    except KeyError as exc:
        raise AkitError(
            f"annotation {annotation.get('id', '?')} has no {exc.args[0]!r}: not a COCO-WholeBody annotation file"
        ) from None


def is_wholebody_layout(dataset: Mapping[str, Any]) -> bool:
    """Whether the annotations keep COCO-WholeBody's separate part fields (else ``keypoints`` holds all joints)."""
    annotations = dataset.get("annotations") or [{}]
    return all(key in annotations[0] for _, key in WHOLEBODY_FIELDS[1:])


def _part_view(
    dataset: Mapping[str, Any], results: Sequence[Mapping[str, Any]], ids: np.ndarray, split: bool
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The annotation file and results cut down to one part's joints (ground truths' visible-joint counts redone,
    detections with no positive joint score dropped)."""
    annotations = []
    for ann in dataset["annotations"]:
        joints = np.asarray(wholebody_keypoints(ann) if split else ann["keypoints"], np.float64).reshape(-1, 3)[ids]
        visible = int((joints[:, 2] > 0).sum())
        annotations.append({**ann, "keypoints": joints.reshape(-1).tolist(), "num_keypoints": visible})
    dts = []
    for result in results:
        joints = np.asarray(result["keypoints"], np.float64).reshape(-1, 3)[ids]
        if (joints[:, 2] > 0).any():
            dts.append({**result, "keypoints": joints.reshape(-1).tolist()})
    return {**dataset, "annotations": annotations}, dts


def evaluate_wholebody(
    dataset: Mapping[str, Any],
    results: Sequence[Mapping[str, Any]],
    keypoint_set: KeypointSet,
    image_ids: Iterable[int] | None = None,
) -> dict[str, dict[str, float]]:
    """COCO's ten numbers for every part of ``keypoint_set`` and for all its joints (``wholebody``).

    ``dataset`` is the loaded annotation file, in COCO-WholeBody's layout (parts in their own fields) or with all K
    joints in ``keypoints`` (Halpe's). ``results`` are COCO results with integer image ids and all K joints; a part
    that no detection has gets an AP of 0.
    """
    if not keypoint_set.parts:
        raise AkitError(f"keypoint set {keypoint_set.name!r} names no parts; per-part scores need its 'parts'")
    split = is_wholebody_layout(dataset)
    if split and keypoint_set.num_joints != 133:
        raise AkitError(
            f"a COCO-WholeBody annotation file has 133 joints; keypoint set {keypoint_set.name!r} has "
            f"{keypoint_set.num_joints}"
        )
    images = sorted(image_ids) if image_ids is not None else sorted({int(r["image_id"]) for r in results})
    sigmas = keypoint_set.sigma_array
    scores: dict[str, dict[str, float]] = {}
    for name, joints in (*keypoint_set.parts, (WHOLE, tuple(range(keypoint_set.num_joints)))):
        ids = np.asarray(joints)
        gt, dts = _part_view(dataset, results, ids, split)
        scores[name] = evaluate_keypoints(coco_index(gt), dts, images, sigmas[ids]).stats if dts else {"AP": 0.0}
    return scores
