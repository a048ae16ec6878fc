"""End-to-end parity with the ORIGINAL AlphaPose: same weights, same boxes -> the same alphapose-results.json.

The golden files were made by running AlphaPose's own ``--detfile`` demo path (c60106d1, OpenCV 4.x, NumPy 1.x) on the
four shared COCO images with the seeded FastPose weights below; tests/golden/README.md says exactly how
(tests/golden/make_alphapose_parity.py). Here akit's PosePipeline runs on the same inputs and must agree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest
import torch

from alphapose_kit.config import load_config
from alphapose_kit.data.sources import ImageListSource
from alphapose_kit.engine.predictor import PosePipeline
from alphapose_kit.io.results import alphapose_records
from alphapose_kit.models import build_pose_model
from tests.paths import COCO, GOLDEN, REPO

CONFIG = REPO / "configs" / "coco" / "fastpose_res50_256x192.yaml"

SEED = 0
MIN_DET_SCORE = 0.1  # AlphaPose's YOLO confidence threshold; 55 of the 118 shared boxes
CONV_OUT_GAIN = 6e-5  # scales conv_out so heatmaps vary by ~0.1 around CONV_OUT_BIAS, like a trained model's
CONV_OUT_BIAS = 0.5  # every joint's peak (its score) is then > 0.5, so pose NMS keeps people

# Largest differences accepted: float32 rounding, nothing more. akit batches crops differently from the demo,
# which moves heatmap values by ~5e-7 (oneDNN sums in another order) and merged keypoints by 1-2 ulps.
KEYPOINT_TOL = 2.5e-4  # pixels: 4 float32 ulps for x in [512, 1024)
SCORE_TOL = 2e-6
BOX_TOL = 0.0  # detection-file boxes stay float64 end to end, as in AlphaPose


def parity_state_dict(template: Mapping[str, torch.Tensor], seed: int = SEED) -> dict[str, torch.Tensor]:
    """Seeded FastPose weights with the template's keys, shapes and dtypes, drawn in sorted key order.

    Conv/linear weights ~ N(0, sqrt(2 / fan_in)); BN weight 1, bias 0, running_mean ~ N(0, 0.1), running_var
    ~ U(0.5, 1.5); other biases 0; then conv_out.weight *= CONV_OUT_GAIN and conv_out.bias = CONV_OUT_BIAS.
    Uses numpy's legacy RandomState, whose streams are stable across numpy versions.
    """
    rng = np.random.RandomState(seed)
    state: dict[str, torch.Tensor] = {}
    for key in sorted(template):
        ref = template[key]
        shape = tuple(ref.shape)
        if key.endswith("num_batches_tracked"):
            values = np.zeros(shape)
        elif key.endswith("running_mean"):
            values = rng.normal(0.0, 0.1, shape)
        elif key.endswith("running_var"):
            values = rng.uniform(0.5, 1.5, shape)
        elif ref.dim() >= 2:
            values = rng.normal(0.0, np.sqrt(2.0 / np.prod(shape[1:])), shape)
        elif key.endswith("weight"):
            values = np.ones(shape)
        else:
            values = np.zeros(shape)
        if key == "conv_out.weight":
            values = values * CONV_OUT_GAIN
        if key == "conv_out.bias":
            values = np.full(shape, CONV_OUT_BIAS)
        state[key] = torch.from_numpy(np.asarray(values)).to(ref.dtype)
    return state


def parity_detections(coco_dir: Path, min_score: float = MIN_DET_SCORE) -> list[dict]:
    """The shared person boxes scoring >= min_score as --detfile records in file order: image_id = image path,
    idx = the box's position in the shared file (so the output idx names every merged box)."""
    records = json.loads((coco_dir / "person_detections.json").read_text())
    return [
        {"image_id": str(coco_dir / f"{r['image_id']:012d}.jpg"), "bbox": r["bbox"], "score": r["score"], "idx": n}
        for n, r in enumerate(records)
        if r["score"] >= min_score
    ]


@pytest.fixture(scope="module")
def akit_records(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, list[dict]]:
    """akit's AlphaPose records for the parity inputs, without and with flip test (one model, built once)."""
    if not COCO.is_dir():
        pytest.fail(f"team data folder missing: {COCO}")
    cfg = load_config(CONFIG)
    model = build_pose_model(cfg)
    model.load_state_dict(parity_state_dict(model.state_dict()), strict=True)
    detections = parity_detections(COCO)
    detfile = tmp_path_factory.mktemp("parity") / "detections.json"
    detfile.write_text(json.dumps(detections))
    images = list(dict.fromkeys(Path(d["image_id"]) for d in detections))  # first-appearance order, as AlphaPose
    runs = {}
    for flip in (False, True):
        pipeline = PosePipeline(cfg, pose_model=model, detfile=detfile, device="cpu", flip=flip)
        runs[flip] = [
            rec for result in pipeline.run(ImageListSource(images, "parity")) for rec in alphapose_records(result)
        ]
    return runs


def golden(flip: bool) -> list[dict]:
    return json.loads((GOLDEN / f"alphapose_parity_{'flip' if flip else 'noflip'}.json").read_text())


def members(idx: object) -> list[float]:
    """The box ids in an "idx" field, whatever its nesting: 3, [3], [3, 5] or [[3.0], [5.0]]."""
    if isinstance(idx, list):
        return [m for item in idx for m in members(item)]
    return [float(idx)]


def max_differences(ours: list[dict], theirs: list[dict]) -> dict[str, float]:
    """Per-field max |difference| between two record lists of the same people."""
    ours_kp = np.array([r["keypoints"] for r in ours], np.float64).reshape(len(ours), -1, 3)
    their_kp = np.array([r["keypoints"] for r in theirs], np.float64).reshape(len(theirs), -1, 3)
    return {
        "keypoints": float(np.abs(ours_kp[..., :2] - their_kp[..., :2]).max()),
        "keypoint_scores": float(np.abs(ours_kp[..., 2] - their_kp[..., 2]).max()),
        "score": float(np.abs(np.subtract([r["score"] for r in ours], [r["score"] for r in theirs])).max()),
        "box": float(np.abs(np.subtract([r["box"] for r in ours], [r["box"] for r in theirs])).max()),
    }


FLIPS = pytest.mark.parametrize("flip", [False, True], ids=["noflip", "flip"])


@FLIPS
def test_same_people_in_same_order_with_same_clusters(akit_records: dict[bool, list[dict]], flip: bool) -> None:
    ours, theirs = akit_records[flip], golden(flip)
    assert len(theirs) > 30 and any(len(members(r["idx"])) == 3 for r in theirs)  # pose NMS merged real clusters
    assert [r["image_id"] for r in ours] == [r["image_id"] for r in theirs]
    assert [r["category_id"] for r in ours] == [1] * len(theirs)
    assert [members(r["idx"]) for r in ours] == [members(r["idx"]) for r in theirs]
    assert [list(r) for r in ours] == [list(r) for r in theirs]  # same keys in the same order


@FLIPS
def test_keypoints_and_scores_equal_to_float32_rounding(akit_records: dict[bool, list[dict]], flip: bool) -> None:
    ours, theirs = akit_records[flip], golden(flip)
    assert [members(r["idx"]) for r in ours] == [members(r["idx"]) for r in theirs]
    diff = max_differences(ours, theirs)
    print(f"flip={flip}: max differences {diff}")
    assert diff["keypoints"] <= KEYPOINT_TOL
    assert diff["keypoint_scores"] <= SCORE_TOL
    assert diff["score"] <= SCORE_TOL
    assert diff["box"] <= BOX_TOL


def test_idx_written_as_alphapose_writes_it_for_a_detfile(akit_records: dict[bool, list[dict]]) -> None:
    assert [r["idx"] for r in akit_records[False]] == [r["idx"] for r in golden(False)]
