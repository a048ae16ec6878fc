"""The plain IoU tracker the tests measure :class:`~alphapose_kit.track.PoseTracker` against (last box, IoU, no
memory): a baseline, not part of the package."""

from __future__ import annotations

import numpy as np

from alphapose_kit.ops.similarity import box_iou
from alphapose_kit.track import UNTRACKED
from alphapose_kit.track.matching import assign


class IouTracker:
    """The plain IoU tracker used for comparison: each track is its last box, matched by IoU (Hungarian) to the
    next frame's poses; a track not matched is ended at once and every unmatched pose starts a new one."""

    def __init__(self, iou_threshold: float = 0.3, min_score: float = 0.0) -> None:
        self.iou_threshold = iou_threshold
        self.min_score = min_score
        self._boxes = np.zeros((0, 4))
        self._ids = np.zeros(0, np.int64)
        self._next_id = 1

    def update(self, boxes, box_scores, keypoints=None, keypoint_scores=None) -> np.ndarray:
        """Track ids for this frame's boxes (-1 for boxes scored below ``min_score``); keypoints are ignored."""
        b = np.asarray(boxes, np.float64).reshape(-1, 4)
        s = np.asarray(box_scores, np.float64).reshape(-1)
        if s.shape[0] != b.shape[0]:
            raise ValueError(f"{b.shape[0]} boxes but {s.shape[0]} box scores")
        ids = np.full(b.shape[0], UNTRACKED, np.int64)
        usable = np.flatnonzero(s >= self.min_score)
        matches, _, free = assign(box_iou(self._boxes, b[usable]), self.iou_threshold)
        for ti, di in matches:
            ids[usable[di]] = self._ids[ti]
        for di in free:
            ids[usable[di]] = self._next_id
            self._next_id += 1
        self._boxes, self._ids = b[usable], ids[usable]
        return ids
