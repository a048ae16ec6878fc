"""Whole-body training data: COCO-WholeBody files as 133 joints, Halpe's as they are, the mixed 136 set by name.

Tiny annotation files written here; every expected joint is placed by hand from the file's values.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from alphapose_kit.config import load_config
from alphapose_kit.data.coco import CocoAnnotations, CocoKeypoints, training_keypoints
from alphapose_kit.engine.train_config import split_sources
from alphapose_kit.errors import AkitError

IMAGE = {"id": 3, "file_name": "a.jpg", "width": 200, "height": 300}
CATEGORY = {"id": 1, "name": "person"}
BOX = [20, 10, 150, 280]


def _part(count: int, base: float) -> list[float]:
    """``count`` joints at (base + i, base + 100 + i), visibility 2."""
    return [v for i in range(count) for v in (base + i, base + 100 + i, 2)]


def _wholebody_person(face_valid: bool = False) -> dict:
    return {
        "id": 11, "image_id": 3, "category_id": 1, "iscrowd": 0, "bbox": BOX, "num_keypoints": 17,
        "keypoints": _part(17, 1),
        "foot_kpts": _part(6, 30), "foot_valid": True,
        "face_kpts": _part(68, 40), "face_valid": face_valid,  # values present but flagged not valid
        "lefthand_kpts": _part(21, 120), "lefthand_valid": True,
        "righthand_kpts": [0.0] * 63, "righthand_valid": False,
    }  # fmt: skip


def _write(tmp_path: Path, annotations: list[dict], name: str = "ann.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"images": [IMAGE], "annotations": annotations, "categories": [CATEGORY]}))
    return path


def _xy_labelled(dataset: CocoKeypoints) -> tuple[np.ndarray, np.ndarray]:
    joints = dataset.labels[0].joints
    return joints[:, 0:2, 0], joints[:, 0, 1]


def test_coco_wholebody_file_reads_as_133_joints_in_set_order(tmp_path: Path) -> None:
    path = _write(tmp_path, [_wholebody_person()])
    annotations = CocoAnnotations(path)
    assert annotations.joint_count == 133 and annotations.num_joints == 17  # COCO's metric scores the 17 body joints
    cfg = load_config("coco_wholebody/fastpose_res50_combined_256x192")
    xy, labelled = _xy_labelled(CocoKeypoints(path, tmp_path, cfg))
    assert xy.shape == (133, 2)
    assert np.array_equal(xy[0], [1, 101]) and np.array_equal(xy[16], [17, 117])  # body
    assert np.array_equal(xy[17], [30, 130]) and np.array_equal(xy[22], [35, 135])  # feet in file order
    assert np.array_equal(xy[91], [120, 220]) and np.array_equal(xy[111], [140, 240])  # left hand
    assert labelled[:23].all() and labelled[91:112].all()
    assert not labelled[23:91].any()  # face_valid false: unlabelled although values are there
    assert not labelled[112:].any()  # right hand not valid


def test_mixed_136_set_maps_coco_wholebody_feet_by_name(tmp_path: Path) -> None:
    path = _write(tmp_path, [_wholebody_person(face_valid=True)])
    cfg = load_config("halpe136/multi_domain_fastpose_dcn_res50_combined_256x192")  # Halpe_coco_wholebody_136
    xy, labelled = _xy_labelled(CocoKeypoints(path, tmp_path, cfg))
    assert xy.shape == (136, 2)
    assert np.array_equal(xy[:17], np.stack([np.arange(1, 18), np.arange(101, 118)], 1))
    assert not labelled[17:20].any()  # head, neck, hip: COCO-WholeBody has none
    # COCO-WholeBody's feet (file order: L big toe 30, L small toe 31, L heel 32, R big toe 33, R small 34, R heel 35)
    # go to Halpe's slots by name: 20 L big toe, 21 R big toe, 22 L small toe, 23 R small toe, 24 L heel, 25 R heel
    # (AlphaPose copies them in file order, which would put the left small toe at 21, the right big toe's slot)
    assert list(xy[20:26, 0]) == [30, 33, 31, 34, 32, 35]
    assert np.array_equal(xy[26], [40, 140]) and np.array_equal(xy[93], [107, 207])  # face
    assert np.array_equal(xy[94], [120, 220]) and np.array_equal(xy[114], [140, 240])  # left hand
    assert labelled[20:115].all() and not labelled[115:].any()


def test_halpe_file_reads_as_it_is_with_alphapose_threshold(tmp_path: Path) -> None:
    keypoints = _part(136, 5)
    keypoints[3 * 40 + 2] = 0.3  # below AlphaPose's 0.35: unlabelled
    keypoints[3 * 41 + 2] = 0.4  # labelled, weight 1 (not 0.4)
    person = {"id": 1, "image_id": 3, "category_id": 1, "bbox": BOX, "keypoints": keypoints}
    path = _write(tmp_path, [person])
    dataset = CocoKeypoints(path, tmp_path, load_config("halpe136/fastpose_dcn_res50_combined_256x192"))
    xy, labelled = _xy_labelled(dataset)
    assert np.array_equal(xy[:, 0], np.arange(5, 141)) and np.array_equal(xy[:, 1], np.arange(105, 241))
    assert labelled[40] == 0 and labelled[41] == 1 and labelled.sum() == 135

    # the 68-joint set from the same file: body and feet (0-25) then both hands (Halpe's 94-135), face left out
    xy68, _ = _xy_labelled(CocoKeypoints(path, tmp_path, load_config("halpe68/fastpose_dcn_res50_combined_256x192")))
    assert np.array_equal(xy68[:, 0], np.r_[np.arange(5, 31), np.arange(99, 141)])


def test_single_hand_samples_are_cut_from_whole_body_people(tmp_path: Path) -> None:
    few = _wholebody_person()
    few["id"] = 12
    few["righthand_kpts"], few["righthand_valid"] = _part(9, 60) + [0.0] * 36, True  # 9 labelled joints: too few
    path = _write(tmp_path, [_wholebody_person(), few])
    dataset = CocoKeypoints(path, tmp_path, load_config("hand21/fastpose_dcn_res50_regression_256x192"))
    assert [label.annotation_id for label in dataset.labels] == [11, 12]  # the left hand of each; no right hand
    label = dataset.labels[0]
    assert np.array_equal(label.joints[:, 0, 0], np.arange(120, 141)) and label.joints[:, 0, 1].all()
    # single_hand.py's box: the joints' extent (x 120-140, y 220-240), each side widened by rand * extent / 2
    r = np.random.default_rng(0).random(4)
    assert np.allclose(label.bbox, [120 - r[0] * 10, 220 - r[2] * 10, min(140 + r[1] * 10, 200), 240 + r[3] * 10])
    coco17 = {"id": 1, "image_id": 3, "category_id": 1, "bbox": BOX, "keypoints": _part(17, 5)}
    with pytest.raises(AkitError, match="has no hand joints: single-hand samples are cut from whole-body people"):
        CocoKeypoints(
            _write(tmp_path, [coco17], "c17.json"),
            tmp_path,
            load_config("hand21/fastpose_dcn_res50_regression_256x192"),
        )


def test_whole_body_files_that_cannot_serve_the_set_are_refused(tmp_path: Path) -> None:
    coco17 = _write(tmp_path, [{"id": 1, "image_id": 3, "category_id": 1, "bbox": BOX, "keypoints": _part(17, 5)}])
    with pytest.raises(AkitError, match="name only 17 of the 136 joints"):  # fewer than half of Halpe-136's
        CocoKeypoints(coco17, tmp_path, load_config("halpe136/fastpose_dcn_res50_combined_256x192"))
    bad = _wholebody_person()
    bad["foot_kpts"] = bad["foot_kpts"][:-3]
    with pytest.raises(AkitError, match=r"annotation 11: 'foot_kpts' has 15 values; it holds 6 joints"):
        CocoAnnotations(_write(tmp_path, [bad], "bad.json"))


def _image_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    cv2.imwrite(str(folder / "a.jpg"), np.full((300, 200, 3), 128, np.uint8))
    return folder


def test_mixed_set_lists_halpe_six_times_then_coco_wholebody(tmp_path: Path) -> None:
    halpe = {"id": 1, "image_id": 3, "category_id": 1, "bbox": BOX, "keypoints": _part(136, 5)}
    _write(_image_folder(tmp_path / "halpe" / "images"), [halpe], "halpe.json")
    _write(_image_folder(tmp_path / "coco" / "train2017"), [_wholebody_person(face_valid=True)], "wb.json")
    roots = ["DATASET.TRAIN.ROOT", f"['{tmp_path / 'halpe'}', '{tmp_path / 'coco'}']"]
    lists = [*roots, "DATASET.TRAIN.IMG_PREFIX", "['images', 'train2017']",
             "DATASET.TRAIN.ANN", "['images/halpe.json', 'train2017/wb.json']"]  # fmt: skip
    cfg = load_config("halpe136/multi_domain_fastpose_dcn_res50_combined_256x192", lists)
    sources = split_sources(cfg, "TRAIN")
    assert sources == [
        (tmp_path / "halpe/images/halpe.json", tmp_path / "halpe/images"),
        (tmp_path / "coco/train2017/wb.json", tmp_path / "coco/train2017"),
    ]
    dataset = training_keypoints(sources, cfg)
    assert len(dataset) == 7  # AlphaPose's halpe_coco_wholebody_136.py: each Halpe person 6 times, then COCO-WB's
    assert all(np.array_equal(dataset.labels[i].joints[:, 0, 0], np.arange(5, 141)) for i in range(6))
    assert list(dataset.labels[6].joints[20:26, 0, 0]) == [30, 33, 31, 34, 32, 35]  # feet by name
    assert not torch.equal(dataset[0]["image"], dataset[1]["image"])  # each copy draws its own augmentation

    (tmp_path / "coco" / "train2017" / "a.jpg").unlink()
    with pytest.raises(AkitError, match="1 of 1 images of wb.json are missing"):
        training_keypoints(sources, cfg)
    with pytest.raises(AkitError, match="ROOT, ANN and IMG_PREFIX list different numbers of datasets"):
        three = ["DATASET.TRAIN.ROOT", "['a', 'b', 'c']"]  # against the config's two ANN and IMG_PREFIX entries
        split_sources(load_config("halpe136/multi_domain_fastpose_dcn_res50_combined_256x192", three), "TRAIN")
