"""alphapose-kit: AlphaPose's multi-person pose pipeline as a library and the ``akit`` CLI.

Public names are imported lazily so ``import alphapose_kit`` (and ``akit --help``) stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "load_config": "alphapose_kit.config",
    "load_pose_model": "alphapose_kit.models.loader",
    "load_detector": "alphapose_kit.detectors",
    "get_keypoint_set": "alphapose_kit.data.keypoints",
    "KeypointSet": "alphapose_kit.data.keypoints",
    "register_keypoint_set": "alphapose_kit.data.keypoints",
    "PosePipeline": "alphapose_kit.engine.predictor",
    "FrameResult": "alphapose_kit.io.results",
    "parametric_pose_nms": "alphapose_kit.ops",
    "oks_pose_nms": "alphapose_kit.ops",
    "run_inference": "alphapose_kit.engine.infer",
    "InferOptions": "alphapose_kit.engine.options",
    "PipelineOptions": "alphapose_kit.engine.options",
    "PoseEstimator": "alphapose_kit.engine.estimator",
    "evaluate": "alphapose_kit.evaluation",
    "train": "alphapose_kit.engine.trainer",
    "TrainOptions": "alphapose_kit.engine.train_options",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'alphapose_kit' has no attribute {name!r}")
