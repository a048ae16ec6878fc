"""The tracking step of ``akit infer --track [--track-buffer N] [--smooth]``: track ids into ``idx``, keypoints
smoothed per track. Called once per finished frame, in order, between the pipeline and the writer.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from alphapose_kit.data.keypoints import KeypointSet
from alphapose_kit.errors import AkitError
from alphapose_kit.io.results import FrameResult
from alphapose_kit.track.pose_tracker import PoseTracker
from alphapose_kit.track.smoothing import KeypointSmoother

log = logging.getLogger("akit.track")


def check_tracking_options(track: bool, track_buffer: int, smooth: bool) -> None:
    """One line for tracking flags that do not fit together."""
    if track_buffer < 0:
        raise AkitError(f"--track-buffer must not be negative, got {track_buffer}")
    if smooth and not track:
        raise AkitError("--smooth filters each track's keypoints: add --track")


class TrackingStage:
    """Sets each person's ``idx`` to its track id (an int; -1 for a pose no track claimed) and, with ``smooth``,
    One Euro filters each track's keypoints (time from ``frame_index / fps``)."""

    def __init__(
        self,
        track_buffer: int = 30,
        smooth: bool = False,
        fps: float = 30.0,
        sigmas: np.ndarray | None = None,
        iou_weight: float = 0.5,
    ) -> None:
        check_tracking_options(True, track_buffer, smooth)
        self.tracker = PoseTracker(track_buffer=track_buffer, sigmas=sigmas, iou_weight=iou_weight)
        self.smoother = KeypointSmoother() if smooth else None
        self.fps = fps if fps and fps > 0 else 30.0

    @classmethod
    def from_options(cls, options: Any, fps: float, keypoint_set: KeypointSet | None = None) -> TrackingStage | None:
        """The stage ``options`` ask for (fields ``track``, ``track_buffer``, ``smooth``), or None without --track.

        OKS uses ``keypoint_set``'s sigmas; a set that declares none is tracked by boxes alone (with a warning).
        """
        track, buffer, smooth = options.track, options.track_buffer, options.smooth
        check_tracking_options(track, buffer, smooth)
        if not track:
            return None
        if keypoint_set is not None and not keypoint_set.sigmas:
            log.warning("keypoint set %s has no OKS sigmas: tracking by box IoU alone", keypoint_set.name)
            return cls(buffer, smooth, fps, iou_weight=1.0)
        sigmas = np.asarray(keypoint_set.sigmas, np.float64) if keypoint_set is not None else None
        return cls(buffer, smooth, fps, sigmas)

    def apply(self, result: FrameResult) -> FrameResult:
        """Track (and smooth) one frame's poses in place; returns ``result``."""
        ids = self.tracker.update(result.boxes, result.box_scores, result.keypoints, result.keypoint_scores)
        result.idx = [int(i) for i in ids]
        if self.smoother is not None:
            t = result.frame_index / self.fps
            for m, track_id in enumerate(ids):
                if track_id < 0:
                    continue
                x1, y1, x2, y2 = (float(v) for v in result.boxes[m])
                size = max(x2 - x1, y2 - y1)
                smoothed = self.smoother.smooth(int(track_id), result.keypoints[m], t, size)
                result.keypoints[m] = smoothed.astype(result.keypoints.dtype)
            self.smoother.keep_only(self.tracker.live_ids)
        return result
