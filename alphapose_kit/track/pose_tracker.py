"""Multi-person pose tracking: stable IDs across frames from boxes, their scores and keypoints.

:class:`PoseTracker` follows ByteTrack's association (Zhang et al., "ByteTrack", ECCV 2022): confident poses are
matched first against every live track (seen or lost), then the low-score poses against the tracks still unmatched,
with IoU only; a track not seen for ``track_buffer`` frames is dropped, and only a confident pose starts a new one.
Each track has a constant-velocity Kalman box filter (SORT), and the first pass scores a pair by mixing box IoU with
keypoint OKS against the track's pose carried along by its predicted box, so people who cross or come back from a
short occlusion keep their ID. :class:`IouTracker` is the plain baseline (last box, IoU, no memory).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alphapose_kit.data.keypoints import get_keypoint_set
from alphapose_kit.ops.similarity import box_iou, pose_oks
from alphapose_kit.track.kalman import BoxKalman
from alphapose_kit.track.matching import assign

UNTRACKED = -1  # the id of a pose that no track claimed (a low-score pose left over, or too weak to start one)


@dataclass
class _Track:
    track_id: int
    kalman: BoxKalman
    rel_keypoints: np.ndarray  # (K, 2) keypoints relative to the box centre, in box heights
    visible: np.ndarray  # (K,) bool: joints scored above the tracker's keypoint threshold
    last_frame: int
    hits: int = 1
    lost: bool = False

    def remember_pose(self, box: np.ndarray, keypoints: np.ndarray, visible: np.ndarray) -> None:
        centre = (box[:2] + box[2:]) / 2
        self.rel_keypoints = (keypoints - centre) / max(float(box[3] - box[1]), 1.0)
        self.visible = visible

    def predicted_keypoints(self) -> np.ndarray:
        box = self.kalman.box
        return (box[:2] + box[2:]) / 2 + self.rel_keypoints * max(float(box[3] - box[1]), 1.0)


def _as_arrays(boxes, box_scores, keypoints, keypoint_scores) -> tuple[np.ndarray, ...]:
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    s = np.asarray(box_scores, np.float64).reshape(-1)
    k = np.asarray(keypoints, np.float64)
    ks = np.asarray(keypoint_scores, np.float64)
    n = b.shape[0]
    if s.shape[0] != n or k.shape[:1] != (n,) or ks.shape[:1] != (n,):
        raise ValueError(f"boxes ({n}), box_scores, keypoints and keypoint_scores must have one row per pose")
    if n and (k.ndim != 3 or k.shape[2] != 2 or ks.shape != k.shape[:2]):
        raise ValueError(f"keypoints must be (N, K, 2) and keypoint_scores (N, K), got {k.shape} and {ks.shape}")
    if n == 0:
        joints = k.shape[1] if k.ndim == 3 else 0
        return b, s, np.zeros((0, joints, 2)), np.zeros((0, joints))
    return b, s, k, ks


class PoseTracker:
    """ByteTrack-style pose tracker: ``update`` once per frame, in order; returns a track id per pose (-1: none)."""

    def __init__(
        self,
        track_buffer: int = 30,
        track_thresh: float = 0.5,
        low_thresh: float = 0.1,
        new_track_thresh: float | None = None,
        min_similarity: float = 0.2,
        low_min_iou: float = 0.5,
        iou_weight: float = 0.5,
        keypoint_thresh: float = 0.3,
        sigmas: np.ndarray | None = None,
    ) -> None:
        """``track_buffer``: frames a lost track waits to be found again. ``track_thresh``: box score of a confident
        pose (first pass); ``low_thresh``: lowest score used at all (second pass); a new track needs
        ``new_track_thresh`` (default track_thresh + 0.1, as ByteTrack). ``iou_weight``: weight of box IoU against
        keypoint OKS in the first pass; ``keypoint_thresh``: joint score for a joint to count in OKS.
        """
        if track_buffer < 0:
            raise ValueError(f"track_buffer must not be negative, got {track_buffer}")
        if not 0.0 <= iou_weight <= 1.0:
            raise ValueError(f"iou_weight must be in [0, 1], got {iou_weight}")
        self.track_buffer = track_buffer
        self.track_thresh = track_thresh
        self.low_thresh = low_thresh
        self.new_track_thresh = track_thresh + 0.1 if new_track_thresh is None else new_track_thresh
        self.min_similarity = min_similarity
        self.low_min_iou = low_min_iou
        self.iou_weight = iou_weight
        self.keypoint_thresh = keypoint_thresh
        self.sigmas = None if sigmas is None else np.asarray(sigmas, np.float64)
        self.frame = 0
        self.tracks: list[_Track] = []
        self._next_id = 1

    @property
    def live_ids(self) -> set[int]:
        """IDs of tracks still kept (seen now or lost for at most ``track_buffer`` frames)."""
        return {t.track_id for t in self.tracks}

    def _similarity(self, tracks: list[_Track], boxes: np.ndarray, kps: np.ndarray, vis: np.ndarray) -> np.ndarray:
        predicted = np.array([t.kalman.box for t in tracks]).reshape(-1, 4)
        iou = box_iou(predicted, boxes)
        if not tracks or not len(boxes) or self.iou_weight == 1.0:
            return iou
        sigmas = self.sigmas if self.sigmas is not None else get_keypoint_set(kps.shape[1]).sigma_array
        areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
        oks = pose_oks(
            np.array([t.predicted_keypoints() for t in tracks]),
            np.array([t.visible for t in tracks]),
            kps,
            vis,
            areas,
            sigmas,
        )
        mixed = self.iou_weight * iou + (1 - self.iou_weight) * oks
        return np.where(np.isnan(oks), iou, mixed)

    def update(self, boxes, box_scores, keypoints, keypoint_scores) -> np.ndarray:
        """Associate this frame's poses with the tracks; returns an int64 track id per pose (-1 when untracked)."""
        b, s, k, ks = _as_arrays(boxes, box_scores, keypoints, keypoint_scores)
        self.frame += 1
        vis = ks > self.keypoint_thresh
        ids = np.full(b.shape[0], UNTRACKED, np.int64)
        for track in self.tracks:
            track.kalman.predict(keep_size=track.lost)

        high = np.flatnonzero(s >= self.track_thresh)
        low = np.flatnonzero((s >= self.low_thresh) & (s < self.track_thresh))

        # first pass: confident poses against every live track, IoU mixed with OKS
        sim = self._similarity(self.tracks, b[high], k[high], vis[high])
        matches, free_tracks, free_high = assign(sim, self.min_similarity)
        for ti, di in matches:
            self._hit(self.tracks[ti], high[di], b, k, vis, ids)

        # second pass: low-score poses against tracks seen in the last frame, IoU only (ByteTrack)
        recent = [self.tracks[i] for i in free_tracks if not self.tracks[i].lost]
        iou = box_iou(np.array([t.kalman.box for t in recent]).reshape(-1, 4), b[low])
        matches_low, _, _ = assign(iou, self.low_min_iou)
        for ti, di in matches_low:
            self._hit(recent[ti], low[di], b, k, vis, ids)

        kept = []
        for track in self.tracks:
            if track.last_frame != self.frame:
                if track.hits < 2:  # seen once and gone: a false positive, not worth a buffer (ByteTrack)
                    continue
                track.lost = True
            if self.frame - track.last_frame <= self.track_buffer:
                kept.append(track)
        self.tracks = kept

        for di in free_high:
            j = high[di]
            if s[j] >= self.new_track_thresh:
                track = _Track(self._next_id, BoxKalman(b[j]), np.zeros((k.shape[1], 2)), vis[j], self.frame)
                track.remember_pose(b[j], k[j], vis[j])
                self.tracks.append(track)
                ids[j] = track.track_id
                self._next_id += 1
        return ids

    def _hit(self, track: _Track, j: int, b: np.ndarray, k: np.ndarray, vis: np.ndarray, ids: np.ndarray) -> None:
        track.kalman.update(b[j])
        track.remember_pose(b[j], k[j], vis[j])
        track.last_frame = self.frame
        track.hits += 1
        track.lost = False
        ids[j] = track.track_id
