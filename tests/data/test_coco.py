"""CocoKeypoints: AlphaPose's person filters, ground-truth box convention and validation sample.

The golden samples come from the ORIGINAL ``Mscoco(train=False)`` run on the shared COCO data
(tests/golden/README.md, eval_golden.npz); the rest is derived by hand.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from alphapose_kit.config import load_config
from alphapose_kit.data.coco import CocoAnnotations, CocoKeypoints, PersonLabel, gt_box, person_labels
from alphapose_kit.errors import AkitError
from tests.paths import COCO, GOLDEN, REPO

CONFIG = REPO / "configs" / "coco" / "fastpose_res50_256x192.yaml"
ANN = COCO / "person_keypoints.json"


@pytest.fixture(scope="module")
def cfg():
    return load_config(CONFIG)


def test_validation_samples_equal_alphapose_bit_for_bit(cfg) -> None:
    golden = np.load(GOLDEN / "eval_golden.npz")
    dataset = CocoKeypoints(ANN, COCO, cfg)
    assert len(dataset) == len(golden["samples__image_id"]) == 12  # 14 people, 2 without keypoints
    for i in range(len(dataset)):
        sample = dataset[i]
        target = sample["target"].numpy()
        assert sample["image_id"] == golden["samples__image_id"][i] and sample["index"] == i
        assert np.array_equal(sample["box"].numpy(), golden["samples__crop_box"][i])
        assert np.array_equal(sample["target_weight"].numpy().reshape(-1), golden["samples__target_weight"][i])
        assert np.array_equal(target.reshape(17, -1).argmax(axis=1), golden["samples__target_peak"][i])
        assert hashlib.sha256(target.tobytes()).hexdigest() == golden["samples__target_sha256"][i]
        assert hashlib.sha256(sample["image"].numpy().tobytes()).hexdigest() == golden["samples__crop_sha256"][i]


def test_gt_box_convention_by_hand() -> None:
    # x2 = x + max(w - 1, 0), then every coordinate clipped to [0, W - 1] x [0, H - 1]
    assert gt_box([10, 20, 30.5, 40], 100, 100) == (10.0, 20.0, 39.5, 59.0)
    assert gt_box([10, 20, 0.5, 40], 100, 100) == (10.0, 20.0, 10.0, 59.0)  # w < 1: x2 = x
    assert gt_box([-5, 90, 200, 50], 120, 100) == (0.0, 90.0, 119.0, 99.0)


def _write_annotations(tmp_path: Path, annotations: list[dict], images: list[dict] | None = None) -> Path:
    images = images or [{"id": 7, "file_name": "a.jpg", "width": 100, "height": 80}]
    category = {"id": 1, "name": "person", "keypoints": ["a", "b"], "skeleton": []}
    path = tmp_path / "ann.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": [category]}))
    return path


def _person(ann_id: int, image_id: int = 7, **fields) -> dict:
    base = {
        "id": ann_id,
        "image_id": image_id,
        "category_id": 1,
        "iscrowd": 0,
        "area": 100.0,
        "bbox": [10, 10, 20, 30],
        "keypoints": [15, 20, 2, 0, 0, 0],
        "num_keypoints": 1,
    }
    return {**base, **fields}


def test_people_filtered_as_alphapose(tmp_path: Path) -> None:
    images = [
        {"id": 9, "file_name": "b.jpg", "width": 100, "height": 80},
        {"id": 7, "file_name": "a.jpg", "width": 100, "height": 80},
    ]
    anns = [
        _person(1, image_id=9),  # kept (its image comes after id 7)
        _person(2, iscrowd=1),  # crowd
        _person(3, keypoints=[0, 0, 0, 0, 0, 0], num_keypoints=0),  # no keypoint
        _person(4, area=0),  # zero area
        _person(5, bbox=[10, 10, 1, 30]),  # w = 1 -> x2 = x1
        _person(6, keypoints=[15, 20, 0, 0, 0, 0]),  # a coordinate but nothing labelled
        _person(7, category_id=2),  # another category
        _person(8, num_keypoints=0),  # num_keypoints says none
        _person(10, keypoints=[15, 20, 1, 30, 25, 2]),  # kept; v = 2 counts as 1
    ]
    labels = person_labels(CocoAnnotations(_write_annotations(tmp_path, anns, images)), tmp_path)
    assert [(label.image_id, label.annotation_id) for label in labels] == [(7, 10), (9, 1)]
    first = labels[0]
    assert np.array_equal(first.bbox, [10, 10, 29, 39]) and first.path == tmp_path / "a.jpg"
    assert first.joints.dtype == np.float32 and first.joints.shape == (2, 3, 2)
    assert first.joints[:, 0, 0].tolist() == [15, 30] and first.joints[:, 1, 0].tolist() == [20, 25]
    assert first.joints[:, :2, 1].tolist() == [[1, 1], [1, 1]]


def test_target_derived_by_hand() -> None:
    from alphapose_kit.codecs import HeatmapCodec
    from alphapose_kit.data.coco import ValidationTransform

    # box 150 x 200 (aspect 0.75 already): centre (75, 100), scale (187.5, 250); crop x' = 1.024 (x - 75) + 96
    joints = np.zeros((3, 3, 2), np.float32)
    joints[0, :2, 0], joints[0, :2, 1] = (75, 100), 1  # -> crop (96, 128) -> heatmap (24, 32)
    joints[1, :2, 0], joints[1, :2, 1] = (125, 100), 1  # -> crop (147.2, 128) -> heatmap (36.8, 32) -> peak 37
    joints[2, :2, 0], joints[2, :2, 1] = (75, 100), 0  # not labelled: no Gaussian, weight 0
    label = PersonLabel(1, 1, Path("x.jpg"), np.array([0, 0, 150, 200], np.float64), joints, 150, 200)
    image = np.full((200, 150, 3), 128, np.uint8)
    sample = ValidationTransform(HeatmapCodec(3, (256, 192), (64, 48)))(image, label)
    target = sample["target"].numpy()
    assert sample["target_weight"].numpy().reshape(-1).tolist() == [1, 1, 0]
    assert np.unravel_index(target[0].argmax(), (64, 48)) == (32, 24) and target[0, 32, 24] == 1
    assert np.unravel_index(target[1].argmax(), (64, 48)) == (32, 37)
    assert target[0, 32, 25] == pytest.approx(np.exp(-1 / 8)) and not target[2].any()
    assert sample["box"].tolist() == [-18.75, -25.0, 168.75, 225.0]
    assert sample["image"].shape == (3, 256, 192)


def test_samples_batch_in_a_dataloader(cfg) -> None:
    batch = next(iter(DataLoader(CocoKeypoints(ANN, COCO, cfg), batch_size=5)))
    assert batch["image"].shape == (5, 3, 256, 192) and batch["target"].shape == (5, 17, 64, 48)
    assert batch["target_weight"].shape == (5, 17, 1, 1) and batch["box"].dtype == torch.float32
    assert batch["image_id"].tolist() == [785, 40083, 40083, 196141, 196141]


def test_errors_are_one_line(tmp_path: Path, cfg) -> None:
    no_keypoints = _write_annotations(tmp_path, [{"id": 1, "image_id": 7, "bbox": [0, 0, 5, 5]}])
    with pytest.raises(AkitError, match="has no keypoints"):
        CocoAnnotations(no_keypoints)
    with pytest.raises(AkitError, match="not found"):
        CocoAnnotations(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(AkitError, match="not valid JSON"):
        CocoAnnotations(tmp_path / "bad.json")
    two_joints = CocoAnnotations(_write_annotations(tmp_path, [_person(1)]))
    with pytest.raises(AkitError, match="1 of 1 images .* missing .* first: a.jpg"):
        two_joints.check_images(tmp_path)
    with pytest.raises(AkitError, match="predicts 17 joints but ann.json annotates 2"):
        CocoKeypoints(two_joints, tmp_path, cfg)


def test_public_name_and_sample_keys(cfg) -> None:
    import alphapose_kit.data

    assert alphapose_kit.data.CocoKeypoints is CocoKeypoints
    sample = CocoKeypoints(ANN, COCO, cfg)[0]
    assert set(sample) == {"image", "target", "target_weight", "box", "image_id", "index"}


def test_validation_targets_follow_the_configs_codec(cfg) -> None:
    # an integral model validates on integral targets: the heatmap sample's peaks in normalised crop coordinates,
    # x = (col * 4) / 192 - 0.5, y = (row * 4) / 256 - 0.5 up to the rounding to a heatmap cell
    integral = CocoKeypoints(ANN, COCO, load_config(CONFIG, ["LOSS.TYPE", "L1JointRegression"]))[0]
    heatmap = CocoKeypoints(ANN, COCO, cfg)[0]
    assert tuple(integral["target"].shape) == (34,)
    xy = (integral["target"].reshape(17, 2) + 0.5) * torch.tensor([192.0, 256.0])
    peaks = heatmap["target"].reshape(17, -1).argmax(dim=1)
    grid = torch.stack([peaks % 48, peaks // 48], dim=1).float()
    labelled = heatmap["target_weight"].reshape(-1) > 0
    assert torch.all((torch.trunc(xy / 4 + 0.5) - grid)[labelled] == 0)
    assert torch.equal(integral["box"], heatmap["box"]) and torch.equal(integral["image"], heatmap["image"])
