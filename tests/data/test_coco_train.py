"""CocoKeypoints(train=True): AlphaPose's training sample on the shared COCO people.

With every augmentation off the training sample must be the validation sample (which tests/data/test_coco.py checks
bit for bit against the original), so the training path keeps the original's crop, box and target conventions.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from alphapose_kit.config import load_config
from alphapose_kit.data.coco import CocoKeypoints
from tests.paths import COCO

ANN = COCO / "person_keypoints.json"
NO_AUG = [
    "DATASET.TRAIN.AUG.SCALE_FACTOR", "0",
    "DATASET.TRAIN.AUG.ROT_FACTOR", "0",
    "DATASET.TRAIN.AUG.FLIP", "false",
]  # fmt: skip


def test_training_sample_without_augmentation_is_the_validation_sample() -> None:
    cfg = load_config("coco/fastpose_res50_256x192", NO_AUG)
    train, val = CocoKeypoints(ANN, COCO, cfg, train=True), CocoKeypoints(ANN, COCO, cfg, train=False)
    assert len(train) == len(val) == 12
    for i in (0, 5, 11):
        a, b = train[i], val[i]
        for key in ("image", "target", "target_weight", "box"):
            assert a[key].dtype == b[key].dtype and torch.equal(a[key], b[key]), (i, key)
        assert a["image_id"] == b["image_id"] and a["index"] == i


def test_samples_depend_on_seed_epoch_and_index_only() -> None:
    cfg = load_config("coco/hrnet_w32_256x192", ["TRAIN.SEED", "7"])  # scale, rotation, flip, half-body on
    dataset = CocoKeypoints(ANN, COCO, cfg, train=True)
    first = dataset[3]
    assert torch.equal(dataset[3]["image"], first["image"])  # same epoch: same draw
    dataset.set_epoch(1)
    assert not torch.equal(dataset[3]["box"], first["box"])  # next epoch: a new draw
    # the DataLoader's worker count does not change a single number
    dataset.set_epoch(2)
    batches = [next(iter(DataLoader(dataset, batch_size=6, num_workers=w))) for w in (0, 2)]
    for key in ("image", "target", "target_weight", "box"):
        assert torch.equal(batches[0][key], batches[1][key]), key


def test_dpg_phase_jitters_the_box() -> None:
    cfg = load_config("coco/fastpose_res50_256x192", NO_AUG)
    dataset = CocoKeypoints(ANN, COCO, cfg, train=True)
    plain = dataset[0]["box"]
    dataset.set_epoch(0, dpg=True)
    assert not torch.equal(dataset[0]["box"], plain)
    dataset.set_epoch(0, dpg=False)
    assert torch.equal(dataset[0]["box"], plain)


@pytest.mark.parametrize(("loss", "target_shape"), [("L1JointRegression", (34,)), ("MSELoss", (17, 64, 48))])
def test_targets_follow_the_loss_type(loss: str, target_shape: tuple[int, ...]) -> None:
    cfg = load_config("coco/fastpose_res50_256x192", ["DATA_PRESET.LOSS_TYPE", loss, *NO_AUG])
    sample = CocoKeypoints(ANN, COCO, cfg, train=True)[0]
    assert tuple(sample["target"].shape) == target_shape
    if loss == "L1JointRegression":
        # integral targets are the heatmap targets' joints in normalised crop coordinates
        val = CocoKeypoints(ANN, COCO, load_config("coco/fastpose_res50_256x192"), train=False)[0]
        peaks = val["target"].reshape(17, -1).argmax(dim=1)
        xy = (sample["target"].reshape(17, 2) + 0.5) * torch.tensor([192.0, 256.0])
        labelled = sample["target_weight"].reshape(17, 2)[:, 0] > 0
        grid = torch.stack([peaks % 48, peaks // 48], dim=1).float()
        assert torch.all((torch.trunc(xy / 4 + 0.5) - grid)[labelled].abs() == 0)
        assert np.array_equal(sample["target_weight"].numpy()[0::2], val["target_weight"].numpy().reshape(-1))
