"""person_score: AlphaPose's writer formula, to the bit, in float32 and with float64 detection scores."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from alphapose_kit.ops.scores import person_score

F32 = np.float32


def writer_score(scores: np.ndarray, det) -> float:
    """alphapose/utils/writer.py, per person: torch.mean(s) + det + 1.25 * max(s) (det a 1-element tensor)."""
    s = torch.from_numpy(scores.reshape(-1, 1))
    return float(torch.mean(s) + torch.tensor([det]) + 1.25 * max(s))


def test_hand_derived_value():
    # mean(0.2, 0.4, 0.9) = 0.5; + det 0.3 + 1.25 * 0.9 = 1.125 -> 1.925
    assert person_score([[0.2, 0.4, 0.9]], [0.3])[0] == pytest.approx(1.925, rel=1e-6)


@pytest.mark.parametrize("k", [5, 13, 17, 26, 68, 136])
def test_equals_the_writer_bit_for_bit(k):
    rng = np.random.default_rng(k)
    scores = rng.uniform(0, 1, (40, k)).astype(F32)
    det = rng.uniform(0.05, 1, 40).astype(F32)
    ours = person_score(scores, det)
    assert ours.dtype == np.float32
    expected = np.array([writer_score(s, d) for s, d in zip(scores, det, strict=True)], F32)
    np.testing.assert_array_equal(ours, expected)


def test_float64_detections_add_in_float64_like_torch_promotion():
    rng = np.random.default_rng(1)
    scores = rng.uniform(0, 1, (30, 17)).astype(F32)
    det = rng.uniform(0.05, 1, 30)  # float64, as read from a detection file
    ours = person_score(scores, det)
    assert ours.dtype == np.float64
    tensors = [(torch.from_numpy(s), torch.tensor([d], dtype=torch.float64)) for s, d in zip(scores, det, strict=True)]
    expected = [float(torch.mean(s) + d + 1.25 * max(s)) for s, d in tensors]
    np.testing.assert_array_equal(ours, expected)


def test_mean_override_and_errors():
    scores = np.array([[0.2, 0.4, 0.9]], F32)
    assert person_score(scores, np.array([0.3], F32), mean=[0.0])[0] == F32(0.3) + F32(1.25) * F32(0.9)
    assert person_score(np.zeros((0, 17)), np.zeros(0)).shape == (0,)
    with pytest.raises(ValueError, match="box_scores"):
        person_score(scores, [0.3, 0.4])
    with pytest.raises(ValueError, match="keypoint_scores"):
        person_score(scores[0], [0.3])
