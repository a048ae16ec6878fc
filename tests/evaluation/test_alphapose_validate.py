"""akit's model evaluation against AlphaPose's own ``scripts/validate.py`` on the same network and data.

eval_golden.npz holds what the original wrote and scored for six runs (ground-truth and detected boxes, flip test off
and on, P-NMS, OKS-NMS); tests/golden/README.md says how it was made. akit must write the same records (keypoints,
scores, boxes, order) and therefore get the same COCO numbers, including the AP the original's evaluate_mAP gave.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from alphapose_kit import evaluate
from alphapose_kit.evaluation.metric import STAT_KEYS
from tests.evaluation.golden_model import GoldenPoseNet
from tests.paths import COCO, GOLDEN, REPO

CONFIG = REPO / "configs" / "coco" / "fastpose_res50_256x192.yaml"
ANN = COCO / "person_keypoints.json"
DETS = COCO / "person_detections.json"
# float32 rounding only (the network's sums depend on the batch it runs in); on this data the match is exact
KEYPOINT_TOL = 2.5e-4
SCORE_TOL = 2e-6


@pytest.fixture(scope="module")
def golden() -> dict[str, np.ndarray]:
    return dict(np.load(GOLDEN / "eval_golden.npz"))


def run(tmp: Path, boxes: str, flip: bool = False, pose_nms: str = "none", **kwargs) -> dict:
    return evaluate(
        ANN,
        COCO,
        model=GoldenPoseNet(),
        config=CONFIG,
        boxes=boxes,
        flip=flip,
        pose_nms=pose_nms,
        device="cpu",
        workers=0,
        batch=16,
        quiet=True,
        outdir=tmp,
        **kwargs,
    )


def check_run(golden: dict[str, np.ndarray], name: str, results_file: Path, metrics: dict) -> None:
    records = json.loads(results_file.read_text())
    ids = golden[f"{name}__image_id"]
    assert [r["image_id"] for r in records] == ids.tolist()
    ours = np.array([r["keypoints"] for r in records], np.float64).reshape(len(ids), -1, 3)
    theirs = golden[f"{name}__keypoints"].astype(np.float64).reshape(len(ids), -1, 3)
    assert np.abs(ours[..., :2] - theirs[..., :2]).max() <= KEYPOINT_TOL
    assert np.abs(ours[..., 2] - theirs[..., 2]).max() <= SCORE_TOL
    assert np.abs(np.array([r["score"] for r in records]) - golden[f"{name}__score"]).max() <= SCORE_TOL
    if f"{name}__bbox" in golden and name.startswith("det"):
        assert np.array_equal([r["bbox"] for r in records], golden[f"{name}__bbox"])
    if name.startswith("gt"):  # the original writes the same crop box as x1, y1, x2, y2
        xyxy = golden[f"{name}__bbox"]
        assert np.array_equal([r["bbox"] for r in records], np.c_[xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]])
    if name == "det_pnms":
        assert all("bbox" not in r for r in records)  # as the original: pycocotools takes the keypoints' extent
    assert [metrics[k] for k in STAT_KEYS] == pytest.approx(golden[f"{name}__stats"].tolist(), abs=1e-12)
    assert metrics["AP"] == pytest.approx(float(golden[f"{name}__alphapose_ap"]), abs=1e-12)


@pytest.mark.parametrize("flip", [False, True], ids=["noflip", "flip"])
def test_gt_and_detection_passes_equal_alphapose(golden: dict, tmp_path: Path, flip: bool) -> None:
    metrics = run(tmp_path, f"gt,{DETS}", flip=flip)
    tag = "flip" if flip else "noflip"
    check_run(golden, f"gt_{tag}", tmp_path / "results_gt.json", metrics["gt"])
    check_run(golden, f"det_{tag}", tmp_path / "results_det.json", metrics["det"])
    assert metrics["gt"]["AP"] > 0 and metrics["det"]["detections"] == 118
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics


@pytest.mark.parametrize("pose_nms", ["pnms", "oks"])
def test_pose_nms_equals_alphapose(golden: dict, tmp_path: Path, pose_nms: str) -> None:
    metrics = run(tmp_path, str(DETS), pose_nms=pose_nms)
    check_run(golden, f"det_{pose_nms}", tmp_path / "results.json", metrics)
    assert metrics["results"] < 118  # the NMS removed people
