"""Evaluation: COCO's keypoint metric the way AlphaPose computes it, with per-joint and left/right diagnostics."""

from alphapose_kit.evaluation.metric import STAT_KEYS, evaluate_keypoints, format_table
from alphapose_kit.evaluation.options import EvalOptions
from alphapose_kit.evaluation.runner import evaluate

__all__ = ["STAT_KEYS", "EvalOptions", "evaluate", "evaluate_keypoints", "format_table"]
