"""ResultWriter as a new user meets it: every frame kept under its own key, no NaN in JSON, integer COCO ids."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from alphapose_kit.data.keypoints import keypoint_set_for
from alphapose_kit.data.sources import open_source
from alphapose_kit.io.results import CocoImageIds, FrameResult
from alphapose_kit.io.writers import IDS_NAME, JSON_NAME, ResultWriter, claim_name, read_jsonl, safe_relative
from tests.logcapture import captured_logs
from tests.paths import DATA

COCO17 = keypoint_set_for(17)


def person_frame(index: int, image_id: str, people: int = 1, offset: float = 0.0) -> FrameResult:
    """``people`` poses with distinct, finite numbers (person m's joints at x = 10 k + m + offset)."""
    k = 17
    xs = np.arange(k, dtype=np.float32)[None, :] * 10 + np.arange(people, dtype=np.float32)[:, None] + offset
    keypoints = np.stack([xs + 20, xs + 30], axis=-1)
    boxes = np.tile(np.float32([[10, 20, 200, 220]]), (people, 1))
    return FrameResult(
        index, image_id, boxes, np.full(people, 0.9, np.float32), keypoints, np.full((people, k), 0.8, np.float32),
        np.full(people, 2.5, np.float32), [[0.0]] * people, (240, 320),
    )  # fmt: skip


def strict_json(path: Path):
    """Parse as a strict parser does: NaN / Infinity are errors."""

    def refuse(token: str):
        raise ValueError(f"non-standard JSON constant {token}")

    return json.loads(path.read_text(), parse_constant=refuse)


def test_repeated_file_names_in_a_recursive_glob_keep_every_frame(tmp_path: Path) -> None:
    source = open_source(str(DATA / "posetrack18" / "**" / "*.jpg"))
    names = source.image_ids
    assert len({Path(n).name for n in names}) < len(names)
    image = np.zeros((240, 320, 3), np.uint8)
    for fmt in ("openpose", "alphapose"):
        out = tmp_path / fmt
        with ResultWriter(out, COCO17, fmt=fmt, save_images=True) as writer:
            for i, name in enumerate(names):
                writer.write(person_frame(i, name, people=i + 1), image)
        total = sum(range(1, len(names) + 1))
        results = strict_json(out / JSON_NAME)
        if fmt == "openpose":
            assert list(results) == names
            assert sum(len(v["people"]) for v in results.values()) == total
            seps = sorted(p.relative_to(out / "sep-json").as_posix() for p in (out / "sep-json").rglob("*.json"))
            assert seps == sorted(str(Path(n).with_suffix(".json")) for n in names)
        else:
            assert len(results) == total and {r["image_id"] for r in results} == set(names)
        vis = sorted(p.relative_to(out / "vis").as_posix() for p in (out / "vis").rglob("*.jpg"))
        assert vis == sorted(str(Path(n).with_suffix(".jpg")) for n in names)


def test_a_repeated_frame_name_gets_a_suffix_in_every_output(tmp_path: Path) -> None:
    image = np.zeros((240, 320, 3), np.uint8)
    with ResultWriter(tmp_path, COCO17, fmt="openpose", save_images=True) as writer:
        for i in range(3):
            writer.write(person_frame(i, "frame.jpg", offset=i), image)
    results = strict_json(tmp_path / JSON_NAME)
    assert list(results) == ["frame.jpg", "frame_2.jpg", "frame_3.jpg"]
    # each key holds its own frame: the nose x is 20 + offset
    assert [v["people"][0]["pose_keypoints_2d"][0] for v in results.values()] == [20.0, 21.0, 22.0]
    assert sorted(p.name for p in (tmp_path / "sep-json").iterdir()) == ["frame.json", "frame_2.json", "frame_3.json"]
    assert len(list((tmp_path / "vis").iterdir())) == 3


def test_claim_name_and_safe_relative() -> None:
    used: set[str] = set()
    assert [claim_name(n, used) for n in ("a/x.jpg", "a/x.jpg", "a/x_2.jpg", "x")] == [
        "a/x.jpg", "a/x_2.jpg", "a/x_2_2.jpg", "x",
    ]  # fmt: skip
    assert str(safe_relative("../../etc/x.jpg")) == "etc/x.jpg"
    assert str(safe_relative("/abs/x.jpg")) == "abs/x.jpg"
    assert str(safe_relative("C:\\data\\x.jpg")) == "data/x.jpg"
    assert str(safe_relative("..")) == "frame"


@pytest.mark.parametrize("fmt", ["alphapose", "coco", "openpose"])
def test_people_with_nan_or_inf_are_left_out_with_a_warning(tmp_path: Path, fmt: str) -> None:
    frame = person_frame(0, "a.jpg", people=3)
    frame.keypoints[0, 4, 1] = np.nan
    frame.boxes[2, 2] = np.inf
    image = np.zeros((240, 320, 3), np.uint8)
    with captured_logs() as logs, ResultWriter(tmp_path, COCO17, fmt=fmt, save_images=True) as writer:
        writer.write(frame, image)
    assert writer.dropped == 2 and writer.people == 1
    assert len(logs) == 1 and "a.jpg" in logs[0] and "NaN or inf" in logs[0]
    results = strict_json(tmp_path / JSON_NAME)
    people = results["a.jpg"]["people"] if fmt == "openpose" else results
    assert len(people) == 1
    flat = people[0]["pose_keypoints_2d"] if fmt == "openpose" else people[0]["keypoints"]
    assert all(math.isfinite(v) for v in flat) and flat[0] == 21.0  # person 1 (x = 20 + 1) is the one kept
    stream = (tmp_path / "alphapose-results.jsonl").read_text()
    assert (
        "NaN" not in stream
        and "Infinity" not in stream
        and len(list(read_jsonl(tmp_path / "alphapose-results.jsonl"))) == 1
    )


def test_frames_without_people_are_written_too(tmp_path: Path) -> None:
    image = np.zeros((240, 320, 3), np.uint8)
    with ResultWriter(tmp_path, COCO17, fmt="openpose", save_images=True) as writer:
        writer.write(FrameResult.empty(0, "nobody.jpg", 17, (240, 320)), image)
        writer.write(person_frame(1, "one.jpg"), image)
    assert strict_json(tmp_path / JSON_NAME) == {
        "nobody.jpg": {"version": "AlphaPose v0.3", "people": []},
        "one.jpg": strict_json(tmp_path / "sep-json" / "one.json"),
    }
    assert writer.frames == 2 and writer.people == 1 and (tmp_path / "vis" / "nobody.jpg").is_file()


def test_coco_ids_are_integers_by_a_stated_rule() -> None:
    ids = CocoImageIds()
    names = ["a.jpg", "000000000785.jpg", "b/c.png", "000000000001.jpg", "x/000000000785.jpg", "a.jpg"]
    # numbers in COCO-style names are kept unless taken; other names get the smallest free integer from 1
    assert [ids(n) for n in names] == [1, 785, 2, 3, 4, 1]
    assert ids.mapping == {"a.jpg": 1, "000000000785.jpg": 785, "b/c.png": 2, "000000000001.jpg": 3,
                           "x/000000000785.jpg": 4}  # fmt: skip


def test_coco_format_writes_integer_ids_and_their_names(tmp_path: Path) -> None:
    names = ["walk/frame_a.jpg", "000000000785.jpg", "run/frame_a.jpg"]
    with ResultWriter(tmp_path, COCO17, fmt="coco") as writer:
        for i, name in enumerate(names):
            writer.write(person_frame(i, name, people=2))
    results = strict_json(tmp_path / JSON_NAME)
    mapping = strict_json(tmp_path / IDS_NAME)
    assert all(type(r["image_id"]) is int for r in results)
    assert mapping == {"walk/frame_a.jpg": 1, "000000000785.jpg": 785, "run/frame_a.jpg": 2}
    assert [r["image_id"] for r in results] == [1, 1, 785, 785, 2, 2]
    assert tmp_path / IDS_NAME in writer.outputs()


def test_coco_ids_for_a_recursive_glob_over_posetrack(tmp_path: Path) -> None:
    names = open_source(str(DATA / "posetrack18" / "**" / "*.jpg")).image_ids
    with ResultWriter(tmp_path, COCO17, fmt="coco") as writer:
        for i, name in enumerate(names):
            writer.write(person_frame(i, name))
    mapping = strict_json(tmp_path / IDS_NAME)
    # images/val/*/000000.jpg: the first keeps 0, the next two take the smallest free ids 1 and 2; then
    # videos/*/000000..000004.jpg want 0..4, each already taken when it comes, so each takes the smallest free id
    assert list(mapping) == names and list(mapping.values()) == [0, 1, 2, 3, 4, 5, 6, 7]
    assert [r["image_id"] for r in strict_json(tmp_path / JSON_NAME)] == list(mapping.values())


def test_rendered_images_follow_the_frame_names(tmp_path: Path) -> None:
    image = np.full((240, 320, 3), 50, np.uint8)
    with ResultWriter(tmp_path, COCO17, save_images=True) as writer:
        writer.write(person_frame(0, "cam1/000000.jpg"), image)
        writer.write(person_frame(1, "cam2/000000.jpg"), image)
    for cam in ("cam1", "cam2"):
        rendered = cv2.imread(str(tmp_path / "vis" / cam / "000000.jpg"))
        assert rendered is not None and np.abs(rendered.astype(int) - 50).max() > 100


def _wholebody_result(k: int) -> FrameResult:
    """One person whose joint j sits at (j, 1000 + j) with score j / 1000: every value names its joint."""
    j = np.arange(k, dtype=np.float32)
    kps = np.stack([j, 1000 + j], axis=1)[None]
    return FrameResult(0, "0.jpg", np.array([[0, 0, 10, 10]], np.float32), np.array([0.9], np.float32), kps,
                       (j / 1000)[None], np.array([2.0], np.float32), [1], (100, 100))  # fmt: skip


def test_coco_format_splits_coco_wholebody_parts_into_their_fields() -> None:
    from alphapose_kit.data.wholebody import COCO_WHOLEBODY133, HALPE136
    from alphapose_kit.io.results import alphapose_records, coco_wholebody_record

    record = alphapose_records(_wholebody_result(133), 7)[0]
    split = coco_wholebody_record(record, COCO_WHOLEBODY133)
    assert len(split["keypoints"]) == 51 and split["keypoints"][:3] == [0.0, 1000.0, 0.0]
    assert split["foot_kpts"][:2] == [17.0, 1017.0] and len(split["foot_kpts"]) == 18
    assert split["face_kpts"][:2] == [23.0, 1023.0] and len(split["face_kpts"]) == 204
    assert split["lefthand_kpts"][:2] == [91.0, 1091.0] and split["righthand_kpts"][-3:-1] == [132.0, 1132.0]
    assert coco_wholebody_record(alphapose_records(_wholebody_result(136), 7)[0], HALPE136)["keypoints"] == [
        v for j in range(136) for v in (float(j), 1000.0 + j, pytest.approx(j / 1000))
    ]


def test_openpose_format_writes_face_and_hands_of_whole_body_sets() -> None:
    from alphapose_kit.data.wholebody import HALPE136
    from alphapose_kit.io.results import openpose_people

    (person,) = openpose_people(_wholebody_result(136), HALPE136)
    assert len(person["pose_keypoints_2d"]) == 54
    face = person["face_keypoints_2d"]
    assert len(face) == 210 and face[:2] == [26.0, 1026.0] and face[-6:] == [0.0] * 6  # 68 landmarks + 2 pupils
    assert person["hand_left_keypoints_2d"][:2] == [94.0, 1094.0] and len(person["hand_right_keypoints_2d"]) == 63
    assert set(openpose_people(_wholebody_result(17))[0]) == {"pose_keypoints_2d"}
