"""The trainer's side jobs as callbacks: checkpoints, ``metrics.csv`` and ``curves.png``, TensorBoard, the epoch
log line. The trainer calls four hooks (the shape of Lightning's ``Callback`` and Ultralytics' trainer callbacks);
a callback overrides the ones it needs. Callbacks run on rank 0 only; what every process must do stays in the
trainer.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from yacs.config import CfgNode

from alphapose_kit.engine import run_files
from alphapose_kit.engine.checkpoints import save_checkpoint
from alphapose_kit.errors import AkitError
from alphapose_kit.utils.logging import get_logger

if TYPE_CHECKING:
    from alphapose_kit.engine.trainer import Trainer

LOG = get_logger("train")
LAST_NAME, BEST_NAME = "last.pth", "best.pth"


class Callback:
    """Hooks of a training run; each default does nothing."""

    def on_train_start(self, trainer: Trainer) -> None:
        """Before the first epoch of :meth:`Trainer.fit` (after a ``--resume`` restore)."""

    def on_step_end(self, trainer: Trainer, loss: float, accuracy: float) -> None:
        """After each optimiser step: the epoch's running mean loss and accuracy on this process."""

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        """After each epoch (and its validation): ``row`` is the epoch's metrics, already in ``trainer.history``."""

    def on_train_end(self, trainer: Trainer, error: BaseException | None) -> None:
        """When :meth:`Trainer.fit` ends, normally (``error`` None) or by an exception (Ctrl-C, a NaN stop...)."""


class CheckpointSaver(Callback):
    """``last.pth`` every epoch and ``best.pth`` when the GT-box AP improves (keeps ``trainer.best_ap``); on an
    interrupt, says which epoch the kept ``last.pth`` holds."""

    def __init__(self) -> None:
        self.kept: int | None = None

    def on_train_start(self, trainer: Trainer) -> None:
        self.kept = trainer.epoch if (trainer.run_dir / LAST_NAME).is_file() else None

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        ap = row.get("AP")
        improved = ap is not None and (trainer.best_ap is None or ap > trainer.best_ap)
        if ap is not None and improved:
            trainer.best_ap = float(ap)
        save_checkpoint(trainer.run_dir / LAST_NAME, trainer.checkpoint(full=True))
        self.kept = trainer.epoch
        if improved:
            save_checkpoint(trainer.run_dir / BEST_NAME, trainer.checkpoint(full=False))

    def on_train_end(self, trainer: Trainer, error: BaseException | None) -> None:
        if not isinstance(error, KeyboardInterrupt):
            return
        if self.kept is None:
            LOG.warning("interrupted before the first epoch ended; no %s was written", LAST_NAME)
        else:
            LOG.warning(
                "interrupted, %s kept at epoch %d; continue with: akit train --resume %s",
                LAST_NAME,
                self.kept,
                trainer.run_dir,
            )


class MetricsWriter(Callback):
    """``metrics.csv`` and ``curves.png`` with every epoch so far."""

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        run_files.write_metrics(trainer.run_dir, trainer.history)
        run_files.plot_curves(trainer.run_dir, trainer.history)


class TensorBoardLogger(Callback):
    """``tensorboard/``: the running loss and accuracy per step, and each epoch's metrics."""

    EPOCH_KEYS = ("lr", "loss", "accuracy", "AP", "AP_det")

    def __init__(self) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise AkitError("TRAIN.TENSORBOARD needs the tensorboard package: pip install tensorboard") from None
        self._writer_class = SummaryWriter
        self.writer: Any = None

    def on_train_start(self, trainer: Trainer) -> None:
        self.writer = self._writer_class(str(Path(trainer.run_dir) / "tensorboard"))

    def on_step_end(self, trainer: Trainer, loss: float, accuracy: float) -> None:
        self.writer.add_scalar("train/loss", loss, trainer.global_step)
        self.writer.add_scalar("train/accuracy", accuracy, trainer.global_step)

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        for key in self.EPOCH_KEYS:
            if row.get(key) is not None:
                self.writer.add_scalar(f"epoch/{key}", row[key], row["epoch"])

    def on_train_end(self, trainer: Trainer, error: BaseException | None) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class EpochLog(Callback):
    """One log line per epoch: rate, loss, accuracy, the APs when validated, seconds."""

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        aps = "".join(f" | {k} {row[k]:.4f}" for k in ("AP", "AP_det") if row.get(k) is not None)
        LOG.info(
            "epoch %d/%d | lr %.3g | loss %.6g | acc %.4f%s | %.1f s",
            row["epoch"],
            trainer.cfg.TRAIN.END_EPOCH,
            row["lr"],
            row["loss"],
            row["accuracy"],
            aps,
            row["seconds"],
        )


def default_callbacks(cfg: CfgNode) -> list[Callback]:
    """What ``akit train`` writes and logs: checkpoints, metrics and curves, TensorBoard when
    ``TRAIN.TENSORBOARD``, the epoch line."""
    callbacks: list[Callback] = [CheckpointSaver(), MetricsWriter()]
    if cfg.TRAIN.TENSORBOARD:
        callbacks.append(TensorBoardLogger())
    callbacks.append(EpochLog())
    return callbacks
