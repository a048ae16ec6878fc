"""Finger flexion and hand opening (analysis.hands), derived by hand on drawn hands."""

from __future__ import annotations

import numpy as np
import pytest

from alphapose_kit.analysis.hands import hand_measures
from alphapose_kit.data.wholebody import HALPE136, HAND21
from tests.analysis.synthetic import track_of


def _hand(bend_deg: float) -> np.ndarray:
    """(21, 2): the wrist at the origin, five fingers fanned out, each with 4 bones of 10 px bending by
    ``bend_deg`` at each of its three inner joints (towards the palm)."""
    points = [np.zeros(2)]
    for f in range(5):
        direction = np.radians(-90 + (f - 2) * 15)  # fingers pointing up the screen, fanned
        p = np.zeros(2)
        for i in range(4):
            angle = direction + np.radians(bend_deg) * i
            p = p + 10 * np.array([np.cos(angle), np.sin(angle)])
            points.append(p.copy())
    return np.array(points)


def test_straight_fingers_read_zero_flexion_and_a_bent_hand_three_bends() -> None:
    """Bends of 0 and 30 degrees at each of three joints: flexion 0 and 90. Opening: a straight finger's tip is 40 px
    from the wrist, the palm (wrist to the middle knuckle) 10 px: 4.0; bent by 30 per joint the tip is at
    |10 (1 + e^i30 + e^i60 + e^i90)| = 10 * sqrt((1 + .866 + .5 + 0)^2 + (0 + .5 + .866 + 1)^2) = 33.46 px: 3.346."""
    frames = np.stack([_hand(0.0), _hand(30.0)])
    out = hand_measures(track_of(frames), HAND21)
    for name in ("thumb", "index", "middle", "ring", "little"):
        np.testing.assert_allclose(out[f"hand_{name}_flexion"], [0.0, 90.0], atol=1e-4)
    np.testing.assert_allclose(out["hand_opening"], [4.0, 3.3461], atol=1e-3)


def test_whole_body_sets_measure_both_hands() -> None:
    kps = np.zeros((1, 136, 2))
    kps[0, 94:115] = _hand(0.0) + np.array([300.0, 300.0])
    kps[0, 115:136] = _hand(45.0) + np.array([500.0, 300.0])
    out = hand_measures(track_of(kps), HALPE136)
    assert out["left_index_flexion"][0] == pytest.approx(0.0, abs=1e-4)  # arccos near 1: ~1e-6 degrees of rounding
    assert out["right_index_flexion"][0] == pytest.approx(135.0)
    fingers = ("thumb", "index", "middle", "ring", "little")
    expected = {f"{s}_{n}_flexion" for s in ("left", "right") for n in fingers}
    assert set(out) == expected | {"left_hand_opening", "right_hand_opening"}
