"""AlphaPose's person score, the one formula every pose-NMS variant and the NMS-free path share.

score = mean(joint scores) + detection score + 1.25 * max(joint scores): the score AlphaPose's writer
(alphapose/utils/writer.py) gives every person, and the base that scripts/validate.py rescores for OKS-NMS.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["MAX_WEIGHT", "person_score"]

MAX_WEIGHT = 1.25  # weight of the best joint score


def person_score(keypoint_scores, box_scores, mean=None) -> np.ndarray:
    """(mean + det) + 1.25 * max of each pose's joint scores: (M, K) joint scores, (M,) detection scores -> (M,).

    Float32 throughout, with the mean summed in the order of torch's CPU kernel as the writer's ``torch.mean`` does
    (so the result is AlphaPose's to the bit); float64 box scores (a detection file) make the two additions float64,
    as torch's type promotion does in the original. ``mean`` overrides the per-pose mean where the original sums in
    another order (validate.py's ``np.mean``).
    """
    scores = np.ascontiguousarray(keypoint_scores, dtype=np.float32)
    if scores.ndim != 2:
        raise ValueError(f"keypoint_scores must have shape (M, K), got {scores.shape}")
    det = np.asarray(box_scores)
    det = det.reshape(-1) if det.dtype == np.float64 else det.astype(np.float32).reshape(-1)
    if det.shape != (len(scores),):
        raise ValueError(f"box_scores must have {len(scores)} values, got shape {np.shape(box_scores)}")
    if len(scores) == 0:
        return np.zeros(0, det.dtype)
    if mean is None:  # ATen's CPU mean: torch.sum, then / K
        writable = scores if scores.flags.writeable else scores.copy()
        mean = torch.sum(torch.from_numpy(writable), dim=1).numpy() / np.float32(scores.shape[1])
    mean = np.asarray(mean, np.float32).reshape(-1)
    top = np.float32(MAX_WEIGHT) * scores.max(axis=1)
    if det.dtype == np.float64:
        return (mean.astype(np.float64) + det) + top.astype(np.float64)
    return (mean + det) + top
