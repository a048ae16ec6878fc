"""scripts/mpii_to_coco.py on the shared MPII sample, and the custom 16-joint keypoint set it writes training with
``akit train`` and scoring with ``akit eval`` (the README's custom-keypoint example)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

import tests.engine.tiny_model  # noqa: F401  (registers TinyPoseTest)
from alphapose_kit.cli.app import main
from alphapose_kit.config import load_config
from alphapose_kit.data.keypoints import get_keypoint_set
from alphapose_kit.engine.run_files import read_metrics
from tests.engine.tiny_model import TINY_OPTS
from tests.paths import DATA, SCRIPTS

MPII = DATA / "mpii"


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = importlib.util.spec_from_file_location("mpii_to_coco", SCRIPTS / "mpii_to_coco.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path_factory.mktemp("mpii")
    return script.main(["--mpii-json", str(MPII / "test_mpii.json"), "--images", str(MPII), "--out", str(out)])


def test_conversion_by_hand(converted: Path) -> None:
    coco = json.loads((converted / "mpii_coco.json").read_text())
    assert len(coco["images"]) == 5 and len(coco["annotations"]) == 5
    by_file = {im["file_name"]: im for im in coco["images"]}
    assert by_file["052475643.jpg"] == {"id": 52475643, "file_name": "052475643.jpg", "height": 480, "width": 854}
    ann = {a["image_id"]: a for a in coco["annotations"]}
    raw = {r["image"]: r for r in json.loads((MPII / "test_mpii.json").read_text())}
    # MMPose's reading of MPII: centre - 1 (1-based), y + 15 * scale, square of side 200 * scale
    (cx, cy), s = raw["052475643.jpg"]["center"], raw["052475643.jpg"]["scale"]  # (316, 220), 1.762: inside
    x, y = cx - 1 - 100 * s, cy - 1 + 15 * s - 100 * s
    assert ann[52475643]["bbox"] == pytest.approx([x, y, 200 * s, 200 * s], abs=0.01)
    assert ann[52475643]["bbox"] == pytest.approx([138.8, 69.2, 352.4, 352.4], abs=0.1)
    (cx, cy), s = raw["005808361.jpg"]["center"], raw["005808361.jpg"]["scale"]  # (966, 340), 4.718: clipped
    x = cx - 1 - 100 * s  # top at 339 + 15 s - 100 s < 0, bottom > 719, right > 1279
    assert ann[5808361]["bbox"] == pytest.approx([x, 0.0, 1279 - x, 719.0], abs=0.01)
    # joints 0 and 5 of 051423444 are unlabelled ([-1, -1] in MPII): v = 0 at (0, 0)
    kp = ann[51423444]["keypoints"]
    assert kp[0:3] == [0, 0, 0] and kp[15:18] == [0, 0, 0] and ann[51423444]["num_keypoints"] == 14
    assert ann[5808361]["keypoints"][27:30] == [*raw["005808361.jpg"]["joints"][9], 2]  # head_top, labelled


def test_keypoint_set_and_config(converted: Path) -> None:
    kps = get_keypoint_set(str(converted / "mpii16.json"))
    assert kps.num_joints == 16 and (12, 13) in kps.flip_pairs and kps.upper_body == tuple(range(7, 16))
    assert kps.names[9] == "head_top" and len(kps.sigmas) == 16
    cfg = load_config(converted / "config.yaml")
    assert cfg.DATA_PRESET.NUM_JOINTS == 16 and cfg.DATASET.TRAIN.ANN == str(converted / "mpii_coco.json")


def test_custom_keypoint_set_trains_and_evaluates(converted: Path, tmp_path: Path) -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run = tmp_path / "run"
        opts = [*TINY_OPTS, "DATA_PRESET.IMAGE_SIZE", "[128, 96]", "DATA_PRESET.HEATMAP_SIZE", "[32, 24]",
                "TRAIN.NUM_WORKERS", "0", "TRAIN.VAL_INTERVAL", "2",
                "DATASET.TRAIN.AUG.PROB_HALF_BODY", "0.5"]  # fmt: skip
        code = main(["train", "--config", str(converted / "config.yaml"), "--epochs", "2", "--batch", "5",
                     "--outdir", str(run), "--quiet", "--opts", *opts])  # fmt: skip
        assert code == 0
        rows = read_metrics(run)
        assert [r["epoch"] for r in rows] == [1, 2] and rows[1]["AP"] is not None  # scored with the MPII sigmas
        assert torch.load(run / "best.pth", weights_only=True)["state_dict"]["head.1.weight"].shape[0] == 16
    finally:
        torch.set_num_threads(threads)
