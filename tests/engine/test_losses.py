"""Training losses and AlphaPose's training accuracy, on cases computed by hand (alphapose-train-eval-facts.md,
section A ``calc_accuracy`` and section C; alphapose-facts.md section 6)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from alphapose_kit.codecs import CombinedCodec, IntegralCodec
from alphapose_kit.engine.accuracy import heatmap_accuracy, integral_accuracy
from alphapose_kit.engine.losses import (
    HeatmapCriterion,
    PoseCriterion,
    SymmetricIntegral,
    criterion_for,
    heatmap_mse_loss,
    integral_l1_loss,
)
from alphapose_kit.errors import ConfigError


def _peaks(n: int, k: int, points: dict[tuple[int, int], tuple[int, int]], h: int = 64, w: int = 48) -> torch.Tensor:
    """(n, k, h, w) maps, 0 except 1 at points[(sample, joint)] = (x, y)."""
    maps = torch.zeros(n, k, h, w)
    for (i, j), (x, y) in points.items():
        maps[i, j, y, x] = 1
    return maps


def test_heatmap_loss_by_hand() -> None:
    out = torch.zeros(2, 3, 4, 4)
    target = torch.zeros(2, 3, 4, 4)
    target[0, 0, 1, 1] = 1.0
    target[1, 2, 0, 0] = 2.0
    weight = torch.ones(2, 3, 1, 1)
    # 0.5 * (1 + 4) / 96 elements
    assert heatmap_mse_loss(out, target, weight).item() == pytest.approx(0.5 * 5 / 96)
    weight[1, 2] = 0  # a masked joint contributes nothing
    assert heatmap_mse_loss(out, target, weight).item() == pytest.approx(0.5 * 1 / 96)


def test_symmetric_integral_forward_and_gradient_by_hand() -> None:
    marginal = torch.tensor([[[0.0, 0.25, 0.5, 0.25]]], requires_grad=True)  # expected coordinate 2.0
    out = SymmetricIntegral.apply(marginal)
    assert out.tolist() == [[[0.0, 0.25, 1.0, 0.75]]]  # marginal * arange(4)
    out.sum().backward()
    # -2 left of the coordinate (positions 0, 1), +2 at and right of it
    assert marginal.grad.tolist() == [[[-2.0, -2.0, 2.0, 2.0]]]
    beyond = torch.tensor([[[0.0, 0.0, 0.0, 3.0]]], requires_grad=True)  # coordinate 9 > length 4: all +2
    SymmetricIntegral.apply(beyond).sum().backward()
    assert beyond.grad.tolist() == [[[2.0, 2.0, 2.0, 2.0]]]


def test_integral_loss_by_hand_and_descent() -> None:
    # one-hot logits at heatmap (x=12, y=40) of 64 x 48: normalised (12/48 - 0.5, 40/64 - 0.5) = (-0.25, 0.125)
    logits = torch.full((1, 2, 64, 48), -80.0)
    logits[0, 0, 40, 12] = 80.0
    logits[0, 1, 10, 10] = 80.0
    target, weight = IntegralCodec(2).encode(np.array([[48.0, 160.0], [0.0, 0.0]]), np.array([1.0, 0.0]))
    t, w = torch.from_numpy(target)[None], torch.from_numpy(weight)[None]
    # target (48/192 - .5, 160/256 - .5) = (-0.25, 0.125): exact; the second joint is masked
    assert integral_l1_loss(logits, t, w).item() == pytest.approx(0.0, abs=1e-6)
    t_off = t.clone()
    t_off[0, 0] += 0.1
    assert integral_l1_loss(logits, t_off, w).item() == pytest.approx(0.1, abs=1e-5)
    # a gradient step on smooth logits lowers the loss (the symmetric gradient still points downhill)
    smooth = torch.randn(2, 3, 16, 12, generator=torch.Generator().manual_seed(0)).requires_grad_()
    tgt = torch.tensor([[0.2, -0.3] * 3, [-0.1, 0.1] * 3])
    wgt = torch.ones(2, 6)
    before = integral_l1_loss(smooth, tgt, wgt)
    before.backward()
    with torch.no_grad():
        after = integral_l1_loss(smooth - 0.5 * smooth.grad, tgt, wgt)
    assert after.item() < before.item()


def test_heatmap_accuracy_by_hand() -> None:
    # 48 x 64 maps: distances are measured in (4.8, 6.4) px units; a hit is < 0.5
    target = _peaks(2, 4, {(0, 0): (10, 10), (1, 0): (20, 30), (0, 1): (5, 5), (1, 1): (1, 8), (0, 2): (7, 7)})
    output = _peaks(
        2,
        4,
        {
            (0, 0): (10, 10),  # exact: hit
            (1, 0): (22, 30),  # 2 / 4.8 = 0.42: hit
            (0, 1): (8, 5),  # 3 / 4.8 = 0.625: miss
            (1, 1): (30, 30),  # target at x = 1: not counted
            (0, 2): (7, 10),  # 3 / 6.4 = 0.47: hit
        },
    )
    # joint 0: 2/2, joint 1: 0/1, joint 2: 1/1, joint 3: no counted sample -> mean of (1, 0, 1)
    assert heatmap_accuracy(output, target) == pytest.approx(2 / 3)
    assert heatmap_accuracy(output, torch.zeros_like(target)) == 0.0
    # a prediction whose maximum is <= 0 sits at (0, 0): a miss
    assert heatmap_accuracy(-output - 1, target) == 0.0


def test_integral_accuracy_by_hand() -> None:
    # 16 x 12 maps: distance unit (1.2, 1.6) heatmap px
    logits = torch.full((1, 2, 16, 12), -80.0)
    logits[0, 0, 8, 6] = 80.0  # predicted (6, 8)
    logits[0, 1, 8, 6] = 80.0
    # targets in normalised coordinates: joint 0 at (6.5, 8) hm px -> 0.5 / 1.2 = 0.42 hit;
    # joint 1 at (6, 9) -> 1 / 1.6 = 0.625 miss
    target = torch.tensor([[6.5 / 12 - 0.5, 8 / 16 - 0.5, 6 / 12 - 0.5, 9 / 16 - 0.5]])
    weight = torch.ones(1, 4)
    assert integral_accuracy(logits, target, weight, "sigmoid") == pytest.approx(0.5)
    # the weights multiply the coordinates (2x whole-body weights double the distances): joint 0 now misses
    assert integral_accuracy(logits, target, torch.tensor([[2.0, 2.0, 1.0, 1.0]]), "sigmoid") == 0.0


def test_combined_criterion_is_the_weighted_sum() -> None:
    k, split = 136, 26
    rng = np.random.default_rng(0)
    pts = rng.uniform(10, 180, (k, 2))
    (hm, reg), (hm_w, reg_w) = CombinedCodec(k).encode(pts, np.ones(k))
    target = [torch.from_numpy(hm)[None], torch.from_numpy(reg)[None]]
    weight = [torch.from_numpy(hm_w)[None], torch.from_numpy(reg_w)[None]]
    out = torch.randn(1, k, 64, 48, generator=torch.Generator().manual_seed(1))
    crit = criterion_for(CombinedCodec(k))
    expected = 100 * heatmap_mse_loss(out[:, :split], target[0], weight[0]) + 0.01 * integral_l1_loss(
        out[:, split:], target[1], weight[1]
    )
    assert crit.loss(out, target, weight).item() == pytest.approx(expected.item(), rel=1e-6)
    acc = crit.accuracy(out, target, weight)
    body = heatmap_accuracy(out[:, :split] * weight[0], target[0] * weight[0])
    rest = integral_accuracy(out[:, split:], target[1], weight[1], "sigmoid")
    assert acc == pytest.approx(body * split / k + rest * (k - split) / k)


def test_criterion_from_config_and_bad_type() -> None:
    from alphapose_kit.config import load_config

    crit = PoseCriterion.from_config(load_config("coco/fastpose_res50_256x192"))
    assert crit.loss_type == "MSELoss" and isinstance(crit, HeatmapCriterion)
    with pytest.raises(ConfigError, match="LOSS.TYPE 'SmoothL1' cannot be decoded"):
        PoseCriterion.from_config(load_config("coco/fastpose_res50_256x192", ["LOSS.TYPE", "SmoothL1"]))


def test_each_codec_trains_with_its_criterion_and_an_untrainable_one_is_refused() -> None:
    from alphapose_kit.codecs import HeatmapCodec
    from alphapose_kit.engine.losses import CombinedCriterion, IntegralCriterion

    assert type(criterion_for(HeatmapCodec(17))) is HeatmapCriterion
    assert type(criterion_for(IntegralCodec(17))) is IntegralCriterion
    assert type(criterion_for(CombinedCodec(136))) is CombinedCriterion

    class DecodeOnly(HeatmapCodec):
        name = "DecodeOnlyTest"

    with pytest.raises(ConfigError, match=r"^LOSS.TYPE 'DecodeOnlyTest' cannot be trained; use MSELoss, L1Joint"):
        criterion_for(DecodeOnly(17))


def test_combined_hand_weight_by_hand() -> None:
    from alphapose_kit.config import load_config

    # 136 joints on 4 x 4 maps: body (0-25) heatmaps all 1 against zero targets, only joint 0 weighted:
    # 0.5 * mean((o * w)^2) = 0.5 * 16 / (26 * 16) = 1 / 52, times 100.
    # integral joints (26-135) uniform logits: soft-argmax (0 + 1 + 2 + 3) / 4 / 4 - 0.5 = -0.125 in x and y against
    # zero targets: face (26-93) 68 * 2 * 0.125 = 17, hands (94-135) 42 * 2 * 0.125 = 10.5, times 0.01.
    out = torch.zeros(1, 136, 4, 4)
    out[:, :26] = 1.0
    hm_w = torch.zeros(1, 26, 1, 1)
    hm_w[0, 0] = 1.0
    target = [torch.zeros(1, 26, 4, 4), torch.zeros(1, 220)]
    weight = [hm_w, torch.ones(1, 220)]
    opts = ["DATA_PRESET.IMAGE_SIZE", "[32, 32]", "DATA_PRESET.HEATMAP_SIZE", "[4, 4]"]
    name = "halpe136/multi_domain_fastpose_dcn_res50_combined_256x192"  # "Combined (10 hand weight)" in the zoo
    shipped = PoseCriterion.from_config(load_config(name, opts))
    assert shipped.loss(out, target, weight).item() == pytest.approx(100 / 52 + 0.01 * (17 + 10 * 10.5), rel=1e-6)
    plain = PoseCriterion.from_config(load_config(name, [*opts, "LOSS.HAND_WEIGHT", "1.0"]))
    assert plain.loss(out, target, weight).item() == pytest.approx(100 / 52 + 0.01 * (17 + 10.5), rel=1e-6)
    # the hands of the 133-joint set are its last 42 joints too; the face (23-90) keeps weight 1
    wb = PoseCriterion.from_config(
        load_config("coco_wholebody/fastpose_res50_combined_256x192", [*opts, "LOSS.HAND_WEIGHT", "3"])
    )
    out133 = torch.zeros(1, 133, 4, 4)
    weight133 = [torch.zeros(1, 23, 1, 1), torch.ones(1, 220)]
    assert wb.loss(out133, [torch.zeros(1, 23, 4, 4), torch.zeros(1, 220)], weight133).item() == pytest.approx(
        0.01 * (17 + 3 * 10.5), rel=1e-6
    )
    with pytest.raises(ConfigError, match="HAND_WEIGHT weights the hands of LOSS.TYPE Combined, not of MSELoss"):
        PoseCriterion.from_config(load_config("coco/fastpose_res50_256x192", ["LOSS.HAND_WEIGHT", "10.0"]))
    with pytest.raises(ConfigError, match="HAND_WEIGHT must be a positive number"):
        PoseCriterion.from_config(load_config(name, ["LOSS.HAND_WEIGHT", "-1.0"]))
