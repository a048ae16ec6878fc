"""Real person crops for export checks and calibration: COCO files, images with a detection file, bad sources."""

from __future__ import annotations

import json

import numpy as np
import pytest

from alphapose_kit.data.transforms import crop_boxes
from alphapose_kit.deploy.calibration import make_detector, person_crops
from alphapose_kit.errors import AkitError
from tests.paths import COCO

KEYPOINTS = COCO / "person_keypoints.json"


def test_coco_file_gives_the_annotated_people() -> None:
    crops = person_crops(KEYPOINTS, (128, 96), 100)
    # shared data README: 14 people, 12 with keypoints (the two without are skipped)
    assert len(crops) == 12 and crops.crops.shape == (12, 3, 128, 96)
    assert crops.keypoints is not None and crops.keypoints.shape == (12, 17, 3)
    assert crops.image_ids == sorted(crops.image_ids)  # images in id order
    data = json.loads(KEYPOINTS.read_text())
    first = min(a["image_id"] for a in data["annotations"] if a["num_keypoints"] > 0)
    anns = [a for a in data["annotations"] if a["image_id"] == first and a["num_keypoints"] > 0]
    x, y, w, h = anns[0]["bbox"]
    image = next(i for i in data["images"] if i["id"] == first)
    import cv2

    rgb = cv2.cvtColor(cv2.imread(str(COCO / image["file_name"])), cv2.COLOR_BGR2RGB)
    expected, _ = crop_boxes(rgb, [[x, y, x + w, y + h]], (128, 96))
    np.testing.assert_array_equal(crops.crops[0], expected[0])
    np.testing.assert_array_equal(crops.keypoints[0].reshape(-1), np.asarray(anns[0]["keypoints"], np.float32))
    assert len(person_crops(KEYPOINTS, (128, 96), 5)) == 5
    first_five, rest = crops.split(5)
    assert len(first_five) == 5 and len(rest) == 7 and rest.image_ids == crops.image_ids[5:]


def test_images_with_a_detection_file(tmp_path) -> None:
    records = [r for r in json.loads((COCO / "person_detections.json").read_text()) if r["score"] >= 0.5]
    detfile = tmp_path / "dets.json"
    detfile.write_text(json.dumps(records))
    crops = person_crops(COCO, (128, 96), 100, detector=make_detector(detfile=detfile))
    assert len(crops) == 18 and crops.keypoints is None  # README: 18 boxes with score >= 0.5


def test_bad_sources_are_one_line(tmp_path) -> None:
    not_coco = tmp_path / "list.json"
    not_coco.write_text("[1, 2]")
    with pytest.raises(AkitError, match="not a COCO keypoint file"):
        person_crops(not_coco, (128, 96), 4)
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(AkitError, match="not a readable JSON"):
        person_crops(broken, (128, 96), 4)
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"images": [], "annotations": []}))
    with pytest.raises(AkitError, match="has no people"):
        person_crops(empty, (128, 96), 4)
    moved = tmp_path / "moved.json"
    moved.write_text(KEYPOINTS.read_text())  # the images are not beside the copy
    with pytest.raises(AkitError, match="missing or unreadable"):
        person_crops(moved, (128, 96), 4)
    assert len(person_crops(moved, (128, 96), 4, image_dir=COCO)) == 4
    with pytest.raises(AkitError, match="not found"):
        person_crops(tmp_path / "nothing.mp4", (128, 96), 4, detector=lambda frames, ids: [])
    nobody = tmp_path / "nobody.json"
    nobody.write_text("[]")
    with pytest.raises(AkitError, match="has no people"):
        person_crops(COCO, (128, 96), 4, detector=make_detector(detfile=nobody))
    with pytest.raises(AkitError, match="at least 1"):
        person_crops(KEYPOINTS, (128, 96), 0)
