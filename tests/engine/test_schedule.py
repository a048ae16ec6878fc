"""Learning-rate schedules and the weight EMA.

The multistep schedule is checked two ways: against the epochs the facts sheet states (alphapose-facts.md section 6:
first reduced epochs 90/120, DPG reset after 140, then 161/191) and against a replay of AlphaPose's loop with
torch's own ``MultiStepLR`` (an independent implementation of the same recipe).
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from alphapose_kit.config import load_config
from alphapose_kit.engine.ema import ModelEMA
from alphapose_kit.engine.schedule import dpg_active, learning_rate


def _alphapose_replay(cfg) -> list[float]:
    """LR of every epoch as AlphaPose's scripts/train.py sets it (scheduler stepped after each epoch)."""
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([param], lr=cfg.TRAIN.LR)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=cfg.TRAIN.LR_STEP, gamma=cfg.TRAIN.LR_FACTOR)
    rates = []
    for i in range(cfg.TRAIN.END_EPOCH):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
        if i == cfg.TRAIN.DPG_MILESTONE:
            for group in opt.param_groups:
                group["lr"] = cfg.TRAIN.LR
            steps = [s - cfg.TRAIN.DPG_MILESTONE for s in cfg.TRAIN.DPG_STEP]  # opt.py makes them relative
            sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=steps, gamma=0.1)
    return rates


@pytest.mark.parametrize("config", ["coco/fastpose_res50_256x192", "coco/hrnet_w32_256x192"])
def test_multistep_matches_alphapose_loop(config: str) -> None:
    cfg = load_config(config)
    replay = _alphapose_replay(cfg)
    ours = [learning_rate(cfg, e) for e in range(cfg.TRAIN.END_EPOCH)]
    assert ours == pytest.approx(replay, rel=1e-9)


def test_multistep_epochs_from_the_facts_sheet() -> None:
    cfg = load_config("coco/fastpose_res50_256x192")  # 1x: LR_STEP 90/120, DPG 140, DPG_STEP 160/190
    lr = {e: learning_rate(cfg, e) for e in (0, 89, 90, 119, 120, 140, 141, 160, 161, 190, 191, 199)}
    assert lr == pytest.approx(
        {0: 1e-3, 89: 1e-3, 90: 1e-4, 119: 1e-4, 120: 1e-5, 140: 1e-5, 141: 1e-3, 160: 1e-3, 161: 1e-4, 190: 1e-4,
         191: 1e-5, 199: 1e-5}
    )  # fmt: skip
    assert not dpg_active(cfg, 140) and dpg_active(cfg, 141)
    off = load_config(cfg, ["TRAIN.DPG_MILESTONE", "-1"])
    assert not any(dpg_active(off, e) for e in range(200)) and learning_rate(off, 199) == pytest.approx(1e-5)


def test_cosine_with_warmup() -> None:
    cfg = load_config(
        None,
        ["TRAIN.LR_SCHEDULE", "cosine", "TRAIN.LR", "0.01", "TRAIN.END_EPOCH", "12", "TRAIN.WARMUP_EPOCHS", "2",
         "TRAIN.MIN_LR", "0.001"],
    )  # fmt: skip
    assert learning_rate(cfg, 0, 0.0) == pytest.approx(0.01 * 0.01)  # warm-up starts at 1 % of LR
    assert learning_rate(cfg, 1, 0.0) == pytest.approx(0.01 * (0.01 + 0.99 * 0.5))
    assert learning_rate(cfg, 2, 0.0) == pytest.approx(0.01)  # warm-up done: top of the cosine
    assert learning_rate(cfg, 7, 0.0) == pytest.approx(0.001 + 0.009 * 0.5)  # half way through 2..12
    assert learning_rate(cfg, 11, 0.5) == pytest.approx(0.001 + 0.009 * 0.5 * (1 + math.cos(math.pi * 9.5 / 10)))
    rates = [learning_rate(cfg, e, p) for e in range(2, 12) for p in (0, 0.5)]
    assert all(a >= b for a, b in itertools.pairwise(rates))


def test_unknown_schedule_is_a_config_error() -> None:
    from alphapose_kit.errors import ConfigError

    with pytest.raises(ConfigError, match="LR_SCHEDULE"):
        learning_rate(load_config(None, ["TRAIN.LR_SCHEDULE", "step"]), 0)


def test_ema_by_hand() -> None:
    model = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    ema = ModelEMA(model, decay=0.9)
    with torch.no_grad():
        model.weight.fill_(1.0)
    ema.update(model)  # decay min(0.9, 2/11): 0 * 2/11 + 1 * 9/11
    assert ema.module.weight.item() == pytest.approx(9 / 11)
    ema.update(model)  # decay min(0.9, 3/12) = 0.25
    assert ema.module.weight.item() == pytest.approx(0.25 * 9 / 11 + 0.75)
    for _ in range(100):
        ema.update(model)
    assert ema.current_decay() == 0.9
    assert not any(p.requires_grad for p in ema.module.parameters())
    with pytest.raises(ValueError):
        ModelEMA(model, decay=1.0)


def test_ema_copies_buffers() -> None:
    model = torch.nn.BatchNorm1d(2)
    ema = ModelEMA(model, decay=0.99)
    model.train()
    model(torch.tensor([[1.0, 2.0], [3.0, 6.0]]))
    ema.update(model)
    assert torch.equal(ema.module.running_mean, model.running_mean)
