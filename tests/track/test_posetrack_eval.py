"""PoseTrack tracking metrics (alphapose_kit.evaluation.posetrack) on cases counted by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from alphapose_kit.errors import AkitError
from alphapose_kit.evaluation.posetrack import (
    POSETRACK18_NAMES,
    POSEVAL_JOINTS,
    Poses,
    evaluate_posetrack,
    joint_accumulators,
    summarize,
)
from tests.paths import DATA

J = len(POSEVAL_JOINTS)


def _poses(ids, xs, head=10.0) -> Poses:
    """People whose 15 joints all sit at (x, 0)."""
    points = np.stack([np.stack([np.full(J, x), np.zeros(J)], axis=1) for x in xs]).reshape(len(xs), J, 2)
    return Poses(np.array(ids), points, np.ones((len(xs), J), bool), np.full(len(xs), head))


def test_swap_then_a_near_and_a_far_prediction():
    """GT A (x=0) and B (x=100), head size 10 (match radius 5 px), three frames:
    1: 7 on A, 8 on B. 2: 8 on A, 7 on B: both GT change ids -> 2 switches.
    3: 8 4 px from A (kept, distance 0.4), 7 6 px from B (no match: 1 miss, 1 false positive).
    Per joint: 6 GT, 1 miss, 1 FP, 2 switches -> MOTA = 1 - 4/6; 5 matches with distances summing to 0.4 ->
    MOTP = 1 - 0.4/5; IDF1: best identity map A<->8 (frames 2, 3), B<->7 (frame 2) -> IDTP 3 of 6 GT and 6 predicted."""
    gt = [_poses([0, 1], [0, 100]) for _ in range(3)]
    pred = [_poses([7, 8], [0, 100]), _poses([8, 7], [0, 100]), _poses([8, 7], [4, 106])]
    m = summarize([joint_accumulators(gt, pred)])
    for joint in POSEVAL_JOINTS:
        pj = m["per_joint"][joint]
        assert (pj["num_objects"], pj["num_misses"], pj["num_false_positives"], pj["num_switches"]) == (6, 1, 1, 2)
        assert pj["mota"] == pytest.approx(100 * (1 - 4 / 6))
    assert m["mota"] == pytest.approx(100 / 3)
    assert m["motp"] == pytest.approx(100 * (1 - 0.4 / 5))
    assert m["precision"] == pytest.approx(500 / 6) and m["recall"] == pytest.approx(500 / 6)
    assert m["idf1"] == pytest.approx(50.0)
    assert m["num_switches"] == 2 * J


def test_missing_joints_count_only_where_labelled():
    """B's joints 0-4 are not labelled: those joints have one GT each; a prediction there is a false positive."""
    gt = _poses([0, 1], [0, 100])
    gt.present[1, :5] = False
    m = summarize([joint_accumulators([gt], [_poses([3, 4], [0, 100])])])
    assert m["per_joint"][POSEVAL_JOINTS[0]]["num_objects"] == 1
    assert m["per_joint"][POSEVAL_JOINTS[0]]["num_false_positives"] == 1
    assert m["per_joint"][POSEVAL_JOINTS[0]]["mota"] == 0.0
    assert m["per_joint"][POSEVAL_JOINTS[9]]["mota"] == 100.0
    assert m["mota"] == pytest.approx((5 * 0 + 10 * 100) / 15)


def _write_sequence(ann_dir, name="000001_mpii_test"):
    """Two labelled frames and one unlabelled one; one person with head box 6 x 8 (head size 0.6 * 10 = 6 px)."""
    images, annotations = [], []
    for f in range(3):
        image_id = 1000 + f
        images.append(
            {
                "id": image_id,
                "file_name": f"images/val/{name}/{f:06d}.jpg",
                "vid_id": "000001",
                "frame_id": image_id,
                "is_labeled": f != 1,
                "ignore_regions_x": [[200, 300, 300, 200]] if f == 2 else [],
                "ignore_regions_y": [[0, 0, 100, 100]] if f == 2 else [],
            }
        )
        if f == 1:
            continue
        kps = []
        for k, joint in enumerate(POSETRACK18_NAMES):
            labelled = joint not in ("left_ear", "right_ear")
            kps += [10.0 * k + 20, 50.0, 1] if labelled else [0, 0, 0]
        annotations.append(
            {"image_id": image_id, "track_id": 5, "keypoints": kps, "bbox_head": [0, 0, 6, 8], "bbox": [0, 0, 1, 1]}
        )
    ann_dir.mkdir()
    (ann_dir / f"{name}.json").write_text(json.dumps({"images": images, "annotations": annotations}))
    return name


def test_evaluate_posetrack_files(tmp_path):
    """AlphaPose results of one person: frame 0 exact, frame 2 2 px off (within 0.5 x 6 px); the nose scores below
    the keypoint threshold, so it is absent (2 misses); frame 1 is not labelled, so its prediction (another id,
    which would otherwise be a switch) is not evaluated."""
    name = _write_sequence(tmp_path / "ann")
    records = []
    for f, dx in ((0, 0.0), (1, 0.0), (2, 2.0)):
        kps = []
        for k in range(17):
            kps += [10.0 * k + 20 + dx, 50.0, 0.9 if k != 0 else 0.1]  # the nose scores below the threshold
        records.append({"image_id": f"{f:06d}.jpg", "keypoints": kps, "idx": 3 if f != 1 else 9, "box": [0, 0, 1, 1]})
    results = tmp_path / "results"
    (results / name).mkdir(parents=True)
    (results / name / "alphapose-results.json").write_text(json.dumps(records))
    m = evaluate_posetrack(tmp_path / "ann", results, outdir=tmp_path / "out")
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())["mota"] == pytest.approx(m["mota"])
    assert m["frames"] == 2 and m["sequences"] == 1
    nose = m["per_joint"]["nose"]
    assert (nose["num_objects"], nose["num_misses"], nose["mota"]) == (2, 2, 0.0)
    knee = m["per_joint"]["left_knee"]  # slot 13: x = 150, 2 px off in frame 2 (within 3 px)
    assert (knee["num_objects"], knee["num_misses"], knee["num_switches"], knee["mota"]) == (2, 0, 0, 100.0)
    assert m["mota"] == pytest.approx(14 * 100 / 15) and m["num_switches"] == 0


def test_ignore_regions_remove_points(tmp_path):
    """In frame 2 the ignore region covers x in [200, 300]: move the person there and nothing is counted."""
    name = _write_sequence(tmp_path / "ann")
    data = json.loads((tmp_path / "ann" / f"{name}.json").read_text())
    kp = np.array(data["annotations"][1]["keypoints"], float).reshape(17, 3)
    kp[kp[:, 2] > 0, 0] = 250
    data["annotations"][1]["keypoints"] = kp.reshape(-1).tolist()
    (tmp_path / "ann" / f"{name}.json").write_text(json.dumps(data))
    pred_images = [{"id": 1, "file_name": f"images/val/{name}/000000.jpg"}]
    pred_anns = [{"image_id": 1, "track_id": 1, "keypoints": data["annotations"][0]["keypoints"], "scores": [0.9] * 17}]
    results = tmp_path / "results"
    results.mkdir()
    (results / f"{name}.json").write_text(json.dumps({"images": pred_images, "annotations": pred_anns}))
    m = evaluate_posetrack(tmp_path / "ann", results)
    assert m["num_objects"] == 15  # frame 0 only: its 15 joints; frame 2's lie in the ignore region
    assert m["mota"] == pytest.approx(100.0)


def test_results_without_track_ids_or_missing(tmp_path):
    name = _write_sequence(tmp_path / "ann")
    (tmp_path / "results").mkdir()
    with pytest.raises(AkitError, match="no predictions for"):
        evaluate_posetrack(tmp_path / "ann", tmp_path / "results")
    record = {"image_id": "000000.jpg", "keypoints": [0.0] * 51, "idx": [0.0], "box": [0, 0, 1, 1]}
    (tmp_path / "results" / f"{name}.json").write_text(json.dumps([record]))
    with pytest.raises(AkitError, match="--track"):
        evaluate_posetrack(tmp_path / "ann", tmp_path / "results")


def _shared_annotations_as_results(tmp_path, shift_video: str | None = None):
    """The shared PoseTrack18 val annotations copied as results (all scores 1); one video's people moved 500 px."""
    ann_dir = DATA / "posetrack18" / "annotations" / "val"
    results = tmp_path / "results"
    results.mkdir()
    for path in ann_dir.glob("*.json"):
        data = json.loads(path.read_text())
        for ann in data["annotations"]:
            ann["scores"] = [1.0] * 17
            if shift_video and path.name.startswith(shift_video):
                ann["keypoints"] = [v + 500 if i % 3 == 0 and v > 0 else v for i, v in enumerate(ann["keypoints"])]
        (results / path.name).write_text(json.dumps(data))
    return ann_dir, results


def test_shared_posetrack18_annotations_against_themselves(tmp_path):
    """The team's PoseTrack18 val files scored against a copy of their own annotations: every labelled, not
    ignored joint is found, so MOTA is 100 and there is no switch."""
    ann_dir, results = _shared_annotations_as_results(tmp_path)
    m = evaluate_posetrack(ann_dir, results)
    assert m["sequences"] == 3 and m["frames"] == 3
    assert m["mota"] == pytest.approx(100.0) and m["idf1"] == pytest.approx(100.0) and m["num_switches"] == 0


def test_akit_eval_posetrack_cli(tmp_path, capsys):
    """``akit eval --posetrack ANN_DIR --results DIR`` prints the numbers and writes metrics.json; one shifted
    person's every joint (far beyond PCKh 0.5) turns each match into a miss plus a false positive."""
    from alphapose_kit.cli.app import main

    ann_dir, results = _shared_annotations_as_results(tmp_path, shift_video="003418")  # its only person, +500 px
    out = tmp_path / "out"
    code = main(["eval", "--posetrack", str(ann_dir), "--results", str(results), "-o", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert "MOTA" in printed and "ID switches" in printed and metrics["num_switches"] == 0
    assert metrics["mota"] < 100.0 and metrics["num_misses"] > 0
    code = main(["eval", "--posetrack", str(ann_dir), "--coco", "x.json"])
    assert code == 1 and "--results" in capsys.readouterr().err
