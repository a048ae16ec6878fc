"""Data: keypoint sets, frame sources, the top-down geometry (box -> centre/scale -> crop) and the COCO dataset.

Public names are imported lazily, so importing one submodule does not load the dataset's dependencies.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "CocoAnnotations": "alphapose_kit.data.coco",
    "CocoKeypoints": "alphapose_kit.data.coco",
}

__all__ = list(_LAZY)

from alphapose_kit.data import h36m as _h36m  # noqa: E402,F401  (registers Human3.6M's skeleton)
from alphapose_kit.data import wholebody as _wholebody  # noqa: E402,F401  (registers the whole-body keypoint sets)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'alphapose_kit.data' has no attribute {name!r}")
