"""``akit train``: AlphaPose's training recipe (``scripts/train.py``) on one CPU, one GPU or many (torchrun + DDP).

By default the run reproduces the original: Adam at ``TRAIN.LR``, MultiStepLR with the DPG phase (LR reset and box
jitter after ``DPG_MILESTONE``), fp32, AlphaPose's initialisation, validation with GT boxes every 2 epochs. Options
users expect are config keys (``TRAIN.OPTIMIZER`` sgd/adamw, ``LR_SCHEDULE`` cosine, ``WARMUP_EPOCHS``,
``WEIGHT_DECAY``, ``GRAD_CLIP``, ``AMP``, ``EMA_DECAY``, ``SYNC_BN``). A run folder ``runs/train/expN`` gets
``last.pth``, ``best.pth``, ``metrics.csv``, ``curves.png``, ``config.yaml`` and ``manifest.json``; only rank 0 logs
and writes. ``--resume`` continues exactly: the schedule is a function of the epoch, the sample order and every
augmentation draw are functions of (seed, epoch, index), and the model, optimiser, scaler, EMA and RNG states are
restored; ``--resume RUN --epochs N`` extends a run. The loss is checked before each step and the weights after it:
a NaN or inf stops the run, naming the step, and the last good ``last.pth`` stays.

This module is the loop; its neighbours hold the rest: :mod:`~alphapose_kit.engine.train_config` (config resolution
and resume checks), :mod:`~alphapose_kit.engine.optim` and :mod:`~alphapose_kit.engine.initialise` (the optimiser and
the start weights), :mod:`~alphapose_kit.engine.train_callbacks` (checkpoints, metrics, curves, TensorBoard, the
epoch line).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler
from yacs.config import CfgNode

from alphapose_kit.config import dump_config
from alphapose_kit.engine import run_files
from alphapose_kit.engine.checkpoints import FORMAT, load_checkpoint
from alphapose_kit.engine.distributed import (
    DistContext,
    all_sum,
    all_true,
    barrier,
    broadcast_object,
    init_distributed,
    shutdown,
)
from alphapose_kit.engine.ema import ModelEMA
from alphapose_kit.engine.initialise import initialise
from alphapose_kit.engine.losses import PoseCriterion
from alphapose_kit.engine.optim import build_optimizer
from alphapose_kit.engine.schedule import dpg_active, learning_rate
from alphapose_kit.engine.sync_bn import convert_sync_batchnorm
from alphapose_kit.engine.train_callbacks import LAST_NAME, Callback, default_callbacks
from alphapose_kit.engine.train_config import resolve_config, resumed_config, split_paths, split_sources
from alphapose_kit.engine.train_options import TrainOptions
from alphapose_kit.engine.validate import Validator, coco_validator
from alphapose_kit.errors import AkitError
from alphapose_kit.io.checkpoint import load_into
from alphapose_kit.io.run_dir import ensure_writable_dir, next_run_dir
from alphapose_kit.models import build_pose_model
from alphapose_kit.models.loader import model_name
from alphapose_kit.utils.logging import get_logger
from alphapose_kit.utils.progress import progress
from alphapose_kit.utils.signals import terminate_as_interrupt

LOG = get_logger("train")


@dataclass
class TrainResult:
    """Where the run is and how it ended."""

    run_dir: Path
    epochs_done: int
    best_ap: float | None
    history: list[dict[str, Any]] = field(default_factory=list)


def worker_count(cfg: CfgNode, world_size: int = 1) -> int:
    """DataLoader workers per process: ``TRAIN.NUM_WORKERS``, or (-1) the CPUs shared by the processes, 1 to 8."""
    workers = int(cfg.TRAIN.NUM_WORKERS)
    if workers >= 0:
        return workers
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(8, cpus // world_size))


def _all_finite(tensors: Iterable[torch.Tensor]) -> bool:
    """True when no floating-point tensor holds NaN or inf (one reduction, one device sync)."""
    floats = [t.detach() for t in tensors if t.is_floating_point()]
    return not floats or bool(torch.isfinite(nn.utils.get_total_norm(floats, math.inf)))


def _to_device(value: Any, device: torch.device) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(device, non_blocking=True)
    if isinstance(value, (list, tuple)):
        return [_to_device(v, device) for v in value]
    return value


class Trainer:
    """One training run; build with :func:`train` (or directly, for custom datasets and validators)."""

    def __init__(
        self,
        cfg: CfgNode,
        run_dir: Path,
        train_set: Dataset,
        ctx: DistContext,
        validator: Validator | None = None,
        init_source: str | Path | None = None,
        progress: bool = True,
        callbacks: Sequence[Callback] | None = None,
    ) -> None:
        self.cfg = cfg
        self.run_dir = run_dir
        self.ctx = ctx
        self.train_set = train_set
        self.validator = validator
        self.progress = progress and ctx.is_main
        self.criterion = PoseCriterion.from_config(cfg)
        torch.manual_seed(int(cfg.TRAIN.SEED))
        model = build_pose_model(cfg)
        self.init_report = initialise(model, cfg, init_source)
        model.to(ctx.device)
        if ctx.distributed and cfg.TRAIN.SYNC_BN:
            model = convert_sync_batchnorm(model, ctx.device)
        self.model = model
        self.net: nn.Module = model
        if ctx.distributed:
            ids = [ctx.device.index] if ctx.device.type == "cuda" else None
            self.net = DistributedDataParallel(model, device_ids=ids)
        self.optimizer = build_optimizer(model, cfg)
        self.amp = bool(cfg.TRAIN.AMP) and ctx.device.type == "cuda"
        if cfg.TRAIN.AMP and not self.amp:
            LOG.warning("TRAIN.AMP is on but the device is %s: training in fp32", ctx.device)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.ema = ModelEMA(model, float(cfg.TRAIN.EMA_DECAY)) if cfg.TRAIN.EMA_DECAY > 0 else None
        self.sampler: DistributedSampler = DistributedSampler(
            train_set, num_replicas=ctx.world_size, rank=ctx.rank, shuffle=True, seed=int(cfg.TRAIN.SEED)
        )
        self.loader = DataLoader(
            train_set,
            batch_size=int(cfg.TRAIN.BATCH_SIZE),
            sampler=self.sampler,
            num_workers=worker_count(cfg, ctx.world_size),
            pin_memory=ctx.device.type == "cuda",
            drop_last=False,
        )
        self.epoch = int(cfg.TRAIN.BEGIN_EPOCH)  # epochs done (AlphaPose's loop starts at BEGIN_EPOCH)
        self.global_step = 0
        self.best_ap: float | None = None
        self.history: list[dict[str, Any]] = []
        # the side jobs (files, logs) run on rank 0 only; None gives akit train's default ones
        chosen = default_callbacks(cfg) if callbacks is None else list(callbacks)
        self.callbacks: list[Callback] = chosen if ctx.is_main else []

    # --- state -------------------------------------------------------------------------------------------------

    def eval_model(self) -> nn.Module:
        """The weights that are validated and saved: the EMA when it is on."""
        return self.ema.module if self.ema is not None else self.model

    def checkpoint(self, full: bool) -> dict[str, Any]:
        """A tensor-only checkpoint; ``full`` adds what ``--resume`` needs."""
        payload: dict[str, Any] = {
            "format": FORMAT,
            "state_dict": self.eval_model().state_dict(),
            "config": dump_config(self.cfg),
            "epoch": self.epoch,
            "global_step": self.global_step,
            "best_ap": self.best_ap,
            "metrics": dict(self.history[-1]) if self.history else {},
        }
        if full:
            payload["train"] = {
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scaler": self.scaler.state_dict(),
                "ema_updates": self.ema.updates if self.ema is not None else 0,
                "rng_torch": torch.get_rng_state(),
                "rng_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
                "history": list(self.history),
            }
        return payload

    def restore(self, payload: dict[str, Any], origin: Path) -> None:
        """Continue from a ``last.pth`` written by :meth:`checkpoint` (``full=True``)."""
        state = payload.get("train")
        if not isinstance(state, dict):
            raise AkitError(f"{origin} has no training state (only last.pth can be resumed; best.pth cannot)")
        load_into(self.model, state["model"], model_name(self.cfg), origin)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scaler.load_state_dict(state["scaler"])
        if self.ema is not None:
            load_into(self.ema.module, payload["state_dict"], model_name(self.cfg), origin)
            self.ema.updates = int(state["ema_updates"])
        torch.set_rng_state(state["rng_torch"])
        if state["rng_cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng_cuda"])
        self.epoch = int(payload["epoch"])
        self.global_step = int(payload["global_step"])
        self.best_ap = payload["best_ap"]
        self.history = [dict(row) for row in state["history"]]

    # --- loop --------------------------------------------------------------------------------------------------

    def fit(self) -> TrainResult:
        """Train from the current epoch to ``TRAIN.END_EPOCH``; validate, save and log after each epoch (through the
        callbacks, which also see the start and the end of the run, however it ends)."""
        for callback in self.callbacks:
            callback.on_train_start(self)
        error: BaseException | None = None
        try:
            self._epochs()
        except BaseException as exc:
            error = exc
            raise
        finally:
            for callback in self.callbacks:
                callback.on_train_end(self, error)
        return TrainResult(self.run_dir, self.epoch, self.best_ap, self.history)

    def _epochs(self) -> None:
        end = int(self.cfg.TRAIN.END_EPOCH)
        while self.epoch < end:
            epoch = self.epoch
            started = time.perf_counter()
            loss, acc = self.train_epoch(epoch)
            self.epoch = epoch + 1
            row: dict[str, Any] = {
                "epoch": self.epoch,
                "lr": learning_rate(self.cfg, epoch),
                "loss": loss,
                "accuracy": acc,
                "AP": None,
                "AP_det": None,
            }
            interval = int(self.cfg.TRAIN.VAL_INTERVAL)
            if self.validator is not None and interval > 0 and (self.epoch % interval == 0 or self.epoch == end):
                row.update(self.validate())
            row["seconds"] = round(time.perf_counter() - started, 3)
            self.history.append(row)
            self.save_epoch(row)

    def train_epoch(self, epoch: int) -> tuple[float, float]:
        """One pass over the training set; returns the sample-weighted mean loss and accuracy over all processes."""
        set_epoch = getattr(self.train_set, "set_epoch", None)
        if callable(set_epoch):
            set_epoch(epoch, dpg_active(self.cfg, epoch))
        self.sampler.set_epoch(epoch)
        self.net.train()
        steps = len(self.loader)
        sums = [0.0, 0.0, 0.0]  # loss * n, accuracy * n, n
        bar = progress(
            self.loader, desc=f"epoch {epoch + 1}/{self.cfg.TRAIN.END_EPOCH}", unit="batch", disable=not self.progress
        )
        for step, batch in enumerate(bar):
            lr = learning_rate(self.cfg, epoch, step / steps)
            loss, acc, n = self.train_step(batch, lr, epoch, step)
            sums[0] += loss * n
            sums[1] += acc * n
            sums[2] += n
            if self.progress:
                bar.set_postfix(
                    loss=f"{sums[0] / sums[2]:.3g}", acc=f"{sums[1] / sums[2]:.3f}", lr=f"{lr:.2g}", refresh=False
                )
            for callback in self.callbacks:
                callback.on_step_end(self, sums[0] / sums[2], sums[1] / sums[2])
        bar.close()
        total = all_sum(self.ctx, sums)
        count = max(total[2], 1.0)
        return total[0] / count, total[1] / count

    def train_step(self, batch: dict[str, Any], lr: float, epoch: int, step: int) -> tuple[float, float, int]:
        """Forward, loss, backward, (clip), step, EMA; returns (loss, accuracy, batch size) of this process. A
        non-finite loss (before the step) or non-finite weights (after it) stop the run on every process."""
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        device = self.ctx.device
        images = batch["image"].to(device, non_blocking=True)
        target = _to_device(batch["target"], device)
        weight = _to_device(batch["target_weight"], device)
        with torch.autocast(device.type, dtype=torch.float16, enabled=self.amp):
            output = self.net(images)
        output = output.float()
        loss = self.criterion.loss(output, target, weight)
        value = float(loss.detach())
        if not all_true(self.ctx, math.isfinite(value)):
            self._stop_on_bad_loss(value, epoch, step)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        clip = float(self.cfg.TRAIN.GRAD_CLIP)
        if clip > 0:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.model.parameters(), clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.ema is not None:
            self.ema.update(self.model)
        self.global_step += 1
        if not all_true(self.ctx, _all_finite(self._weights().values())):
            self._stop_on_bad_weights(epoch, step)
        acc = self.criterion.accuracy(output.detach(), target, weight)
        return value, acc, int(images.shape[0])

    def _weights(self) -> dict[str, torch.Tensor]:
        """Every tensor a checkpoint saves from the networks: the model's, and the EMA's (``ema.`` names)."""
        weights = dict(self.model.state_dict())
        if self.ema is not None:
            weights.update({f"ema.{k}": v for k, v in self.ema.module.state_dict().items()})
        return weights

    def _kept(self) -> str:
        last = self.run_dir / LAST_NAME
        kept = f"the last good checkpoint is {last}" if last.is_file() else "no checkpoint had been saved yet"
        return f"training stopped, {kept} (lower TRAIN.LR or set TRAIN.GRAD_CLIP)"

    def _stop_on_bad_loss(self, value: float, epoch: int, step: int) -> None:
        shown = "not finite on another process" if math.isfinite(value) else str(value)
        raise AkitError(
            f"loss is {shown} at epoch {epoch + 1}, step {step + 1} (global step {self.global_step + 1}); "
            f"{self._kept()}"
        )

    def _stop_on_bad_weights(self, epoch: int, step: int) -> None:
        weights = self._weights()
        bad = [name for name, value in weights.items() if not _all_finite([value])]
        where = f"{len(bad)} of {len(weights)} tensors hold NaN or inf (first: {bad[0]})" if bad else "on another rank"
        raise AkitError(
            f"weights are not finite after epoch {epoch + 1}, step {step + 1} (global step {self.global_step}): "
            f"{where}; {self._kept()}"
        )

    def validate(self) -> dict[str, float]:
        """Validation AP of the eval model on every process (the next epoch puts the network back in train mode)."""
        if self.validator is None:
            return {}
        model = self.eval_model()
        model.eval()
        with torch.no_grad():
            return self.validator(model, self.epoch)

    def save_epoch(self, row: dict[str, Any]) -> None:
        """The callbacks' end of an epoch (rank 0: last.pth, best.pth, metrics, curves, log line), then every process
        waits for them."""
        for callback in self.callbacks:
            callback.on_epoch_end(self, row)
        barrier(self.ctx)


def _run_dir(options: TrainOptions, ctx: DistContext, resumed: Path | None) -> Path:
    """The run folder: the resumed checkpoint's, ``--outdir``, or the next free ``runs/train/expN`` (rank 0 picks;
    created only once everything has loaded, so a failed start leaves no empty run)."""
    if resumed is not None:
        return resumed.parent
    chosen: Path | None = None
    if ctx.is_main:
        if options.outdir is not None:
            chosen = Path(options.outdir)
            if (chosen / LAST_NAME).exists():
                raise AkitError(
                    f"{chosen} already holds a training run ({LAST_NAME}); pass --resume {chosen} to continue it"
                )
        else:
            chosen = next_run_dir("train")

    return Path(str(broadcast_object(ctx, str(chosen))))


def build_train_set(cfg: CfgNode) -> Dataset:
    """``CocoKeypoints(train=True)`` over ``DATASET.TRAIN``, one file or a mixed set's several (checks the files
    and their images up front)."""
    from alphapose_kit.data.coco import training_keypoints

    return training_keypoints(split_sources(cfg, "TRAIN"), cfg)


def train(options: TrainOptions | None = None, validator: Validator | None = None, **kwargs: Any) -> TrainResult:
    """Run ``akit train``: resolve the config, set up (DDP) training, fit, and return where the run is.

    ``validator`` replaces the default validation (``alphapose_kit.evaluate`` with GT boxes on ``DATASET.VAL``).
    Keyword arguments build the :class:`TrainOptions` when ``options`` is None. SIGTERM during training is taken
    like Ctrl-C: ``last.pth`` of the last finished epoch is kept and KeyboardInterrupt raised.
    """
    options = options or TrainOptions(**kwargs)
    if options.resume is not None and options.init_from is not None:
        raise AkitError(
            "--resume and --init-from do not go together: --resume continues a run with its own weights; "
            "--init-from starts a new run from given weights"
        )
    ctx = init_distributed(options.device)
    try:
        payload, origin = None, None
        if options.resume is not None:
            origin = Path(options.resume)
            origin = origin / LAST_NAME if origin.is_dir() else origin
            payload = load_checkpoint(origin)
            cfg = resumed_config(options, payload, origin)
        else:
            cfg = resolve_config(options)
        train_set = build_train_set(cfg)
        run_dir = _run_dir(options, ctx, origin)
        if validator is None and int(cfg.TRAIN.VAL_INTERVAL) > 0:
            ann, images = split_paths(cfg, "VAL")
            if not Path(ann).is_file():
                raise AkitError(
                    f"validation annotations not found: {ann} (DATASET.VAL of the config); pass --val-ann FILE "
                    "--val-images DIR, or --opts TRAIN.VAL_INTERVAL 0 to train without validation"
                )
            validator = coco_validator(cfg, ann, images, run_dir / run_files.CONFIG_NAME, run_dir / "val", ctx.device)
        trainer = Trainer(cfg, run_dir, train_set, ctx, validator, options.init_from, not options.quiet)
        if payload is not None and origin is not None:
            trainer.restore(payload, origin)
            LOG.info("resuming %s after epoch %d, up to epoch %d", origin, trainer.epoch, cfg.TRAIN.END_EPOCH)
        if ctx.is_main:
            ensure_writable_dir(run_dir)
            run_files.write_config(run_dir, cfg)
            run_files.write_manifest(
                run_dir,
                {
                    "seed": int(cfg.TRAIN.SEED),
                    "end_epoch": int(cfg.TRAIN.END_EPOCH),
                    "world_size": ctx.world_size,
                    "device": str(ctx.device),
                    "model": model_name(cfg),
                    "init_from": str(options.init_from) if options.init_from else None,
                    "init_report": trainer.init_report.summary() if trainer.init_report else None,
                    "resumed_from": str(origin) if origin else None,
                },
                {
                    **{f"train{i or ''}": ann for i, (ann, _) in enumerate(split_sources(cfg, "TRAIN"))},
                    "val": split_paths(cfg, "VAL")[0],
                },
            )
            LOG.info(
                "training %s in %s (%d samples, %d process(es))",
                model_name(cfg),
                run_dir,
                len(train_set),  # type: ignore[arg-type]
                ctx.world_size,
            )
        with terminate_as_interrupt():
            return trainer.fit()
    finally:
        shutdown(ctx)
