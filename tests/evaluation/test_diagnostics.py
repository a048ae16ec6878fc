"""Per-joint accuracy / error and left/right swaps on a scene whose numbers are derived by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from alphapose_kit import evaluate
from alphapose_kit.data.keypoints import COCO17

AREA = 10000.0  # sqrt = 100 px: errors below are in hundredths of a pixel distance


def standing(x0: float, y0: float) -> np.ndarray:
    """17 labelled joints of a person at (x0, y0); the wrists 60 px apart."""
    pts = np.array([[x0 + 5 * (j % 5), y0 + 10 * j] for j in range(17)], np.float64)
    pts[9] = (x0 - 30, y0 + 90)  # left wrist
    pts[10] = (x0 + 30, y0 + 90)  # right wrist
    return pts


def write_scene(tmp_path: Path) -> tuple[Path, Path]:
    people = [standing(100, 20), standing(300, 20)]
    anns = []
    for n, pts in enumerate(people):
        kp = np.concatenate([pts, np.full((17, 1), 2)], axis=1).reshape(-1).tolist()
        anns.append(
            {
                "id": n + 1,
                "image_id": 1,
                "category_id": 1,
                "iscrowd": 0,
                "area": AREA,
                "bbox": [pts[:, 0].min(), pts[:, 1].min(), 100, 170],
                "keypoints": kp,
                "num_keypoints": 17,
            }
        )
    ann = {
        "images": [{"id": 1, "file_name": "x.jpg", "width": 500, "height": 300}],
        "annotations": anns,
        "categories": [{"id": 1, "name": "person", "keypoints": list(COCO17.names)}],
    }
    pred = people[0].copy()
    pred[0] += (3, 0)  # nose 3 px off
    pred[[9, 10]] = pred[[10, 9]]  # wrists swapped
    result = {
        "image_id": 1,
        "category_id": 1,
        "score": 1.0,
        "keypoints": np.concatenate([pred, np.ones((17, 1))], axis=1).reshape(-1).tolist(),
    }
    (tmp_path / "ann.json").write_text(json.dumps(ann))
    (tmp_path / "res.json").write_text(json.dumps([result]))
    return tmp_path / "ann.json", tmp_path / "res.json"


def test_per_joint_and_swaps_by_hand(tmp_path: Path) -> None:
    ann, res = write_scene(tmp_path)
    metrics = evaluate(ann, results=res, outdir=tmp_path / "out", plot=True)
    # OKS = (14 exact joints + nose ks + 2 wrists ~0) / 17 = 0.873 >= 0.5: the first person is matched, the second
    # (no prediction) is not
    assert metrics["matched_people"] == 1
    joints = metrics["per_joint"]
    nose_ks = np.exp(-9 / (2 * AREA * (2 * 0.026) ** 2))  # 0.8468: within thresholds 0.50 ... 0.80 (7 of 10)
    assert 0.80 < nose_ks < 0.85
    assert joints["nose"] == {"accuracy": pytest.approx(0.7), "mean_error": pytest.approx(0.03), "count": 1}
    assert joints["left_wrist"]["accuracy"] == 0.0 and joints["left_wrist"]["mean_error"] == pytest.approx(0.6)
    assert joints["left_hip"] == {"accuracy": 1.0, "mean_error": 0.0, "count": 1}
    swaps = metrics["swaps"]
    assert swaps["total"] == 1 and swaps["pairs"]["left_wrist/right_wrist"] == {"swapped": 1, "of": 1}
    assert swaps["pairs"]["left_eye/right_eye"] == {"swapped": 0, "of": 1}
    png = tmp_path / "out" / "eval.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
