"""The optimal one-to-one assignment of tracks to detections by similarity (box IoU and OKS: ``alphapose_kit.ops``)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def assign(similarity: np.ndarray, min_similarity: float) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Hungarian assignment maximising total similarity; pairs below ``min_similarity`` are never matched.

    Returns (matches as (row, col), unmatched rows, unmatched cols).
    """
    rows, cols = similarity.shape
    if rows == 0 or cols == 0:
        return [], list(range(rows)), list(range(cols))
    allowed = similarity >= min_similarity
    cost = np.where(allowed, 1.0 - similarity, 1e6)  # forbidden pairs only when nothing else is possible
    r, c = linear_sum_assignment(cost)
    matches = [(int(i), int(j)) for i, j in zip(r, c, strict=True) if allowed[i, j]]
    matched_r = {i for i, _ in matches}
    matched_c = {j for _, j in matches}
    return matches, [i for i in range(rows) if i not in matched_r], [j for j in range(cols) if j not in matched_c]
