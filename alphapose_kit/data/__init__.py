"""Data: keypoint sets, frame sources and the top-down geometry (box -> centre/scale -> crop)."""
