"""Deployment: export (ONNX, TorchScript, fp16, INT8), pruning, exported-model backends and benchmarks.

``load_backend(path) -> (network, cfg)`` runs an exported pose model in the unchanged pipeline:
``PosePipeline(cfg, pose_model=network)``; ``load_detector_backend(path)`` does the same for a detector.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "load_backend": "alphapose_kit.deploy.runtime",
    "load_detector_backend": "alphapose_kit.deploy.runtime",
    "load_network": "alphapose_kit.deploy.runtime",
    "read_metadata": "alphapose_kit.deploy.metadata",
    "export_pose": "alphapose_kit.deploy.export",
    "export_detector": "alphapose_kit.deploy.export",
    "Int8Options": "alphapose_kit.deploy.quantize",
    "prune_pose": "alphapose_kit.deploy.prune",
    "run_bench": "alphapose_kit.deploy.bench",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'alphapose_kit.deploy' has no attribute {name!r}")
