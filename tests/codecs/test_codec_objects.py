"""The codec objects: one per ``LOSS.TYPE``, chosen once from the config; encode -> decode gives back a pose derived by
hand, and a new codec is one registration away from the pose stage.

Crop 256 x 192 (h, w), heatmap 64 x 48: heatmap pixel = crop pixel / 4; integral targets are ``x / 192 - 0.5``,
``y / 256 - 0.5`` (alphapose-facts.md section 6).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest
import torch

from alphapose_kit.codecs import (
    CODECS,
    CombinedCodec,
    HeatmapCodec,
    IntegralCodec,
    PoseCodec,
    build_codec,
    codec,
    register_codec,
)
from alphapose_kit.config import load_config
from alphapose_kit.engine.estimator import PoseEstimator
from alphapose_kit.errors import AkitError, ConfigError

CFG = "coco/fastpose_res50_256x192"


def _one_hot_logits(target: np.ndarray, h: int = 64, w: int = 48) -> torch.Tensor:
    """Peaked logits (+60 at one cell, -60 elsewhere) where an integral target points: column ``(t_x + 0.5) w``,
    row ``(t_y + 0.5) h`` (a network that learnt the target exactly)."""
    xy = target.reshape(-1, 2)
    logits = torch.full((1, len(xy), h, w), -60.0)
    for j, (tx, ty) in enumerate(xy):
        logits[0, j, round((ty + 0.5) * h), round((tx + 0.5) * w)] = 60.0
    return logits


def test_config_picks_the_codec_of_its_loss_type() -> None:
    assert type(build_codec(load_config(CFG))) is HeatmapCodec
    integral = build_codec(load_config(CFG, ["LOSS.TYPE", "L1JointRegression", "LOSS.NORM_TYPE", "softmax"]))
    assert type(integral) is IntegralCodec and integral.norm_type == "softmax"
    assert integral.input_size == (256, 192) and integral.heatmap_size == (64, 48)
    assert type(build_codec(load_config(CFG, ["DATA_PRESET.LOSS_TYPE", "L1JointRegression"]))) is IntegralCodec


@pytest.mark.parametrize(
    ("opts", "message"),
    [
        (["LOSS.TYPE", "SmoothL1"], "LOSS.TYPE 'SmoothL1' cannot be decoded; akit supports MSELoss, L1JointRegression"),
        (["LOSS.TYPE", "Combined"], "LOSS.TYPE Combined: a Combined model needs more than 110 joints; got 17"),
        (["LOSS.NORM_TYPE", "bogus"], "LOSS.NORM_TYPE 'bogus' is not supported"),
    ],
)
def test_build_codec_refuses_what_it_cannot_serve_in_one_line(opts: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_codec(load_config(CFG, opts))


def test_heatmap_codec_round_trips_a_pose() -> None:
    # joints (40, 60) and (100, 200) crop px -> Gaussian peaks at heatmap (10, 15) and (25, 50), weight 1; the
    # symmetric Gaussian refines by 0, so the decode gives those cells back; the unlabelled joint has weight 0
    hm = HeatmapCodec(3)
    target, weight = hm.encode([[40, 60], [100, 200], [8, 8]], [1, 1, 0])
    assert weight.reshape(-1).tolist() == [1, 1, 0]
    coords, scores = hm.decode(target[None])
    assert coords[0, :2].tolist() == [[10, 15], [25, 50]] and scores[0, :2].tolist() == [1, 1]


def test_integral_codec_round_trips_a_pose() -> None:
    # (96, 128) -> (0, 0); (48, 192) -> (48/192 - .5, 192/256 - .5) = (-0.25, 0.25); logits peaked there decode to
    # heatmap (24, 32) and (12, 48) = crop px / 4
    integral = IntegralCodec(2)
    target, weight = integral.encode([[96, 128], [48, 192]], [1, 1])
    assert target.tolist() == [0.0, 0.0, -0.25, 0.25] and weight.tolist() == [1, 1, 1, 1]
    coords, scores = integral.decode(_one_hot_logits(target))
    np.testing.assert_allclose(coords[0], [[24, 32], [12, 48]], atol=1e-3)
    np.testing.assert_allclose(scores[0], [1, 1], atol=1e-6)  # sigmoid(60)


def test_combined_codec_round_trips_a_pose() -> None:
    # 68 joints: the first 26 as heatmaps, the last 42 as integral targets. Joint j at crop (4 (2 + j % 40),
    # 4 (3 + j // 40)) sits on a heatmap cell, so both halves decode to (2 + j % 40, 3 + j // 40).
    combined = CombinedCodec(68)
    j = np.arange(68)
    cells = np.stack([2 + j % 40, 3 + j // 40], axis=1).astype(np.float32)
    (hm, reg), (hm_w, reg_w) = combined.encode(cells * 4, np.ones(68))
    assert hm.shape == (26, 64, 48) and hm_w.shape == (26, 1, 1) and reg.shape == reg_w.shape == (84,)
    assert reg[:2].tolist() == pytest.approx([4 * 28 / 192 - 0.5, 4 * 3 / 256 - 0.5])  # joint 26 at crop (112, 12)
    output = torch.cat([torch.from_numpy(hm)[None], _one_hot_logits(reg)], dim=1)
    coords, _ = combined.decode(output)
    np.testing.assert_allclose(coords[0], cells, atol=1e-3)


def test_every_codec_flips_like_alphapose() -> None:
    # flip_merge = (h + flip_heatmaps_back(f)) / 2: mirrored width, swapped pair, shifted one column right
    h = torch.zeros(1, 2, 4, 5)
    f = torch.zeros(1, 2, 4, 5)
    f[0, 0, 1, 3] = 2.0  # joint 0 of the mirrored crop at column 3 -> joint 1, column 5 - 1 - 3 + 1 = 2
    for cls in (HeatmapCodec, IntegralCodec):
        merged = cls(2).flip_merge(h, f, [(0, 1)])
        assert merged[0, 1, 1, 2] == 1.0 and merged.sum() == 1.0


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> dict[str, type[PoseCodec]]:
    """A copy of the codec registry, so a test's registration does not outlive it."""
    copy = dict(CODECS)
    monkeypatch.setattr(codec, "CODECS", copy)
    return copy


def test_adding_a_codec_is_one_registration(registry: dict[str, type[PoseCodec]]) -> None:
    merges: list[int] = []

    @register_codec
    class ArgmaxCodec(HeatmapCodec):
        """Plain argmax, no quarter-pixel refinement; the flip test keeps the unflipped maps."""

        name: ClassVar[str] = "ArgmaxToy"

        def decode(self, heatmaps, heatmaps_flip=None):
            flat = torch.as_tensor(heatmaps).flatten(2)
            score, idx = flat.max(dim=2)
            w = heatmaps.shape[-1]
            return torch.stack([idx % w, idx // w], dim=2).float().numpy(), score.numpy()

        def flip_merge(self, heatmaps, flipped, flip_pairs):
            merges.append(len(heatmaps))
            return heatmaps

    assert registry["ArgmaxToy"] is ArgmaxCodec
    cfg = load_config(CFG, ["LOSS.TYPE", "ArgmaxToy"])
    maps = torch.zeros(1, 17, 64, 48)
    maps[0, :, 16, 12] = 0.5
    maps[0, :, 16, 13] = 0.4  # AlphaPose's decode would move x by +0.25; the toy codec does not
    estimator = PoseEstimator(lambda batch: maps, cfg, [(1, 2)], torch.device("cpu"), flip=True)
    assert type(estimator.codec) is ArgmaxCodec
    coords, scores = estimator(np.zeros((1, 3, 256, 192), np.float32), np.array([[0, 0, 192, 256]], np.float32))
    # heatmap (12, 16) in the crop box (0, 0, 192, 256): x = (12 - 24) * 192 / 48 + 96 = 48, y = (16 - 32) * 4 + 128
    assert coords[0, 0].tolist() == [48, 64] and scores[0, 0] == 0.5 and merges == [1]


def test_a_name_is_registered_once(registry: dict[str, type[PoseCodec]]) -> None:
    class Again(HeatmapCodec):
        name: ClassVar[str] = "MSELoss"

    with pytest.raises(AkitError, match=r"^a codec for LOSS.TYPE 'MSELoss' is already registered \(alphapose_kit"):
        register_codec(Again)
    assert registry["MSELoss"] is HeatmapCodec
