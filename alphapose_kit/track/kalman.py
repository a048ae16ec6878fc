"""Constant-velocity Kalman filter on a person box (centre, width, height), as the motion model of each track.

The state is (cx, cy, w, h) and their velocities per frame; process and measurement noise scale with the box height,
as in SORT/ByteTrack (Bewley et al., ICIP 2016; Zhang et al., ECCV 2022) with BoT-SORT's width-height state.
"""

from __future__ import annotations

import numpy as np

_STD_POSITION = 1.0 / 20  # noise of a measured or predicted position, in box heights
_STD_VELOCITY = 1.0 / 160  # noise of a velocity, in box heights per frame

_F = np.eye(8)
_F[:4, 4:] = np.eye(4)  # x' = x + v (one frame)
_H = np.eye(4, 8)  # the filter sees (cx, cy, w, h)


def xyxy_to_cxcywh(box: np.ndarray) -> np.ndarray:
    """(x1, y1, x2, y2) -> (cx, cy, w, h)."""
    x1, y1, x2, y2 = (float(v) for v in box)
    return np.array([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1])


def cxcywh_to_xyxy(state: np.ndarray) -> np.ndarray:
    """(cx, cy, w, h) -> (x1, y1, x2, y2)."""
    cx, cy, w, h = state[:4]
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


class BoxKalman:
    """One track's box filter: ``predict`` once per frame, ``update`` with the box it was matched to."""

    def __init__(self, box: np.ndarray) -> None:
        z = xyxy_to_cxcywh(box)
        self.mean = np.concatenate([z, np.zeros(4)])
        h = max(z[3], 1.0)
        std = np.array([2 * _STD_POSITION * h] * 4 + [10 * _STD_VELOCITY * h] * 4)
        self.cov = np.diag(std**2)

    def predict(self, keep_size: bool = False) -> None:
        """Advance one frame; ``keep_size`` stops the size from drifting while the track is not seen."""
        if keep_size:
            self.mean[6:] = 0.0
        h = max(self.mean[3], 1.0)
        q = np.array([_STD_POSITION * h] * 4 + [_STD_VELOCITY * h] * 4) ** 2
        self.mean = _F @ self.mean
        self.cov = _F @ self.cov @ _F.T + np.diag(q)

    def update(self, box: np.ndarray) -> None:
        """Correct the state with a measured box (x1, y1, x2, y2)."""
        z = xyxy_to_cxcywh(box)
        h = max(self.mean[3], 1.0)
        r = np.diag(np.full(4, (_STD_POSITION * h) ** 2))
        s = _H @ self.cov @ _H.T + r
        gain = np.linalg.solve(s, _H @ self.cov).T
        self.mean = self.mean + gain @ (z - _H @ self.mean)
        self.cov = self.cov - gain @ s @ gain.T

    @property
    def box(self) -> np.ndarray:
        """The current box estimate (x1, y1, x2, y2)."""
        return cxcywh_to_xyxy(self.mean)
