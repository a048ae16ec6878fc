"""Data: keypoint sets, frame sources and the top-down geometry (box -> centre/scale -> crop)."""

from alphapose_kit.data import wholebody as _wholebody  # noqa: F401  (registers the whole-body keypoint sets)
