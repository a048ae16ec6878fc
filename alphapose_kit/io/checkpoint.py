"""Safe checkpoint reading and strict loading with one-line, actionable mismatch messages.

Files are read with ``torch.load(weights_only=True)``: a checkpoint can hold tensors and plain containers only,
never code. Accepted layouts: a plain state_dict, ``{"state_dict": ...}``, ``{"model": ...}``, with or without
a DataParallel/DDP ``module.`` prefix.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from alphapose_kit.errors import CheckpointError

_WRAPPER_KEYS = ("state_dict", "model", "model_state_dict", "net")
_MAX_LISTED = 3


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a checkpoint file into a flat name -> tensor dict; raise CheckpointError for anything else."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path} is a directory, not a file")
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    with path.open("rb") as handle:
        magic = handle.read(4)
    if not magic.startswith((b"PK\x03\x04", b"\x80")):  # torch.save's zip archive, or a legacy pickle
        raise CheckpointError(f"{path}: not a PyTorch checkpoint (neither a torch.save archive nor a pickle)")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        detail = str(exc).strip().splitlines()
        if any("Weights only load failed" in line for line in detail):
            found = next((m for line in detail for m in re.findall(r"GLOBAL ([\w.]+)", line)), "Python objects")
            raise CheckpointError(
                f"{path}: refused to load {found}: akit reads tensor-only checkpoints (re-save it as a state_dict)"
            ) from None
        raise CheckpointError(
            f"{path}: not a PyTorch checkpoint ({detail[0] if detail else 'unpickling failed'})"
        ) from None
    except Exception as exc:  # torch raises many types for a torn or foreign file; all mean "not readable"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: not a readable PyTorch checkpoint, truncated or corrupt ({reason})") from None
    return unwrap_state_dict(obj, path)


def unwrap_state_dict(obj: object, origin: str | Path = "checkpoint") -> dict[str, torch.Tensor]:
    """Find the state_dict inside a checkpoint object and strip a DDP ``module.`` prefix."""
    for _ in range(3):
        if isinstance(obj, Mapping) and as_state_dict(obj) is None:
            inner = next((obj[k] for k in _WRAPPER_KEYS if k in obj and isinstance(obj[k], Mapping)), None)
            if inner is None:
                break
            obj = inner
    state = as_state_dict(obj)
    if state is None:
        raise CheckpointError(f"{origin}: no state_dict found (expected a dict of tensors, or one under 'state_dict')")
    return state


def as_state_dict(obj: object) -> dict[str, torch.Tensor] | None:
    """``obj`` as a name -> tensor dict without a DDP ``module.`` prefix, or None if it is not a dict of tensors."""
    if not isinstance(obj, Mapping) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        return None
    state = {str(k): v for k, v in obj.items()}
    if all(k.startswith("module.") for k in state):
        state = {k[len("module.") :]: v for k, v in state.items()}
    return state


def describe_state_dict(state: Mapping[str, torch.Tensor]) -> str:
    """A short guess of which AlphaPose network a state_dict belongs to, for error messages."""
    keys = state.keys()
    if any(k.startswith("stage4.") for k in keys):
        kind = "HRNet"
    elif any(k.startswith("duc3.") for k in keys):
        kind = "FastPose_DUC"
    elif any(k.startswith("deconv_layers.") for k in keys):
        kind = "SimplePose"
    elif any(k.startswith("suffle1") or k.startswith("duc1.conv") for k in keys):
        kind = "FastPose"
    elif any(k.startswith("model.24.") for k in keys):
        kind = "YOLOv5"
    else:
        kind = "unknown network"
    blocks = {int(m.group(1)) for k in keys if (m := re.match(r"preact\.layer3\.(\d+)\.", k))}
    depth = {6: 50, 23: 101, 36: 152}.get(len(blocks))
    extras = []
    if depth:
        extras.append(f"ResNet-{depth}")
    if any(".conv2_offset." in k for k in keys):
        extras.append("DCN")
    head = _head_tensor(state)
    if head is not None and kind != "YOLOv5":
        extras.append(f"{head.shape[0]} joints")
    return kind + (f" ({', '.join(extras)})" if extras else "")


def _head_tensor(state: Mapping[str, torch.Tensor]) -> torch.Tensor | None:
    for name in ("conv_out.weight", "final_layer.weight"):
        if name in state:
            return state[name]
    return None


def load_into(model: nn.Module, state: Mapping[str, torch.Tensor], expected: str, origin: str | Path) -> None:
    """Strictly load ``state`` into ``model``; on any mismatch raise one line naming the expected model."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    mismatched = [k for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
    if missing or unexpected or mismatched:
        raise CheckpointError(_mismatch_message(own, state, missing, unexpected, mismatched, expected, origin))
    with torch.no_grad():
        model.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()}, strict=True)


def _mismatch_message(own, state, missing, unexpected, mismatched, expected, origin) -> str:
    head = _head_tensor(own)
    ckpt_head = _head_tensor(state)
    if not missing and not unexpected and head is not None and ckpt_head is not None:
        head_keys = {k for k in mismatched if k.split(".")[0] in ("conv_out", "final_layer")}
        if head_keys == set(mismatched) and head.shape[0] != ckpt_head.shape[0]:
            return (
                f"{origin}: checkpoint predicts {ckpt_head.shape[0]} joints but the config's model has "
                f"{head.shape[0]} (DATA_PRESET.NUM_JOINTS); use the config that matches this checkpoint"
            )
    parts = []
    if mismatched:
        k = mismatched[0]
        parts.append(
            f"{len(mismatched)} shape mismatches (first {k}: checkpoint {tuple(state[k].shape)}, "
            f"model {tuple(own[k].shape)})"
        )
    if missing:
        parts.append(f"{len(missing)} missing keys (first: {', '.join(missing[:_MAX_LISTED])})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected keys (first: {', '.join(unexpected[:_MAX_LISTED])})")
    return f"{origin}: checkpoint does not fit {expected}; it looks like {describe_state_dict(state)}: " + "; ".join(
        parts
    )
