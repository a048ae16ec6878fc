"""Real person crops for export checks, INT8 calibration and pruning: from a COCO keypoint file (its people's
boxes), or from images / a video (boxes from a detector or a detection file), cropped exactly as the pipeline crops.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from alphapose_kit.data.transforms import crop_boxes
from alphapose_kit.errors import AkitError

if TYPE_CHECKING:
    import torch

#: The team's real COCO people, used to check exports when no --calib is given (a development checkout has it).
DEV_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "coco" / "person_keypoints.json"


@dataclass
class PersonCrops:
    """Normalised crops ``(N, 3, H, W)``, their ``cropped_box`` values ``(N, 4)``, the image of each, and, from a COCO
    file, each person's annotated keypoints ``(N, K, 3)`` (x, y, visibility in image pixels)."""

    crops: np.ndarray
    crop_boxes: np.ndarray
    image_ids: list[Any]
    keypoints: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.crops)

    def take(self, rows: slice) -> PersonCrops:
        """The crops in ``rows`` (a slice), with everything that belongs to them."""
        keypoints = None if self.keypoints is None else self.keypoints[rows]
        return PersonCrops(self.crops[rows], self.crop_boxes[rows], self.image_ids[rows], keypoints)

    def split(self, first: int) -> tuple[PersonCrops, PersonCrops]:
        """The first ``first`` crops and the rest (calibration vs held-out)."""
        return self.take(slice(0, first)), self.take(slice(first, None))


def default_source() -> Path | None:
    """The development checkout's real COCO people, when they are beside the repository."""
    return DEV_DATA if DEV_DATA.is_file() else None


def is_coco_file(path: Path) -> bool:
    return path.suffix.lower() == ".json" and path.is_file()


def _is_person(ann: dict[str, Any]) -> bool:
    """An annotation akit crops: keypoints annotated (when counted), not a crowd, a box."""
    return ann.get("num_keypoints", 1) > 0 and not ann.get("iscrowd", 0) and len(ann.get("bbox", ())) == 4


def _no_people(source: str | Path) -> AkitError:
    return AkitError(f"calibration source {source} has no people to crop")


def check_source(source: str | Path, people: bool = True) -> None:
    """A missing or empty calibration source in one line, before any detector weights are fetched for it: a COCO
    file must hold people (images, with ``people=False``: a detector's check needs no annotations), images and
    videos must exist and not be empty."""
    from alphapose_kit.data.sources import open_source

    text = str(source)
    if not text.strip():
        raise AkitError("--calib is empty; give a COCO keypoint file, images or a video of people")
    path = Path(text)
    if path.suffix.lower() == ".json":
        if not path.is_file():
            raise AkitError(f"calibration source {path} not found")
        data = _read_coco(path)
        if people and not any(_is_person(ann) for ann in data["annotations"]):
            raise _no_people(source)
        if not data["images"]:
            raise AkitError(f"calibration source {source} has no images")
        return
    try:
        open_source(text)  # names a missing file, an empty folder, an unreadable or empty video
    except AkitError as exc:
        raise AkitError(f"--calib: {exc}") from None


def _read_coco(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise AkitError(f"calibration source {path} is not a readable JSON file ({type(exc).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("annotations"), list) or "images" not in data:
        raise AkitError(f"calibration source {path} is not a COCO keypoint file (needs 'images' and 'annotations')")
    return data


def _coco_frames(path: Path, image_dir: Path | None) -> Iterator[tuple[Any, np.ndarray, np.ndarray, np.ndarray]]:
    """(image id, BGR image, xyxy boxes, keypoints (M, K, 3)) for every image with annotated people."""
    data = _read_coco(path)
    folder = image_dir or path.parent
    people: dict[Any, list[dict[str, Any]]] = {}
    for ann in data["annotations"]:
        if _is_person(ann):
            people.setdefault(ann["image_id"], []).append(ann)
    for image in sorted(data["images"], key=lambda record: record["id"]):
        anns = people.get(image["id"])
        if not anns:
            continue
        file = folder / image["file_name"]
        bgr = cv2.imread(str(file), cv2.IMREAD_COLOR)
        if bgr is None:
            raise AkitError(
                f"calibration image {file} is missing or unreadable (pass the image folder with --calib-images)"
            )
        xywh = np.asarray([ann["bbox"] for ann in anns], np.float32)
        boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
        keypoints = np.asarray([np.reshape(ann.get("keypoints", []), (-1, 3)) for ann in anns], np.float32)
        yield image["id"], bgr, boxes, keypoints


def _detected_frames(
    source: str | Path, detector: Callable[..., list[Any]]
) -> Iterator[tuple[Any, np.ndarray, np.ndarray, None]]:
    from alphapose_kit.data.sources import open_source

    for frame in open_source(source):
        (dets,) = detector([frame.image], [frame.image_id])
        if len(dets):
            yield frame.image_id, frame.image, np.asarray(dets.boxes, np.float32), None


def make_detector(
    name: str = "yolov3-spp",
    weights: str | Path | None = None,
    detfile: str | Path | None = None,
    device: str | torch.device = "cpu",
    conf: float | None = None,
    nms: float | None = None,
) -> Callable[..., list[Any]]:
    """The person detector that finds people in images and videos (a detection file when given); ``conf`` / ``nms``
    replace the detector's thresholds."""
    from alphapose_kit.detectors import load_detector

    if detfile is not None:
        return load_detector("detfile", weights=detfile)
    thresholds = {key: value for key, value in (("conf", conf), ("nms", nms)) if value is not None}
    return load_detector(name, weights=weights, device=str(device), **thresholds)


def person_crops(
    source: str | Path,
    input_size: tuple[int, int],
    limit: int,
    *,
    detector: Callable[..., list[Any]] | None = None,
    image_dir: str | Path | None = None,
) -> PersonCrops:
    """Up to ``limit`` real person crops of ``input_size`` (h, w) from ``source``, in the source's order.

    ``source``: a COCO keypoint JSON (its images beside it or in ``image_dir``; annotated people's boxes), or an
    image / directory / glob / video whose people ``detector`` finds (default: akit's default detector).
    """
    if limit < 1:
        raise AkitError(f"the number of calibration crops must be at least 1, got {limit}")
    path = Path(source)
    height, width = int(input_size[0]), int(input_size[1])
    if is_coco_file(path):
        frames: Iterator[tuple[Any, np.ndarray, np.ndarray, np.ndarray | None]] = _coco_frames(
            path, Path(image_dir) if image_dir else None
        )
    else:
        frames = _detected_frames(source, detector if detector is not None else make_detector())
    crops, boxes, ids, keypoints = [], [], [], []
    count = 0
    for image_id, bgr, xyxy, kps in frames:
        xyxy = xyxy[: limit - count]
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        frame_crops, frame_boxes = crop_boxes(rgb, xyxy, (height, width))
        crops.append(frame_crops)
        boxes.append(frame_boxes)
        ids.extend([image_id] * len(xyxy))
        if kps is not None:
            keypoints.append(kps[: len(xyxy)])
        count += len(xyxy)
        if count >= limit:
            break
    if not count:
        raise _no_people(source)
    gt = np.concatenate(keypoints) if keypoints and len(keypoints) == len(crops) else None
    return PersonCrops(np.concatenate(crops), np.concatenate(boxes), ids, gt)
