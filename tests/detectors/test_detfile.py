"""Detection files as a new user meets them: absurd and empty boxes, boxes outside the image, ids that match nothing,
the same file name in several folders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from alphapose_kit.config import load_config
from alphapose_kit.data.sources import ImageListSource
from alphapose_kit.detectors import DetFileDetector
from alphapose_kit.engine.predictor import PosePipeline
from alphapose_kit.errors import AkitError
from alphapose_kit.models import build_pose_model
from tests.logcapture import captured_logs
from tests.paths import COCO, REPO


def detfile(tmp_path: Path, records: list[dict]) -> Path:
    path = tmp_path / "dets.json"
    path.write_text(json.dumps(records))
    return path


def rec(image_id: object, bbox: list[float], score: float = 0.9, **extra: object) -> dict:
    return {"image_id": image_id, "bbox": bbox, "score": score, **extra}


@pytest.mark.parametrize(
    ("bbox", "problem"),
    [
        ([10, 10, 0, 50], "empty box"),
        ([10, 10, 50, -5], "empty box"),
        ([1e308, 0, 1e308, 10], "overflows to infinity"),
    ],
)
def test_empty_and_overflowing_boxes_are_refused_naming_the_entry(tmp_path: Path, bbox, problem: str) -> None:
    path = detfile(tmp_path, [rec("a.jpg", [1, 2, 3, 4]), rec("b.jpg", bbox)])
    with pytest.raises(AkitError, match=problem) as info:
        DetFileDetector(path)
    message = str(info.value)
    assert "entry 1 (image_id 'b.jpg')" in message and str(path) in message and "\n" not in message


def test_boxes_outside_the_image_are_left_out_and_absurd_ones_clipped(tmp_path: Path) -> None:
    records = [
        rec("a.jpg", [300, 300, 1e300, 1e300], idx=10),  # reaches far beyond: clipped to the 640x480 image
        rec("a.jpg", [700, 10, 50, 50], idx=11),  # wholly right of the image: left out
        rec("a.jpg", [-60, -60, 50, 50], idx=12),  # wholly above-left: left out
        rec("a.jpg", [600, 100, 40.68, 100], idx=13),  # crosses the border by 0.68 px: kept as is (AlphaPose)
    ]
    det = DetFileDetector(detfile(tmp_path, records))
    with captured_logs() as logs:
        (dets,) = det([np.zeros((480, 640, 3), np.uint8)], ["a.jpg"])
    np.testing.assert_array_equal(dets.boxes, [[300, 300, 640, 480], [600, 100, 640.68, 200]])
    assert dets.ids.tolist() == [10, 13]
    assert len(logs) == 2
    assert "entry 0 " in logs[0] and "clipped" in logs[0] and "640x480" in logs[0]
    assert "entries 1, 2 " in logs[1] and "wholly outside" in logs[1]
    raw = det.lookup("a.jpg")  # no image size: the file's boxes as they are
    assert raw.boxes[0, 2] == 300 + 1e300 and len(raw) == 4


def test_absurd_box_gives_finite_keypoints_end_to_end(tmp_path: Path) -> None:
    image = COCO / "000000000785.jpg"  # 640 x 425
    path = detfile(tmp_path, [rec(image.name, [300, 300, 1e300, 1e300]), rec(image.name, [280, 45, 225, 333])])
    small = ["DATA_PRESET.IMAGE_SIZE", "[128,96]", "DATA_PRESET.HEATMAP_SIZE", "[32,24]"]
    cfg = load_config(REPO / "configs" / "coco" / "fastpose_res50_256x192.yaml", small)
    pipeline = PosePipeline(cfg, pose_model=build_pose_model(cfg), detfile=path, device="cpu", pose_nms="none")
    with captured_logs():
        (result,) = pipeline.run(ImageListSource([image], "test"))
    assert result.num_people == 2
    assert np.isfinite(result.keypoints).all() and np.isfinite(result.scores).all()
    np.testing.assert_array_equal(result.boxes[0], [300, 300, 640, 425])


def test_coverage_names_frames_and_ids_that_did_not_meet(tmp_path: Path) -> None:
    path = detfile(tmp_path, [rec("a.jpg", [1, 1, 5, 5]), rec("b.jpg", [1, 1, 5, 5]), rec(7, [1, 1, 5, 5])])
    det = DetFileDetector(path)
    det(None, ["x.jpg", "y.jpg"])
    cover = det.coverage()
    assert cover.none_matched and cover.unmatched_frames == ["x.jpg", "y.jpg"]
    assert cover.unused_ids == ["a.jpg", "b.jpg", 7]
    message = cover.message()
    assert message.startswith("none of the 2 frames matches an image_id of detection file")
    assert "'x.jpg', 'y.jpg'" in message and "'a.jpg', 'b.jpg', 7" in message

    partial = DetFileDetector(path).coverage(["a.jpg", "z.jpg", "000000000007.jpg", "a.jpg"])  # before a run
    assert not partial.none_matched and partial.frames == 3
    assert partial.unmatched_frames == ["z.jpg"] and partial.unused_ids == ["b.jpg"]
    assert partial.message().startswith("1 of 3 frames match no image_id")
    assert DetFileDetector(path).coverage(["a.jpg", "b.jpg", "7.png"]).message() is None
    assert DetFileDetector(path).coverage().message() is None  # nothing looked up yet

    many = DetFileDetector(path)
    many(None, [f"f{i}.jpg" for i in range(5)])
    assert "'f0.jpg', 'f1.jpg', 'f2.jpg' and 2 more" in many.coverage().message()


def test_same_file_name_in_several_folders(tmp_path: Path) -> None:
    path = detfile(tmp_path, [rec("cam1/000000.jpg", [1, 1, 5, 5]), rec("cam2/000000.jpg", [2, 2, 5, 5])])
    det = DetFileDetector(path)
    assert det.lookup("videos/cam2/000000.jpg").boxes[0, 0] == 2  # the id sharing most folders wins
    assert det.lookup("/abs/cam1/000000.jpg").boxes[0, 0] == 1
    with pytest.raises(AkitError, match="matches image_ids 'cam1/000000.jpg' and 'cam2/000000.jpg' equally"):
        det.lookup("000000.jpg")
    bare = DetFileDetector(detfile(tmp_path, [rec("000000.jpg", [3, 3, 5, 5])]))  # AlphaPose writes bare names
    assert bare.lookup("cam1/000000.jpg").boxes[0, 0] == 3
    assert len(bare.lookup("cam1/000000.jpg")) == 1  # the same frame again is no conflict
    with pytest.raises(AkitError, match=r"'000000.jpg' fits frames in several folders \('cam1/000000.jpg', 'cam2/"):
        bare.lookup("cam2/000000.jpg")  # a bare name does not put one video's boxes on another's frames
    assert len(det.lookup("cam3/000000.jpg")) == 0  # the same name in a folder the file does not name: no boxes


def test_a_bare_name_over_several_posetrack_videos_is_refused_before_the_run(tmp_path: Path, capsys) -> None:
    """A glob over three PoseTrack18 videos' frame folders names each frame <video>/000000.jpg; boxes for
    ``000000.jpg`` fit all three, so the run is refused naming two; named by folder, each video gets its own."""
    from alphapose_kit.cli.app import main
    from tests.cli.test_infer import SMALL, confident_checkpoint

    frames = REPO.parent / "shared" / "data" / "posetrack18" / "images" / "val"
    videos = sorted(p.name for p in frames.iterdir())
    assert len(videos) == 3
    ckpt = confident_checkpoint(tmp_path / "pose.pth", "coco/fastpose_res50_256x192")
    args = [str(frames / "*" / "000000.jpg"), "--checkpoint", str(ckpt), "--device", "cpu", "-q", *SMALL]
    bare = detfile(tmp_path, [rec("000000.jpg", [100, 100, 80, 200])])
    assert main(["infer", *args, "--detfile", str(bare), "-o", str(tmp_path / "bare")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "fits frames in several folders" in err
    assert f"{videos[0]}/000000.jpg" in err and f"{videos[1]}/000000.jpg" in err
    named = tmp_path / "named.json"
    named.write_text(json.dumps([rec(f"{videos[1]}/000000.jpg", [100, 100, 80, 200])]))
    assert main(["infer", *args, "--detfile", str(named), "-o", str(tmp_path / "named")]) == 0, capsys.readouterr()
    people = json.loads((tmp_path / "named" / "alphapose-results.json").read_text())
    assert [p["image_id"] for p in people] == [f"{videos[1]}/000000.jpg"]  # the other two videos get no boxes
