"""Pose networks (one family per file) and the MODEL.TYPE registry that builds them from a config."""

from alphapose_kit.models.registry import build_pose_model, register_pose_model, registered_model_types

__all__ = ["build_pose_model", "register_pose_model", "registered_model_types"]
