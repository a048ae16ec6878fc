"""Person boxes for the detection pass: a COCO detection file, or a detector run over the annotation's images.

AlphaPose's detection pass (``Mscoco_det``) uses every entry of the file, in file order: no score threshold and no
category check. Its box is ``[x, y, x + w, y + h]`` from the JSON numbers (float64, unclipped), its written
``bbox`` and score are the float32 values of ``torch.Tensor(...)``. A detector run writes the same file AlphaPose's
``write_coco_json`` would (YOLO at conf 0.1, NMS 0.6; images in id order; ``bbox = [x1, y1, x2 - x1, y2 - y1]``
in float32) and then goes through the same path.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from alphapose_kit.data.coco import CocoAnnotations
from alphapose_kit.errors import AkitError
from alphapose_kit.evaluation.results import ImageIds, read_json_file


@dataclass
class DetectionEntries:
    """The entries of a detection file that name an annotated image, in file order."""

    image_ids: NDArray[np.int64]  # (N,)
    xywh: NDArray[np.float64]  # (N, 4) as written in the file
    scores: NDArray[np.float64]  # (N,)
    unmatched: int = 0  # entries naming no image of the annotation file

    def __len__(self) -> int:
        return len(self.image_ids)

    @property
    def boxes(self) -> NDArray[np.float64]:
        """``[x, y, x + w, y + h]`` in float64, as ``Mscoco_det`` crops them."""
        x, y, w, h = self.xywh.T
        return np.stack([x, y, x + w, y + h], axis=1)


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def read_detections(path: str | Path, image_ids: ImageIds) -> DetectionEntries:
    """A COCO detection file (``[{"image_id", "bbox": [x, y, w, h], "score"}, ...]``) mapped onto the annotation."""
    path = Path(path)
    data = read_json_file(path, "detection file")
    return detection_entries(data, image_ids, f"detection file {path}")


def detection_entries(data: object, image_ids: ImageIds, source: str = "detections") -> DetectionEntries:
    """Checked COCO detection records -> :class:`DetectionEntries` (entries naming no annotated image are counted)."""

    def fail(problem: str) -> AkitError:
        return AkitError(f"{source}: {problem}")

    if not isinstance(data, list):
        raise fail(f"must hold a JSON list of detections, found a {type(data).__name__}")
    if not data:
        raise fail("holds no detections")
    ids, boxes, scores, unmatched = [], [], [], 0
    for n, rec in enumerate(data):
        if not isinstance(rec, dict) or any(k not in rec for k in ("image_id", "bbox", "score")):
            raise fail(f"entry {n} is not a detection {{image_id, bbox, score}}")
        bbox = rec["bbox"]
        if not isinstance(bbox, list) or len(bbox) != 4 or not all(_number(v) for v in bbox):
            raise fail(f"entry {n}: bbox must be 4 finite numbers [x, y, w, h], got {bbox!r}")
        if not _number(rec["score"]):
            raise fail(f"entry {n}: score must be a finite number, got {rec['score']!r}")
        image_id = image_ids.resolve(rec["image_id"])
        if image_id is None:
            unmatched += 1
            continue
        ids.append(image_id)
        boxes.append([float(v) for v in bbox])
        scores.append(float(rec["score"]))
    if not ids:
        raise fail(f"no entry names an image of the annotation file (first image_id {data[0]['image_id']!r})")
    return DetectionEntries(
        np.asarray(ids, np.int64), np.asarray(boxes, np.float64).reshape(-1, 4), np.asarray(scores), unmatched
    )


def detect_people(
    detector: Callable[..., Sequence[Any]],
    annotations: CocoAnnotations,
    image_dir: str | Path,
    image_ids: Sequence[int],
    batch: int = 1,
) -> list[dict[str, Any]]:
    """Run ``detector`` on ``image_ids`` (in that order) and return COCO detection records, as AlphaPose writes them."""
    records: list[dict[str, Any]] = []
    for start in range(0, len(image_ids), batch):
        chunk = list(image_ids[start : start + batch])
        frames = []
        for image_id in chunk:
            path = annotations.image_path(image_dir, image_id)
            frame = cv2.imread(str(path), cv2.IMREAD_COLOR)  # detectors take BGR frames
            if frame is None:
                raise AkitError(f"cannot read image {path}")
            frames.append(frame)
        for image_id, dets in zip(chunk, detector(frames, chunk), strict=True):
            boxes = np.asarray(dets.boxes, np.float32).reshape(-1, 4)
            for (x1, y1, x2, y2), score in zip(boxes, np.asarray(dets.scores, np.float32).reshape(-1), strict=True):
                records.append(
                    {
                        "image_id": int(image_id),
                        "category_id": 1,
                        "score": float(score),
                        "bbox": [float(x1), float(y1), float(x2 - x1), float(y2 - y1)],  # float32 differences
                    }
                )
    return records
