"""The report's table of joint scores per part: each part's mean score and share of joints at or above 0.3."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from alphapose_kit.analysis.report import part_scores
from alphapose_kit.analysis.series import Recording
from alphapose_kit.data.wholebody import HALPE136
from tests.analysis.synthetic import track_of


def test_part_scores_by_hand() -> None:
    """Body joints score 0.9, feet 0.5, face 0.2, left hand 0.1 in half the frames and 0.5 in the rest, right 0.0:
    means 0.90, 0.50, 0.20, 0.30, 0.00; shares at or above 0.3: 100, 100, 0, 50, 0 %."""
    scores = np.zeros((4, 136))
    scores[:, :20], scores[:, 20:26], scores[:, 26:94] = 0.9, 0.5, 0.2
    scores[:2, 94:115], scores[2:, 94:115] = 0.1, 0.5
    track = track_of(np.zeros((4, 136, 2)), track_id=7, scores=scores)
    html = part_scores(Recording({7: track}, HALPE136, 30.0, Path("r.json")), [track])
    cells = [c.split("</td>")[0] for c in html.split("<td>")[1:]]
    assert cells == ["7", "0.90 (100 %)", "0.50 (100 %)", "0.20 (0 %)", "0.30 (50 %)", "0.00 (0 %)"]
    assert "face mean" in html and "right_hand mean" in html
