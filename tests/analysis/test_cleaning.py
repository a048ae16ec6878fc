"""Signal cleaning: gap filling, Hampel, filters (checked against scipy run here and derived bounds), swap repair."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, filtfilt, freqz, savgol_filter

from alphapose_kit.analysis.cleaning import (
    CleaningOptions,
    butterworth,
    clean_track,
    fill_gaps,
    hampel,
    repair_swaps,
    savgol,
    smooth,
)
from alphapose_kit.analysis.series import Track
from alphapose_kit.data.keypoints import COCO17
from alphapose_kit.errors import AkitError
from tests.analysis.synthetic import figure, track_of


def walker(frames: int = 120, fps: float = 30.0) -> np.ndarray:
    """COCO-17 keypoints of someone walking on the spot: legs and arms swing in opposite phase (1 Hz)."""
    t = np.arange(frames) / fps
    swing = 25 * np.sin(2 * np.pi * t)
    hip = np.tile([300.0, 250.0], (frames, 1))
    left = figure(hip, 5.0, swing, swing - 10, -swing, -swing + 20)
    right = figure(hip, 5.0, -swing, -swing - 10, swing, swing + 20)
    kps = left.copy()
    kps[:, 6::2] = right[:, 6::2]  # right shoulder, elbow, wrist, hip, knee, ankle
    return kps


def test_gap_of_three_filled_linearly_longer_gap_and_ends_stay_nan():
    x = np.array([np.nan, 0, 1, 2, np.nan, np.nan, np.nan, 6, 7, np.nan, np.nan, np.nan, np.nan, 12, np.nan])
    out = fill_gaps(x, max_gap=4)  # gaps shorter than 4 frames
    expected = x.copy()
    expected[4:7] = [3, 4, 5]  # the line through 2 (frame 3) and 6 (frame 7)
    np.testing.assert_array_equal(out, expected)  # the 4-frame gap and both ends stay NaN
    np.testing.assert_array_equal(fill_gaps(x, max_gap=3), x)  # a 3-frame gap is not shorter than 3
    assert np.isnan(fill_gaps(x, max_gap=5)[[0, 14]]).all()
    np.testing.assert_allclose(fill_gaps(x, max_gap=5)[9:13], [8, 9, 10, 11])
    with pytest.raises(AkitError):
        fill_gaps(x, -1)


def test_gaps_filled_per_joint_and_coordinate():
    kps = np.arange(10 * 2 * 2, dtype=float).reshape(10, 2, 2)
    holes = kps.copy()
    holes[3:5, 0] = np.nan
    holes[6, 1, 1] = np.nan
    np.testing.assert_allclose(fill_gaps(holes, 3), kps)  # a linear signal comes back exactly


def test_hampel_replaces_a_spike_by_the_window_median_and_matches_a_plain_loop():
    rng = np.random.default_rng(0)
    x = np.sin(np.linspace(0, 6, 80)) + 0.01 * rng.standard_normal(80)
    x[40] += 5.0
    x[10] = np.nan
    out = hampel(x, window=7, n_sigmas=2.0)
    expected = x.copy()
    for i in range(x.size):  # the definition, one sample at a time
        w = x[max(0, i - 3) : i + 4]
        w = w[np.isfinite(w)]
        med = np.median(w)
        if np.isfinite(x[i]) and abs(x[i] - med) > 2 * 1.4826 * np.median(np.abs(w - med)):
            expected[i] = med
    np.testing.assert_allclose(out, expected, equal_nan=True)
    assert abs(out[40] - np.sin(6 * 40 / 79)) < 0.2  # the spike is gone (the median is a neighbour: 2 steps of 0.076)
    assert np.isnan(out[10])


def test_butterworth_is_scipy_filtfilt_of_order_two_at_six_hz():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((200, 3))
    b, a = butter(2, 6 / 15)
    np.testing.assert_allclose(butterworth(x, fps=30), filtfilt(b, a, x, axis=0, padlen=9), atol=1e-12)
    np.testing.assert_allclose(smooth(x, 30, "butterworth"), butterworth(x, 30))
    np.testing.assert_array_equal(smooth(x, 30, "none"), x)
    np.testing.assert_allclose(savgol(x, 9, 2), savgol_filter(x, 9, 2, axis=0))


def test_butterworth_filters_each_finite_run_and_leaves_short_runs():
    rng = np.random.default_rng(2)
    x = rng.standard_normal(100)
    x[50] = np.nan
    x[90:] = np.nan
    x[93] = 1.0  # a lone sample: too short to filter, kept
    out = butterworth(x, fps=30)
    b, a = butter(2, 6 / 15)
    np.testing.assert_allclose(out[:50], filtfilt(b, a, x[:50], padlen=9))
    np.testing.assert_allclose(out[51:90], filtfilt(b, a, x[51:90], padlen=9))
    assert np.isnan(out[[50, 90, 99]]).all() and out[93] == 1.0


def test_sinusoid_with_noise_filtered_within_the_derived_noise_floor():
    fps, sigma = 120.0, 2.0
    t = np.arange(2400) / fps
    truth = 10 * np.sin(2 * np.pi * 1.0 * t)
    noisy = truth + sigma * np.random.default_rng(3).standard_normal(t.size)
    out = butterworth(noisy, fps, cutoff=6.0)
    # white noise through filtfilt keeps sigma^2 * mean(|H|^4) of its power; the 1 Hz signal is scaled by |H(1 Hz)|^2
    b, a = butter(2, 6 / 60)
    _, h = freqz(b, a, worN=4096)
    noise_rms = sigma * np.sqrt(np.mean(np.abs(h) ** 4))
    gain = np.abs(freqz(b, a, worN=[2 * np.pi * 1.0 / fps])[1][0]) ** 2
    bias_rms = 10 * (1 - gain) / np.sqrt(2)
    core = slice(120, -120)  # away from the ends, where filtfilt's padding adds its own error
    err = np.sqrt(np.mean((out[core] - truth[core]) ** 2))
    assert err < 1.25 * np.hypot(noise_rms, bias_rms)
    assert err < sigma / 3


def test_one_euro_matches_the_recurrence_and_restarts_after_a_gap():
    x = np.array([1.0, 2.0, 4.0, np.nan, 10.0, 10.0, 13.0])
    out = smooth(x, 10.0, "one-euro", cutoff=1.0)
    a = 1 / (1 + 10.0 / (2 * np.pi))  # alpha at 1 Hz and dt = 0.1 s, beta 0: a fixed low-pass
    expected = [1.0, 1 + a * 1, 0.0, np.nan, 10.0, 10.0, 10 + a * 3]
    expected[2] = expected[1] + a * (4 - expected[1])
    np.testing.assert_allclose(out, expected, equal_nan=True)


def test_one_euro_smooths_noise():
    rng = np.random.default_rng(4)
    x = 5.0 + rng.standard_normal(300)
    out = smooth(x, 30, "one-euro", cutoff=1.0)
    assert np.std(out[30:]) < 0.5 * np.std(x[30:])
    with pytest.raises(AkitError, match="--filter"):
        smooth(x, 30, "kalman")


def test_a_swapped_left_right_segment_is_repaired():
    kps = walker()
    swapped = kps.copy()
    for left, right in ((13, 14), (15, 16)):  # knees and ankles swapped for frames 20-34
        swapped[20:35, [left, right]] = kps[20:35, [right, left]]
    np.testing.assert_allclose(repair_swaps(swapped, COCO17.flip_pairs), kps)


def test_legs_crossing_in_a_walk_are_not_swapped():
    kps = walker(240)
    np.testing.assert_allclose(repair_swaps(kps, COCO17.flip_pairs), kps)


def test_clean_track_densifies_drops_low_scores_and_fills_short_gaps():
    kps = walker(90)
    scores = np.full(kps.shape[:2], 0.9)
    scores[40:43, 9] = 0.1  # left wrist unsure for 3 frames
    full = track_of(kps, scores=scores)
    keep = np.r_[0:60, 62:90]  # frames 60 and 61 missing altogether
    track = Track(1, full.frames[keep], kps[keep], scores[keep], full.boxes[keep])
    opts = CleaningOptions(max_gap=4, hampel_window=0, filter="none", swaps=False)
    out = clean_track(track, 30.0, COCO17.flip_pairs, opts)
    np.testing.assert_array_equal(out.frames, np.arange(90))
    kept = np.isin(np.arange(90), keep)[:, None] & (scores >= 0.4)
    np.testing.assert_allclose(out.keypoints[kept], kps[kept])
    for frames, joint in ((slice(60, 62), slice(None)), (slice(40, 43), 9)):  # both gaps: on the line between ends
        w = (np.arange(90)[frames] - (frames.start - 1)) / (frames.stop - frames.start + 1)
        line = kps[frames.start - 1, joint] + w.reshape(-1, *[1] * (kps[0, joint].ndim)) * (
            kps[frames.stop, joint] - kps[frames.start - 1, joint]
        )
        np.testing.assert_allclose(out.keypoints[frames, joint], line)
    assert np.isfinite(out.keypoints).all() and (out.scores >= 0.4).all()
    long_gap = clean_track(track, 30.0, options=CleaningOptions(max_gap=2, hampel_window=0, filter="none"))
    assert np.isnan(long_gap.keypoints[60:62]).all() and (long_gap.scores[60:62] == 0).all()
    smoothed = clean_track(track, 30.0, COCO17.flip_pairs)
    assert np.abs(smoothed.keypoints - kps).max() < 3.0  # a smooth 1 Hz walk passes the 6 Hz filter nearly intact
