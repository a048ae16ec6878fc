"""GoldenPoseNet as MODEL.TYPE ``GoldenPoseNetTest``, so ``akit eval`` can build it from a config and a checkpoint.

Importing this module registers the type. ``python -m tests.evaluation.cli_model eval ...`` (from the repository root,
also under torchrun) runs the akit CLI with the type registered.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from yacs.config import CfgNode

from alphapose_kit.models.registry import register_pose_model
from tests.evaluation.golden_model import GoldenPoseNet
from tests.paths import REPO

MODEL_TYPE = "GoldenPoseNetTest"
CONFIG = str(REPO / "configs" / "coco" / "fastpose_res50_256x192.yaml")
MODEL_OPTS = ["--opts", "MODEL.TYPE", MODEL_TYPE]


@register_pose_model(MODEL_TYPE)
def build_golden(cfg: CfgNode) -> GoldenPoseNet:
    return GoldenPoseNet()


def write_checkpoint(path: Path) -> Path:
    """GoldenPoseNet's state_dict as a checkpoint file."""
    torch.save(GoldenPoseNet().state_dict(), path)
    return path


if __name__ == "__main__":
    from alphapose_kit.cli.app import main

    sys.exit(main(sys.argv[1:]))
