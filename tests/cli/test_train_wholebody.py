"""``akit train`` on whole-body data: a 136-joint Combined model memorises a small COCO-WholeBody-layout sample.

The sample is the shared COCO people with feet, face and hands added (tests/cli/wholebody_sample.py), read into
Halpe-136 by joint name as the multi-domain config does; the network is the
tiny TinyPoseTest at 64 x 64 (about 40 s on two busy cores).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import tests.engine.tiny_model  # noqa: F401  (registers TinyPoseTest in this process)
from alphapose_kit.cli.app import main
from alphapose_kit.engine.run_files import read_metrics
from tests.cli.wholebody_sample import write_wholebody_sample
from tests.engine.tiny_model import TINY_OPTS
from tests.paths import COCO
from tests.threads import one_thread  # noqa: F401  (autouse fixture)

CONFIG = "halpe136/multi_domain_fastpose_dcn_res50_combined_256x192"  # Combined, LOSS.HAND_WEIGHT 10
SMALL = [
    *TINY_OPTS,
    "DATA_PRESET.IMAGE_SIZE", "[64, 64]",
    "DATA_PRESET.HEATMAP_SIZE", "[16, 16]",
    "TRAIN.DPG_MILESTONE", "-1",
    "TRAIN.NUM_WORKERS", "1",
    "TRAIN.VAL_INTERVAL", "0",
    "DATASET.TRAIN.AUG.SCALE_FACTOR", "0",
    "DATASET.TRAIN.AUG.ROT_FACTOR", "0",
    "DATASET.TRAIN.AUG.FLIP", "false",
]  # fmt: skip


def test_combined_136_model_learns_the_wholebody_sample(tmp_path: Path) -> None:
    """128 Adam steps on the 12 people (augmentation off): the combined loss falls and AlphaPose's training accuracy
    (body heatmaps and face/hand integral joints, weighted by their counts) rises well above its start."""
    ann = write_wholebody_sample(tmp_path / "wholebody.json", times=8)  # 96 samples: 8 steps of 12 per epoch
    run = tmp_path / "run"
    code = main(
        ["train", "--config", CONFIG, "--train-ann", str(ann), "--train-images", str(COCO), "--outdir", str(run),
         "--epochs", "16", "--batch", "12", "--lr", "1e-2", "--quiet", "--opts", *SMALL]
    )  # fmt: skip
    assert code == 0
    rows = read_metrics(run)
    assert len(rows) == 16
    assert rows[-1]["loss"] < rows[0]["loss"] / 3  # 4.4 -> 0.7 here
    assert rows[0]["accuracy"] < 0.1 and rows[-1]["accuracy"] > 0.3  # 0.04 -> 0.5 here


def test_validation_file_the_evaluator_cannot_score_is_refused_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    ann = write_wholebody_sample(tmp_path / "wholebody.json")
    run = tmp_path / "run"
    opts = [*SMALL, "TRAIN.VAL_INTERVAL", "1"]  # the later value wins
    code = main(
        ["train", "--config", CONFIG, "--train-ann", str(ann), "--train-images", str(COCO), "--val-ann", str(ann),
         "--val-images", str(COCO), "--outdir", str(run), "--epochs", "1", "--quiet", "--opts", *opts]
    )  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and not (run / "metrics.csv").exists()
    assert err[0].startswith("akit: error: validation: the model predicts 136 joints but wholebody.json scores 17")
