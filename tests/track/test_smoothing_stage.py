"""One Euro smoothing, the TrackingStage hook for akit infer, and run.json."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from alphapose_kit.data.keypoints import COCO17, KeypointSet
from alphapose_kit.errors import AkitError
from alphapose_kit.io.results import FrameResult, alphapose_records
from alphapose_kit.io.run_info import read_run_info, write_run_info
from alphapose_kit.track import KeypointSmoother, OneEuroFilter, TrackingStage


def test_one_euro_without_beta_is_the_first_order_low_pass():
    """beta = 0: a fixed cutoff, so a unit step is followed by 1 - (1 - a)^n with a = 1 / (1 + tau / dt)."""
    flt = OneEuroFilter(min_cutoff=1.0, beta=0.0)
    dt = 1 / 30
    a = 1 / (1 + (1 / (2 * math.pi)) / dt)
    flt(np.zeros((1, 2)), 0.0)
    for n in range(1, 6):
        out = flt(np.ones((1, 2)), n * dt)
        np.testing.assert_allclose(out, 1 - (1 - a) ** n)


def test_one_euro_is_scale_free_with_the_person_size():
    rng = np.random.default_rng(0)
    track = np.cumsum(rng.normal(0, 2, (50, 17, 2)), axis=0)
    small, large = OneEuroFilter(), OneEuroFilter()
    for f in range(50):
        out_small = small(track[f], f / 30, size=50.0)
        out_large = large(8 * track[f], f / 30, size=400.0)
        np.testing.assert_allclose(out_large, 8 * out_small, rtol=1e-9, atol=1e-9)


def test_one_euro_reduces_jitter_and_follows_motion():
    rng = np.random.default_rng(1)
    size, frames = 200.0, 300
    noise = rng.normal(0, 0.01 * size, (frames, 1, 2))
    flt = OneEuroFilter()
    still = np.array([flt(noise[f], f / 30, size) for f in range(frames)])
    assert still[50:].std() < 0.5 * noise[50:].std()
    ramp = np.zeros((frames, 1, 2))
    ramp[:, 0, 0] = np.arange(frames) / 30 * size  # one person size per second
    flt, slow = OneEuroFilter(), OneEuroFilter(beta=0.0)
    lag = np.mean([ramp[f, 0, 0] - flt(ramp[f], f / 30, size)[0, 0] for f in range(frames)][50:])
    lag_slow = np.mean([ramp[f, 0, 0] - slow(ramp[f], f / 30, size)[0, 0] for f in range(frames)][50:])
    assert 0 < lag < 0.5 * lag_slow


def test_smoother_forgets_ended_tracks():
    smoother = KeypointSmoother()
    smoother.smooth(1, np.zeros((17, 2)), 0.0, 100)
    smoother.smooth(2, np.zeros((17, 2)), 0.0, 100)
    smoother.keep_only({2})
    restarted = smoother.smooth(1, np.full((17, 2), 50.0), 0.1, 100)
    np.testing.assert_array_equal(restarted, 50.0)  # a new filter starts at its first input


def _result(frame: int, xs: list[float], scores: list[float]) -> FrameResult:
    n = len(xs)
    kps = np.stack([np.stack([np.full(17, x), np.linspace(100, 300, 17)], axis=1) for x in xs]).astype(np.float32)
    boxes = np.array([[x - 40, 90, x + 40, 310] for x in xs], np.float32).reshape(n, 4)
    return FrameResult(
        frame,
        f"{frame}.jpg",
        boxes,
        np.array(scores, np.float32),
        kps.reshape(n, 17, 2),
        np.full((n, 17), 0.9, np.float32),
        np.array(scores, np.float32) + 2,
        [[0.0]] * n,
        (480, 640),
    )


def test_tracking_stage_writes_int_track_ids_and_smooths_tracked_people():
    stage = TrackingStage(smooth=True, fps=30)
    first = stage.apply(_result(0, [100, 400], [0.9, 0.9]))
    assert first.idx == [1, 2]
    rng = np.random.default_rng(0)
    for f in range(1, 10):
        res = _result(f, [100 + 3 * f, 400 - 3 * f, 600], [0.9, 0.9, 0.2])
        raw = res.keypoints.copy() + rng.normal(0, 1, res.keypoints.shape).astype(np.float32)
        res.keypoints[:] = raw
        stage.apply(res)
        assert res.idx == [1, 2, -1]
        assert not np.array_equal(res.keypoints[0], raw[0])  # tracked: filtered
        np.testing.assert_array_equal(res.keypoints[2], raw[2])  # untracked: untouched
    assert [r["idx"] for r in alphapose_records(res)] == [1, 2, -1]  # ints in alphapose-results.json


def test_tracking_options():
    opts = SimpleNamespace(track=False, track_buffer=30, smooth=False)
    assert TrackingStage.from_options(opts, fps=25) is None
    opts.track = True
    assert TrackingStage.from_options(opts, fps=25).tracker.track_buffer == 30
    np.testing.assert_array_equal(TrackingStage.from_options(opts, 25, COCO17).tracker.sigmas, COCO17.sigma_array)
    bare = KeypointSet("bare", tuple(f"j{i}" for i in range(17)), (), (), ())  # no sigmas: boxes alone
    assert TrackingStage.from_options(opts, 25, bare).tracker.iou_weight == 1.0
    with pytest.raises(AkitError, match="add --track"):
        TrackingStage.from_options(SimpleNamespace(track=False, track_buffer=30, smooth=True), fps=25)
    with pytest.raises(AkitError, match="--track-buffer"):
        TrackingStage.from_options(SimpleNamespace(track=True, track_buffer=-2, smooth=False), fps=25)


def test_run_info_round_trip(tmp_path):
    opts = SimpleNamespace(track=False)  # any object: its attributes
    path = write_run_info(
        tmp_path,
        source="clip.mp4",
        fps=29.97,
        frames=120,
        size=(1280, 720),
        model={"config": tmp_path / "cfg.yaml", "checkpoint": "fastpose", "keypoint_set": "coco17"},
        options={"track": True, "track_buffer": 30},
    )
    assert path.name == "run.json" and [p.name for p in tmp_path.iterdir()] == ["run.json"]  # no temp file left
    info = json.loads(path.read_text())
    assert info["fps"] == 29.97 and info["frames"] == 120 and (info["width"], info["height"]) == (1280, 720)
    assert info["model"]["config"] == str(tmp_path / "cfg.yaml") and info["options"]["track_buffer"] == 30
    assert read_run_info(tmp_path / "alphapose-results.json") == info
    assert read_run_info(tmp_path / "missing" / "alphapose-results.json") is None
    write_run_info(tmp_path, source="imgs/", fps=0.0, frames=3, size=None, model={}, options=opts)
    again = read_run_info(tmp_path)
    assert again["fps"] is None and again["options"] == {"track": False}  # still images have no time base
