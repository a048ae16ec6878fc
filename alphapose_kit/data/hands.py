"""AlphaPose's single-hand training samples (``alphapose/datasets/single_hand.py``): each hand of a whole-body person
with at least 10 labelled joints is a sample of its own, boxed by the hand joints' extent widened on each side by a
random share (up to half) of its width and height.

The original draws that widening afresh on every load; akit draws it from a fixed seed, so runs repeat.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from alphapose_kit.data.keypoints import KeypointSet
from alphapose_kit.data.wholebody import HAND21, hand_names

MIN_HAND_JOINTS = 10  # labelled joints a hand needs to be a sample
HAND_LABELLED_FROM = 0.35  # visibility from which a hand joint counts (and only at x > 0, y > 0)

HandIndex = tuple[NDArray[np.int64], NDArray[np.int64]]


def is_single_hand(keypoint_set: KeypointSet) -> bool:
    """Whether a set is the single hand (its samples are hands cut out of whole-body people)."""
    return keypoint_set.names == HAND21.names


def hand_index(source: KeypointSet) -> HandIndex | None:
    """Where the left and the right hand's 21 joints lie in ``source`` (by joint name); None when it has no hands."""
    where = {name: i for i, name in enumerate(source.names)}
    sides = []
    for side in ("left", "right"):
        names = hand_names(side)
        if not all(name in where for name in names):
            return None
        sides.append(np.array([where[name] for name in names], np.int64))
    return sides[0], sides[1]


def hand_samples(
    triples: NDArray[np.float64], index: HandIndex, width: float, height: float, rng: np.random.Generator
) -> list[tuple[NDArray[np.float64], NDArray[np.float32]]]:
    """``(box x1 y1 x2 y2, joints (21, 3, 2))`` of each hand of one person (``triples``: its ``(K, 3)`` joints) that
    has at least :data:`MIN_HAND_JOINTS` labelled joints, left hand first."""
    samples = []
    for side in index:
        hand = triples[side]
        labelled = (hand[:, 2] >= HAND_LABELLED_FROM) & (hand[:, 0] > 0) & (hand[:, 1] > 0)
        if labelled.sum() < MIN_HAND_JOINTS:
            continue
        xs, ys = hand[hand[:, 0] > 0, 0], hand[hand[:, 1] > 0, 1]
        x1, x2, y1, y2 = xs.min(), xs.max(), ys.min(), ys.max()
        w, h = x2 - x1, y2 - y1
        x1 = max(x1 - rng.random() * w / 2, 1.0)
        x2 = min(x2 + rng.random() * w / 2, float(width))
        y1 = max(y1 - rng.random() * h / 2, 1.0)
        y2 = min(y2 + rng.random() * h / 2, float(height))
        joints = np.zeros((len(side), 3, 2), np.float32)
        joints[:, 0, 0], joints[:, 1, 0] = hand[:, 0], hand[:, 1]
        joints[:, 0:2, 1] = labelled[:, None]
        samples.append((np.array([x1, y1, x2, y2], np.float64), joints))
    return samples
