"""Deployment: export (ONNX, TorchScript, fp16, INT8), pruning, exported-model backends and benchmarks.

``export(ExportOptions)`` and ``bench(BenchOptions)`` are ``akit export`` and ``akit bench`` (keyword arguments work
too). ``load_backend(path) -> (network, cfg)`` runs an exported pose model in the unchanged pipeline:
``PosePipeline(cfg, pose_model=network)``; ``load_detector_backend(path)`` does the same for a detector.
``int8_models(config, checkpoint, source)`` gives the cached INT8 models ``akit infer --int8`` runs.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "export": "alphapose_kit.deploy.commands",
    "bench": "alphapose_kit.deploy.commands",
    "ExportOptions": "alphapose_kit.deploy.options",
    "BenchOptions": "alphapose_kit.deploy.options",
    "FORMATS": "alphapose_kit.deploy.formats",
    "load_backend": "alphapose_kit.deploy.runtime",
    "load_detector_backend": "alphapose_kit.deploy.runtime",
    "load_network": "alphapose_kit.deploy.runtime",
    "read_metadata": "alphapose_kit.deploy.metadata",
    "export_pose": "alphapose_kit.deploy.exporters",
    "export_detector": "alphapose_kit.deploy.exporters",
    "Int8Options": "alphapose_kit.deploy.quantize",
    "prune_pose": "alphapose_kit.deploy.prune",
    "run_bench": "alphapose_kit.deploy.benchmark",
    "int8_models": "alphapose_kit.deploy.auto_int8",
    "Int8Models": "alphapose_kit.deploy.auto_int8",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'alphapose_kit.deploy' has no attribute {name!r}")
