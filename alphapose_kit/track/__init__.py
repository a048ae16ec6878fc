"""Pose tracking: stable person ids across frames (ByteTrack-style PoseTracker, IoU baseline), One Euro smoothing."""

from alphapose_kit.track.pose_tracker import UNTRACKED, IouTracker, PoseTracker
from alphapose_kit.track.smoothing import KeypointSmoother, OneEuroFilter
from alphapose_kit.track.stage import TrackingStage, check_tracking_options

__all__ = [
    "UNTRACKED",
    "IouTracker",
    "KeypointSmoother",
    "OneEuroFilter",
    "PoseTracker",
    "TrackingStage",
    "check_tracking_options",
]
