"""End-to-end parity with the ORIGINAL AlphaPose: same weights, same boxes -> the same alphapose-results.json.

The golden files were made by running AlphaPose's own ``--detfile`` demo path (c60106d1, OpenCV 4.x) on the
four shared COCO images with the seeded FastPose weights below; tests/data/README.md says exactly how
(tests/data/make_alphapose_parity.py). Here akit's PosePipeline runs on the same inputs and must agree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest
import torch

from alphapose_kit.config import load_config
from alphapose_kit.models import build_pose_model
from alphapose_kit.pipeline import PosePipeline
from alphapose_kit.results import alphapose_records
from alphapose_kit.sources import ImageListSource

REPO = Path(__file__).resolve().parents[1]
COCO = REPO.parent / "shared" / "data" / "coco"
GOLDEN = Path(__file__).with_name("data")
CONFIG = REPO / "configs" / "coco" / "fastpose_res50_256x192.yaml"

SEED = 0
MIN_DET_SCORE = 0.1  # AlphaPose's YOLO confidence threshold; 55 of the 118 shared boxes
CONV_OUT_GAIN = 6e-5  # scales conv_out so heatmaps vary by ~0.1 around CONV_OUT_BIAS, like a trained model's
CONV_OUT_BIAS = 0.5  # every joint's peak (its score) is then > 0.5, so pose NMS keeps people

# Largest differences accepted: float32 rounding of pixel coordinates and scores, nothing more.
KEYPOINT_TOL = 1e-4  # pixels
SCORE_TOL = 1e-6
BOX_TOL = 1e-4  # pixels


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
def parity_model() -> torch.nn.Module:
    cfg = load_config(CONFIG)
    model = build_pose_model(cfg)
    model.load_state_dict(parity_state_dict(model.state_dict()), strict=True)
    return model.eval()


def run_akit(model: torch.nn.Module, detfile: Path, images: list[Path], flip: bool) -> list[dict]:
    pipeline = PosePipeline(load_config(CONFIG), pose_model=model, detfile=detfile, device="cpu", flip=flip)
    records: list[dict] = []
    for result in pipeline.run(ImageListSource(images, "parity images")):
        records.extend(alphapose_records(result))
    return records


def members(idx: object) -> list[float]:
    """The box ids in an "idx" field, whatever its nesting: 3, [3], [3, 5] or [[3.0], [5.0]]."""
    if isinstance(idx, list):
        return [m for item in idx for m in members(item)]
    return [float(idx)]


def max_differences(ours: list[dict], golden: list[dict]) -> dict[str, float]:
    """Per-field max |difference| after checking the structure (people per image, order, idx) is identical."""
    assert [r["image_id"] for r in ours] == [r["image_id"] for r in golden], "people per image or their order differ"
    assert [r["category_id"] for r in ours] == [1] * len(golden)
    assert [members(r["idx"]) for r in ours] == [members(r["idx"]) for r in golden], "merged clusters differ"
    ours_kp = np.array([r["keypoints"] for r in ours], np.float64).reshape(len(ours), -1, 3)
    gold_kp = np.array([r["keypoints"] for r in golden], np.float64).reshape(len(golden), -1, 3)
    return {
        "keypoints": float(np.abs(ours_kp[..., :2] - gold_kp[..., :2]).max()),
        "keypoint_scores": float(np.abs(ours_kp[..., 2] - gold_kp[..., 2]).max()),
        "score": float(np.abs(np.subtract([r["score"] for r in ours], [r["score"] for r in golden])).max()),
        "box": float(np.abs(np.subtract([r["box"] for r in ours], [r["box"] for r in golden])).max()),
    }


@pytest.mark.parametrize("flip", [False, True], ids=["noflip", "flip"])
def test_keypoints_match_original_alphapose(tmp_path: Path, parity_model: torch.nn.Module, flip: bool) -> None:
    if not COCO.is_dir():
        pytest.fail(f"team data folder missing: {COCO}")
    detections = parity_detections(COCO)
    detfile = tmp_path / "detections.json"
    detfile.write_text(json.dumps(detections))
    images = list(dict.fromkeys(Path(d["image_id"]) for d in detections))  # first-appearance order, as AlphaPose
    golden = json.loads((GOLDEN / f"alphapose_parity_{'flip' if flip else 'noflip'}.json").read_text())

    ours = run_akit(parity_model, detfile, images, flip)

    assert len(golden) > 10  # several people per image survive pose NMS
    diff = max_differences(ours, golden)
    print(f"flip={flip}: max differences {diff}")
    assert diff["keypoints"] <= KEYPOINT_TOL
    assert diff["keypoint_scores"] <= SCORE_TOL
    assert diff["score"] <= SCORE_TOL
    assert diff["box"] <= BOX_TOL
