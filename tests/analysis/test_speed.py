"""An hour of video at 30 fps (108,000 frames) is analysed in seconds: read, angles, CSV, reps and falls."""

from __future__ import annotations

import time

import numpy as np
import orjson

from alphapose_kit.analysis.angles import angles_csv, compute_angles, default_specs
from alphapose_kit.analysis.falls import detect_falls
from alphapose_kit.analysis.reps import make_plan, track_reps
from alphapose_kit.analysis.series import load_recording
from alphapose_kit.data.keypoints import COCO17
from alphapose_kit.io.run_info import write_run_info
from tests.analysis.synthetic import figure, track_of

HOUR = 30 * 3600


def test_an_hour_of_results_in_seconds(tmp_path):
    t = np.arange(HOUR) / 30
    knee = 170 - 40 * (1 - np.cos(2 * np.pi * t / 3.0))  # a squat every 3 s for an hour: 1200 reps
    hip = np.stack([np.full(HOUR, 300.0), 200 + 100 * (170 - knee) / 80], axis=1)
    track = track_of(figure(hip, 15.0, (180 - knee) / 2, -(180 - knee) / 2, 20.0, 60.0))
    triples = np.concatenate([track.keypoints, track.scores[..., None]], axis=2).reshape(HOUR, -1).tolist()
    xywh = np.concatenate([track.boxes[:, :2], track.boxes[:, 2:] - track.boxes[:, :2]], axis=1).tolist()
    records = [
        {"image_id": f"{i}.jpg", "category_id": 1, "keypoints": triples[i], "score": 2.5, "box": xywh[i], "idx": 1}
        for i in range(HOUR)
    ]
    (tmp_path / "alphapose-results.json").write_bytes(orjson.dumps(records))
    write_run_info(tmp_path, source="hour.mp4", fps=30, frames=HOUR, size=(640, 480), model={"keypoint_set": "coco17"})

    started = time.perf_counter()
    rec = load_recording(tmp_path / "alphapose-results.json")
    loaded = time.perf_counter()
    (track,) = rec.tracks.values()
    specs = default_specs(COCO17)
    csv = angles_csv([(track, compute_angles(track, specs))], [s.name for s in specs], rec.fps)
    reps = track_reps(track, make_plan("squat", COCO17), rec.require_fps(), 0.4)
    falls = detect_falls(track, COCO17, rec.require_fps())
    done = time.perf_counter()
    print(f"hour at 30 fps: read {loaded - started:.1f} s, analysed {done - loaded:.1f} s")
    assert len(track) == HOUR and csv.count("\n") == HOUR + 1 and len(reps) == 1200 and falls == []
    assert done - loaded < 15  # angles, CSV, reps and falls of 108,000 frames (about 3 s on a 2-core CI machine)
    assert done - started < 45  # including parsing the 90 MB JSON (about 5 s)
