"""Training targets (encode): integral targets, the codecs' encoders, and their agreement with the decoders.

Expected numbers are derived by hand in the comments (alphapose-facts.md section 6; alphapose-train-eval-facts.md
B2: ``_target_generator`` and ``_integral_target_generator``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from alphapose_kit.codecs import (
    CombinedCodec,
    HeatmapCodec,
    codec_class,
    decode_heatmaps,
    integral_coords,
    integral_decode,
    integral_encode,
    render_gaussian_heatmaps,
)


def test_integral_target_by_hand() -> None:
    # 256 x 192 crop: x / 192 - 0.5, y / 256 - 0.5
    target, weight = integral_encode([[96, 128], [0, 0], [48, 192]], [1, 0, 1], (256, 192))
    assert target.tolist() == [0.0, 0.0, -0.5, -0.5, -0.25, 0.25]
    assert weight.tolist() == [1, 1, 0, 0, 1, 1]
    assert target.dtype == weight.dtype == np.float32


@pytest.mark.parametrize(("joints", "boosted"), [(136, 26), (133, 23), (68, 26), (17, 0), (26, 0)])
def test_integral_weights_doubled_on_whole_body_sets(joints: int, boosted: int) -> None:
    _, weight = integral_encode(np.zeros((joints, 2)), np.ones(joints), (256, 192))
    assert weight[: 2 * boosted].tolist() == [2.0] * (2 * boosted)
    assert weight[2 * boosted :].tolist() == [1.0] * (2 * (joints - boosted))
    _, plain = integral_encode(np.zeros((joints, 2)), np.ones(joints), (256, 192), boost_body=False)
    assert plain.tolist() == [1.0] * (2 * joints)


def test_integral_target_is_what_the_soft_argmax_of_a_one_hot_map_returns() -> None:
    # one-hot logits (sigmoid of a very peaked map) at heatmap column 30, row 10 of a 64 x 48 map:
    # the decoder gives x = 30, y = 10 heatmap px = crop px (120, 40); the encoder of that crop point must equal the
    # normalised soft-argmax (30 / 48 - 0.5, 10 / 64 - 0.5)
    logits = torch.full((1, 1, 64, 48), -60.0)
    logits[0, 0, 10, 30] = 60.0
    norm, _ = integral_coords(logits, "sigmoid")
    target, _ = integral_encode([[120, 40]], [1], (256, 192))
    assert norm.reshape(-1).tolist() == pytest.approx(target.tolist(), abs=1e-6)
    coords, _ = integral_decode(logits)
    assert coords.reshape(-1).tolist() == pytest.approx([30, 10], abs=1e-4)


def test_heatmap_encoding_uses_the_feature_stride_with_alphapose_quirk() -> None:
    # input 256 x 192, heatmap 64 x 32: strides (H 4, W 6). QUIRK: x is divided by the HEIGHT ratio (4), y by 6:
    # joint (40, 60) -> mu = (int(40/4 + .5), int(60/6 + .5)) = (10, 10)
    target, weight = HeatmapCodec(1, (256, 192), (64, 32), 2).encode([[40, 60]], [1])
    assert target.shape == (1, 64, 32) and weight.shape == (1, 1, 1)
    assert np.unravel_index(target[0].argmax(), target[0].shape) == (10, 10) and target[0, 10, 10] == 1
    # equal strides: identical to rendering at (x/4, y/4)
    t4, _ = HeatmapCodec(2, (256, 192), (64, 48), 2).encode([[41.0, 63.0], [5, 5]], [1, 0])
    ref, _ = render_gaussian_heatmaps([[41 / 4, 63 / 4], [5 / 4, 5 / 4]], [1, 0], (64, 48), 2)
    assert np.array_equal(t4, ref)


def test_heatmap_target_decodes_to_the_joint_grid_point() -> None:
    rng = np.random.default_rng(0)
    pts = rng.uniform(8, 180, size=(17, 2)).astype(np.float32)
    target, weight = HeatmapCodec(17).encode(pts, np.ones(17))
    coords, scores = decode_heatmaps(target[None])
    # the peak is the rounded joint; the quarter-pixel refinement is 0 on a symmetric Gaussian
    assert np.array_equal(coords[0], np.trunc(pts / 4 + 0.5))
    assert scores.min() == 1 and weight.reshape(-1).tolist() == [1.0] * 17


def test_combined_targets_split_body_and_face_hands() -> None:
    k = 136
    pts = np.full((k, 2), 64.0, dtype=np.float32)
    (hm, reg), (hm_w, reg_w) = CombinedCodec(k).encode(pts, np.ones(k))
    assert hm.shape == (26, 64, 48) and hm_w.shape == (26, 1, 1)
    assert reg.shape == (220,) and reg_w.tolist() == [1.0] * 220  # never boosted under Combined
    assert reg[:2].tolist() == pytest.approx([64 / 192 - 0.5, 64 / 256 - 0.5], rel=1e-6)


def test_encode_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="LOSS.TYPE 'SmoothL1' is not supported"):
        codec_class("SmoothL1")
    with pytest.raises(ValueError, match="coords"):
        HeatmapCodec(1).encode([[1, 2, 3]], [1])
    with pytest.raises(ValueError, match="coords"):
        integral_encode([[1, 2]], [1, 1], (256, 192))
