"""The config a training run trains with: the file (or defaults), ``--opts`` and the flags merged and checked, and
on ``--resume`` the stored config with the one change a resumed run may make (a longer ``TRAIN.END_EPOCH``).

Extending a run changes nothing but ``END_EPOCH``: the multistep milestones (``LR_STEP``, ``DPG_MILESTONE``,
``DPG_STEP``) are absolute epochs and stay as stored; the cosine schedule spans ``END_EPOCH`` by definition, so an
extended cosine run follows the longer run's curve from the resumed epoch on (its rate goes back up to where that
curve is). Any other difference from the stored config is refused, naming the key.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml
from yacs.config import CfgNode

from alphapose_kit.config import dump_config, load_config
from alphapose_kit.engine.optim import OPTIMIZERS
from alphapose_kit.engine.schedule import learning_rate
from alphapose_kit.engine.train_options import TrainOptions
from alphapose_kit.errors import AkitError, ConfigError

MAX_SEED = 2**63 - 1  # torch.Generator takes up to 2**64 - 1; the sampler adds the epoch to the seed
MAX_LR = 1e30  # the optimisers step in float32: Adam's first step (rate / 0.1) overflows it from about 3.4e37


def split_paths(cfg: CfgNode, split: str) -> tuple[Path, Path]:
    """``(annotation file, image folder)`` of ``DATASET.<split>``: ``ROOT/ANN`` and ``ROOT/IMG_PREFIX``; one line
    for a split that lists several datasets (AlphaPose's mixed sets: :func:`split_sources` reads those)."""
    node = cfg.DATASET[split]
    if any(isinstance(node[key], list) for key in ("ROOT", "ANN", "IMG_PREFIX")):
        option = split.lower()
        raise ConfigError(
            f"DATASET.{split} ({node.TYPE}) lists several datasets; pass both --{option}-ann FILE and "
            f"--{option}-images DIR to replace them (a COCO-WholeBody or Halpe file is read into the model's "
            "keypoint set by joint name)"
        )
    root = Path(node.ROOT or ".")
    return root / node.ANN, root / node.IMG_PREFIX


def split_sources(cfg: CfgNode, split: str) -> list[tuple[Path, Path]]:
    """Every ``(annotation file, image folder)`` of ``DATASET.<split>``: one, or one per entry where ROOT, ANN and
    IMG_PREFIX are lists (AlphaPose's mixed sets; a single value is shared by every entry)."""
    node = cfg.DATASET[split]
    values = {key: node[key] for key in ("ROOT", "ANN", "IMG_PREFIX")}
    lengths = {len(v) for v in values.values() if isinstance(v, list)}
    if not lengths:
        return [split_paths(cfg, split)]
    if len(lengths) != 1 or not min(lengths):
        raise ConfigError(f"DATASET.{split}: ROOT, ANN and IMG_PREFIX list different numbers of datasets")
    count = lengths.pop()
    columns = [v if isinstance(v, list) else [v] * count for v in values.values()]
    return [(Path(root or ".") / ann, Path(root or ".") / images) for root, ann, images in zip(*columns, strict=True)]


def resolve_config(options: TrainOptions) -> CfgNode:
    """The config the run trains with: file (or defaults) + ``--opts`` + the explicit flags, checked and frozen."""
    cfg = load_config(options.config, options.opts, freeze=False)
    for split, ann, images in (
        ("TRAIN", options.train_ann, options.train_images),
        ("VAL", options.val_ann, options.val_images),
    ):
        node = cfg.DATASET[split]
        if ann is not None and images is not None:
            node.ROOT, node.ANN, node.IMG_PREFIX = "", str(Path(ann).resolve()), str(Path(images).resolve())
        elif ann is not None or images is not None:
            old_ann, old_images = split_paths(cfg, split)
            node.ROOT = ""
            node.ANN = str(Path(ann).resolve() if ann is not None else old_ann)
            node.IMG_PREFIX = str(Path(images).resolve() if images is not None else old_images)
    for key, value in (
        ("END_EPOCH", options.epochs),
        ("BATCH_SIZE", options.batch),
        ("LR", options.lr),
        ("SEED", options.seed),
    ):
        if value is not None:
            cfg.TRAIN[key] = type(cfg.TRAIN[key])(value)
    check_train_config(cfg)
    cfg.freeze()
    return cfg


def check_train_config(cfg: CfgNode) -> None:
    """One-line ConfigError for a ``TRAIN`` setting no run can use, before any data or weights are loaded."""
    train = cfg.TRAIN
    if train.OPTIMIZER.lower() not in OPTIMIZERS:
        raise ConfigError(f"TRAIN.OPTIMIZER {train.OPTIMIZER!r} is not supported; choose {', '.join(OPTIMIZERS)}")
    if train.BATCH_SIZE < 1 or train.END_EPOCH < 1:
        raise ConfigError(
            f"TRAIN.BATCH_SIZE and END_EPOCH must be positive (got {train.BATCH_SIZE}, {train.END_EPOCH})"
        )
    if not (math.isfinite(train.LR) and 0 < train.LR <= MAX_LR):
        raise ConfigError(f"TRAIN.LR must be a positive finite number up to {MAX_LR:g}, got {train.LR} (--lr)")
    if not 0 <= train.SEED <= MAX_SEED:
        raise ConfigError(f"TRAIN.SEED must be a whole number from 0 to 2**63 - 1, got {train.SEED} (--seed)")
    if not 0 <= train.EMA_DECAY < 1:
        raise ConfigError(f"TRAIN.EMA_DECAY must lie in [0, 1), got {train.EMA_DECAY}")
    learning_rate(cfg, 0)  # unknown LR_SCHEDULE fails here, before any work


def config_difference(a: CfgNode, b: CfgNode) -> str | None:
    """The first dotted key whose value differs between two configs, as ``KEY (a vs b)``; None when equal."""

    def walk(x: Any, y: Any, prefix: str) -> str | None:
        if isinstance(x, dict) and isinstance(y, dict):
            for key in sorted(set(x) | set(y)):
                found = walk(x.get(key), y.get(key), f"{prefix}{key}.")
                if found:
                    return found
            return None
        return None if x == y else f"{prefix[:-1]} ({x!r} vs {y!r})"

    return walk(_plain(a), _plain(b), "")


def _plain(cfg: CfgNode) -> Any:
    return yaml.safe_load(dump_config(cfg))


def resumed_config(options: TrainOptions, payload: dict[str, Any], origin: Path) -> CfgNode:
    """The stored config of a resumed run, with ``END_EPOCH`` lengthened when asked; any other difference from the
    given ``--config``/flags/``--opts`` is an error naming the key, and so is a run with no epoch left to train."""
    stored = load_config(CfgNode.load_cfg(payload["config"]))
    given = TrainOptions(**{**options.__dict__, "config": options.config or stored})
    cfg = resolve_config(given)
    allowed = stored
    if cfg.TRAIN.END_EPOCH > stored.TRAIN.END_EPOCH:
        allowed = load_config(stored, ["TRAIN.END_EPOCH", str(cfg.TRAIN.END_EPOCH)])
    diff = config_difference(allowed, cfg)
    if diff:
        raise AkitError(
            f"--resume {origin}: that run was trained with another config (differs at {diff}); resume without "
            "changing settings (only a longer --epochs), or start a new run with --init-from"
        )
    done = int(payload["epoch"])
    if done >= cfg.TRAIN.END_EPOCH:
        raise AkitError(
            f"--resume {origin}: that run has finished its {done} epochs; pass --epochs N (more than {done}) to "
            "train it longer"
        )
    return cfg
