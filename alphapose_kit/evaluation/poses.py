"""The pose stage of an evaluation: crops made in DataLoader workers, batched forwards through the shared
:class:`~alphapose_kit.engine.estimator.PoseEstimator`, and the result records of AlphaPose's two validation passes.

Score formulas and fields follow ``scripts/validate.py`` (AlphaPose c60106d1), whose arithmetic ran under NumPy 1.x
and torch: ground-truth pass ``np.mean(s) + 1.25 * np.max(s)`` (float32 mean, float64 sum); detection pass
``det + np.mean(s) + 1.25 * np.max(s)`` in float32 (a float32 tensor plus NumPy scalars stays float32).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from torch.utils.data import DataLoader, Dataset

from alphapose_kit.data.coco import read_rgb
from alphapose_kit.data.transforms import crop_boxes
from alphapose_kit.engine.estimator import PoseEstimator
from alphapose_kit.ops import oks_pose_nms, parametric_nms_for
from alphapose_kit.ops.scores import MAX_WEIGHT, person_score
from alphapose_kit.utils.progress import progress as progress_bar

_F32 = np.float32


@dataclass
class CropJob:
    """The people of one image: their boxes (x1, y1, x2, y2, float64) and the result rows they fill."""

    image_id: int
    path: Path
    boxes: NDArray[np.float64]
    rows: NDArray[np.int64]


def crop_jobs(
    image_ids: Sequence[int] | np.ndarray, boxes: NDArray[np.float64], paths: dict[int, Path]
) -> list[CropJob]:
    """Rows grouped by image (images in first-appearance order, rows in order): one image read per image."""
    order: dict[int, list[int]] = {}
    for row, image_id in enumerate(image_ids):
        order.setdefault(int(image_id), []).append(row)
    return [
        CropJob(image_id, paths[image_id], boxes[rows], np.asarray(rows, np.int64)) for image_id, rows in order.items()
    ]


class CropDataset(Dataset):
    """Item i = the normalised crops, crop boxes and rows of job i (AlphaPose's ``test_transform`` per box)."""

    def __init__(self, jobs: Sequence[CropJob], input_size: Sequence[int]) -> None:
        self.jobs = list(jobs)
        self.input_size = (int(input_size[0]), int(input_size[1]))

    def __len__(self) -> int:
        return len(self.jobs)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        job = self.jobs[index]
        crops, cropped = crop_boxes(read_rgb(job.path), job.boxes, self.input_size)
        return crops, cropped, job.rows


def _as_is(item: Any) -> Any:
    return item


@dataclass
class PoseOutputs:
    """Decoded poses of some rows: keypoints (R, K, 2) and joint scores (R, K) float32, crop boxes (R, 4)."""

    rows: NDArray[np.int64]
    keypoints: NDArray[np.float32]
    scores: NDArray[np.float32]
    crop_boxes: NDArray[np.float32]

    @classmethod
    def concat(cls, parts: Sequence[PoseOutputs], num_joints: int) -> PoseOutputs:
        """All parts in one, sorted by row."""
        if not parts:
            z = np.zeros
            return cls(z(0, np.int64), z((0, num_joints, 2), _F32), z((0, num_joints), _F32), z((0, 4), _F32))
        rows = np.concatenate([p.rows for p in parts])
        order = np.argsort(rows, kind="stable")
        return cls(
            rows[order],
            np.concatenate([p.keypoints for p in parts])[order],
            np.concatenate([p.scores for p in parts])[order],
            np.concatenate([p.crop_boxes for p in parts])[order],
        )


def estimate(
    estimator: PoseEstimator,
    jobs: Sequence[CropJob],
    input_size: Sequence[int],
    workers: int = 0,
    progress: bool = False,
    description: str = "pose",
) -> PoseOutputs:
    """Crop every job in ``workers`` DataLoader processes and run the pose network in batches of ``estimator.batch``."""
    loader = DataLoader(
        CropDataset(jobs, input_size), batch_size=None, shuffle=False, num_workers=workers, collate_fn=_as_is
    )
    parts: list[PoseOutputs] = []
    pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    waiting = 0

    def flush(final: bool) -> None:
        nonlocal pending, waiting
        crops = np.concatenate([p[0] for p in pending])
        boxes = np.concatenate([p[1] for p in pending])
        rows = np.concatenate([p[2] for p in pending])
        take = len(crops) if final else len(crops) // estimator.batch * estimator.batch
        keypoints, scores = estimator(crops[:take], boxes[:take])
        parts.append(PoseOutputs(rows[:take], keypoints, scores, boxes[:take]))
        pending = [(crops[take:], boxes[take:], rows[take:])] if take < len(crops) else []
        waiting = len(crops) - take

    with progress_bar(total=len(jobs), unit="img", desc=description, disable=not progress) as bar:
        for crops, boxes, rows in loader:
            pending.append((crops, boxes, rows))
            waiting += len(crops)
            if waiting >= estimator.batch:
                flush(final=False)
            bar.update(1)
    if pending and waiting:
        flush(final=True)
    return PoseOutputs.concat(parts, estimator.num_joints)


def _triples(keypoints: np.ndarray, scores: np.ndarray) -> list[float]:
    return [float(v) for v in np.concatenate([keypoints, scores[:, None]], axis=1).reshape(-1)]


def gt_records(image_ids: NDArray[np.int64], poses: PoseOutputs, category_id: int = 1) -> list[dict[str, Any]]:
    """Ground-truth pass records: score = mean + 1.25 * max (float64 of the float32 parts, as validate_gt).

    ``bbox`` is the crop box as ``[x, y, w, h]`` (AlphaPose writes the same box as x1, y1, x2, y2 into this
    field, which only changes the areas pycocotools uses for APm/APl).
    """
    mean = np.mean(poses.scores, axis=1).astype(np.float64)
    score = mean + MAX_WEIGHT * np.max(poses.scores, axis=1).astype(np.float64)
    records = []
    for i, row in enumerate(poses.rows):
        x1, y1, x2, y2 = (float(v) for v in poses.crop_boxes[i])
        records.append(
            {
                "image_id": int(image_ids[row]),
                "category_id": category_id,
                "keypoints": _triples(poses.keypoints[i], poses.scores[i]),
                "score": float(score[i]),
                "bbox": [x1, y1, x2 - x1, y2 - y1],
            }
        )
    return records


def det_records(
    image_ids: NDArray[np.int64],
    xywh: NDArray[np.float64],
    det_scores: NDArray[np.float64],
    poses: PoseOutputs,
    pose_nms: str = "none",
    sigmas: np.ndarray | None = None,
    category_id: int = 1,
    heatmap_loss: bool = True,
) -> list[dict[str, Any]]:
    """Detection pass records in AlphaPose's order, after its optional pose NMS (``none``, ``pnms``, ``oks``).

    ``none``: one record per entry, ``bbox`` = the entry's xywh in float32, score = det + mean + 1.25 * max.
    ``pnms`` (``--ppose-nms``): per image, the parametric pose NMS (whole-body variant for 133/136 joints, with the
    regression constants unless ``heatmap_loss``) on those records (det score recovered from the
    written score as validate.py does); merged poses, no ``bbox`` (pycocotools then takes the keypoints' extent).
    ``oks`` (``--oks-nms``): per image, OKS-NMS with the crop-box areas; kept records get the rescored score.
    """
    rows = poses.rows
    det32 = det_scores[rows].astype(_F32)
    box32 = xywh[rows].astype(_F32)
    mean = np.mean(poses.scores, axis=1)  # validate.py's np.mean (float32, NumPy's summation order)
    score = person_score(poses.scores, det32, mean=mean)
    ids = image_ids[rows]
    if pose_nms == "none":
        return [
            {
                "image_id": int(ids[i]),
                "category_id": category_id,
                "keypoints": _triples(poses.keypoints[i], poses.scores[i]),
                "score": float(score[i]),
                "bbox": [float(v) for v in box32[i]],
            }
            for i in range(len(rows))
        ]
    records = []
    groups: dict[int, list[int]] = {}  # images in first-seen order, as validate.py groups them
    for i, image_id in enumerate(ids.tolist()):
        groups.setdefault(image_id, []).append(i)
    for image_id, rows_of_image in groups.items():
        members = np.asarray(rows_of_image, np.int64)
        kp, s = poses.keypoints[members], poses.scores[members]
        if pose_nms == "pnms":
            b = box32[members].astype(np.float64)
            boxes = np.stack([b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]], axis=1).astype(_F32)
            written = score[members].astype(np.float64)
            recovered = (
                written - mean[members].astype(np.float64) - MAX_WEIGHT * s.max(axis=1).astype(np.float64)
            ).astype(_F32)
            out = parametric_nms_for(kp.shape[1], heatmap_loss)(boxes, recovered, kp, s)
            for j in range(len(out.picked)):
                records.append(
                    {
                        "image_id": int(image_id),
                        "category_id": category_id,
                        "keypoints": _triples(out.keypoints[j], out.keypoint_scores[j]),
                        "score": float(out.scores[j]),
                    }
                )
        else:
            crop = poses.crop_boxes[members].astype(np.float64)
            areas = (crop[:, 2] - crop[:, 0]) * (crop[:, 3] - crop[:, 1])
            xywh32 = box32[members]
            boxes = np.concatenate([xywh32[:, :2], xywh32[:, :2] + xywh32[:, 2:]], axis=1)
            out = oks_pose_nms(boxes, det32[members], kp, s, sigmas=sigmas, areas=areas)
            for j, i in enumerate(out.picked):
                records.append(
                    {
                        "image_id": int(image_id),
                        "category_id": category_id,
                        "keypoints": _triples(kp[i], s[i]),
                        "score": float(out.scores[j]),
                        "bbox": [float(v) for v in xywh32[i]],
                    }
                )
    return records
