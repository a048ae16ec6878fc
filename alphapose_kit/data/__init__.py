"""Data: keypoint sets, frame sources and the top-down geometry (box -> centre/scale -> crop)."""

from alphapose_kit.data import h36m as _h36m  # noqa: F401  (registers Human3.6M's skeleton)
from alphapose_kit.data import wholebody as _wholebody  # noqa: F401  (registers the whole-body keypoint sets)
