"""Learning-rate schedules as pure functions of (epoch, progress): nothing to save but the epoch, so a resumed run
gets exactly the rates of an uninterrupted one.

``multistep`` reproduces AlphaPose's ``scripts/train.py``: ``MultiStepLR(LR_STEP, LR_FACTOR)`` stepped after each
epoch, then, after epoch ``DPG_MILESTONE``, the rate reset to ``LR`` and a new ``MultiStepLR`` over
``DPG_STEP - DPG_MILESTONE`` with factor 0.1, whose drops first apply at epoch ``DPG_STEP + 1`` (0-based; 161 and
191 for the 1x recipe). ``cosine`` is akit's: a half cosine from ``LR`` down to ``MIN_LR`` at ``END_EPOCH``. Both
can start with a linear warm-up over ``WARMUP_EPOCHS`` (from 1 % of ``LR``; 0 in AlphaPose's recipe).
"""

from __future__ import annotations

import bisect
import math

from yacs.config import CfgNode

from alphapose_kit.errors import ConfigError

SCHEDULES = ("multistep", "cosine")
#: AlphaPose's factor for the drops of the DPG phase (fixed; LR_FACTOR applies to LR_STEP only).
DPG_FACTOR = 0.1
#: Share of LR the linear warm-up starts from.
WARMUP_START = 0.01


def dpg_active(cfg: CfgNode, epoch: int) -> bool:
    """True in the epochs trained with DPG box jitter: those after ``TRAIN.DPG_MILESTONE`` (negative: never)."""
    milestone = int(cfg.TRAIN.DPG_MILESTONE)
    return 0 <= milestone < epoch


def learning_rate(cfg: CfgNode, epoch: int, progress: float = 0.0) -> float:
    """The rate of 0-based ``epoch`` at ``progress`` in [0, 1) through it (only the warm-up and cosine use it)."""
    train = cfg.TRAIN
    base = float(train.LR)
    kind = train.LR_SCHEDULE
    position = epoch + progress
    warmup = float(train.WARMUP_EPOCHS)
    if warmup > 0 and position < warmup:
        return base * (WARMUP_START + (1 - WARMUP_START) * position / warmup)
    if kind == "multistep":
        milestone = int(train.DPG_MILESTONE)
        if 0 <= milestone < epoch:
            steps = sorted(int(s) - milestone for s in train.DPG_STEP)
            return base * DPG_FACTOR ** bisect.bisect_right(steps, epoch - milestone - 1)
        return base * float(train.LR_FACTOR) ** bisect.bisect_right(sorted(int(s) for s in train.LR_STEP), epoch)
    if kind == "cosine":
        end = float(train.END_EPOCH)
        span = max(end - warmup, 1e-9)
        t = min(max((position - warmup) / span, 0.0), 1.0)
        floor = float(train.MIN_LR)
        return floor + (base - floor) * 0.5 * (1 + math.cos(math.pi * t))
    raise ConfigError(f"TRAIN.LR_SCHEDULE {kind!r} is not supported; choose {' or '.join(SCHEDULES)}")
