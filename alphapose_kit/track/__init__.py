"""Pose tracking: stable person ids across frames (ByteTrack-style PoseTracker), One Euro smoothing."""

from alphapose_kit.track.pose_tracker import UNTRACKED, PoseTracker
from alphapose_kit.track.smoothing import KeypointSmoother, OneEuroFilter
from alphapose_kit.track.stage import TrackingStage, check_tracking_options

__all__ = [
    "UNTRACKED",
    "KeypointSmoother",
    "OneEuroFilter",
    "PoseTracker",
    "TrackingStage",
    "check_tracking_options",
]
