"""Training checkpoints: tensor-only files written atomically, read with ``weights_only=True``, and the partial
weight loading behind ``--init-from`` with its report.

A checkpoint is a dict of tensors, numbers, strings, lists and dicts (never pickled objects):
``state_dict`` (the weights to use: the EMA when it is on), ``config`` (the resolved YAML text), ``epoch`` (epochs
done), ``global_step``, ``best_ap``, ``metrics`` (the last epoch's row) and, in ``last.pth`` only, ``train`` (raw
weights, optimiser, grad scaler, EMA count and RNG states) for an exact ``--resume``. ``load_pose_model(config,
best.pth)`` and ``akit infer --checkpoint`` read the ``state_dict`` entry directly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from alphapose_kit.errors import AkitError, CheckpointError
from alphapose_kit.io.atomic import atomic_path
from alphapose_kit.io.checkpoint import read_state_dict
from alphapose_kit.utils.logging import get_logger

FORMAT = "akit-train/1"
_LOG = get_logger("train")


def save_checkpoint(path: str | Path, payload: Mapping[str, Any]) -> None:
    """``torch.save`` to a temporary file beside ``path``, fsync, then rename: a crash or a full disk leaves the
    previous file untouched and no partial file behind (one-line AkitError)."""
    path = Path(path)
    try:
        with atomic_path(path) as tmp, tmp.open("wb") as handle:
            torch.save(dict(payload), handle)
            handle.flush()
            os.fsync(handle.fileno())
    except (AkitError, RuntimeError) as exc:  # torch reports a failed write as RuntimeError
        reason = str(exc).splitlines()[0]
        kept = f"; the previous {path.name} is kept" if path.exists() else ""
        raise AkitError(f"could not save checkpoint {path} ({reason}){kept}") from None


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read an akit training checkpoint (``weights_only=True``); CheckpointError (one line) for anything else."""
    path = Path(path)
    if path.is_dir():
        path = path / "last.pth"
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torn file, foreign pickle, not a zip: all "unreadable" to the user
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: not a readable akit training checkpoint ({first})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an akit training checkpoint (no '{FORMAT}' format tag)")
    return payload


@dataclass
class InitReport:
    """What ``--init-from`` did: names loaded, model weights left new, names whose shapes did not fit, unused."""

    source: str
    prefix: str = ""
    loaded: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line per category with counts and the first names."""

        def first(names: list[str]) -> str:
            return (": " + ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")) if names else ""

        mapped = f" (file keys mapped under '{self.prefix}')" if self.prefix else ""
        return (
            f"init from {self.source}{mapped}: {len(self.loaded)} tensors loaded; "
            f"{len(self.new)} new{first(self.new)}; {len(self.mismatched)} shape mismatches{first(self.mismatched)}; "
            f"{len(self.unused)} unused{first(self.unused)}"
        )


def init_from(model: nn.Module, source: str | Path) -> InitReport:
    """Load every name- and shape-matching tensor of a checkpoint into ``model`` and report the rest.

    Takes an official AlphaPose checkpoint, an akit one, or an ImageNet backbone file (torchvision's ResNet weights:
    their keys are matched under the pose networks' ``preact.`` trunk). The key prefix that matches most tensors
    wins. Raises CheckpointError when nothing fits at all.
    """
    state = read_state_dict(source)
    own = model.state_dict()
    best: InitReport | None = None
    for prefix in ("", "preact."):
        report = InitReport(str(source), prefix)
        for key, value in state.items():
            name = prefix + key
            if name not in own:
                report.unused.append(key)
            elif tuple(own[name].shape) != tuple(value.shape):
                report.mismatched.append(name)
            else:
                report.loaded.append(name)
        if best is None or len(report.loaded) > len(best.loaded):
            best = report
    assert best is not None
    if not best.loaded:
        raise CheckpointError(f"{source}: no tensor fits the model (names or shapes all differ); nothing loaded")
    taken = set(best.loaded)
    best.new = [k for k in own if k not in taken]
    with torch.no_grad():
        for name in best.loaded:
            own[name].copy_(state[name[len(best.prefix) :]].to(own[name].dtype))
    _LOG.info(best.summary())
    return best
