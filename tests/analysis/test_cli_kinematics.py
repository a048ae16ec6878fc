"""``akit analyze kinematics``: the cleaned signals of one tracked person from a results file, end to end."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from alphapose_kit.cli.app import main
from tests.analysis.synthetic import figure


def _run(folder: Path, kps_by_track: dict[int, np.ndarray], fps: float = 30.0) -> Path:
    """A tracked run folder: results with track ids, and run.json with the frame rate."""
    folder.mkdir()
    records = []
    for idx, kps in kps_by_track.items():
        for frame, pose in enumerate(kps):
            triples = np.concatenate([pose, np.full((17, 1), 0.9)], 1)
            lo, hi = pose.min(0), pose.max(0)
            records.append({"image_id": f"{frame}.jpg", "category_id": 1, "keypoints": triples.reshape(-1).tolist(),
                            "score": 2.5, "box": [*lo, *(hi - lo)], "idx": idx})  # fmt: skip
    (folder / "alphapose-results.json").write_text(json.dumps(records))
    info = {"source": "x.mp4", "fps": fps, "frames": 90, "width": 1280, "height": 720, "model": {}, "options": {}}
    (folder / "run.json").write_text(json.dumps(info))
    return folder


def test_kinematics_of_the_longest_track(tmp_path: Path, capsys) -> None:
    """A knee bent by a constant 40 degrees (thigh 20, shin -20 from the vertical, facing +x) reads 40 in every
    frame of the longest track; the short second person is not chosen; one line for results without track ids."""
    t = 90
    hip = np.stack([np.linspace(300, 400, t), np.full(t, 250.0)], 1)
    walker = figure(hip, trunk=5.0, thigh=20.0, shin=-20.0, upper=0.0, fore=0.0)
    walker[:, 0, 0] += 15.0  # the nose ahead of the ears: facing +x, the way it walks
    other = figure(hip[:30] + np.array([500.0, 0.0]), trunk=0.0, thigh=0.0, shin=0.0, upper=0.0, fore=0.0)
    run = _run(tmp_path / "run", {3: walker, 8: other})
    out = tmp_path / "out"
    assert main(["analyze", "kinematics", str(run), "--person-height", "1.75", "-o", str(out)]) == 0
    rows = list(csv.DictReader((out / "kinematics.csv").open()))
    assert len(rows) == t and {r["track_id"] for r in rows} == {"3"}
    knees = np.array([float(r["right_knee_deg"]) for r in rows])
    np.testing.assert_allclose(knees, 40.0, atol=0.05)
    assert any(name.endswith("_speed_m_s") for name in rows[0])
    records = json.loads((run / "alphapose-results.json").read_text())
    for r in records:
        r.pop("idx")
    (run / "alphapose-results.json").write_text(json.dumps(records))
    capsys.readouterr()
    assert main(["analyze", "kinematics", str(run), "-o", str(tmp_path / "untracked")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--track" in err[0]
