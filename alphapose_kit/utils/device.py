"""Device selection: ``auto`` (CUDA when present, else CPU), ``cpu``, ``cuda`` or ``cuda:N``."""

from __future__ import annotations

import torch

from alphapose_kit.errors import AkitError


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn a user's device string into a torch.device, failing in one line when CUDA is asked for but absent."""
    if isinstance(device, torch.device):
        device = str(device)
    spec = device.strip().lower()
    if spec == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if spec.isdigit():
        spec = f"cuda:{spec}"
    if spec == "cuda":
        spec = "cuda:0"
    index = spec.removeprefix("cuda:")
    if not spec.startswith("cuda:") or not index.isdigit():
        raise AkitError(f"bad device {device!r}; use auto, cpu, cuda or cuda:N")
    if not torch.cuda.is_available():
        raise AkitError(f"device {device!r} requested but CUDA is not available here; use --device cpu")
    if int(index) >= torch.cuda.device_count():
        raise AkitError(f"device {device!r} requested but only {torch.cuda.device_count()} CUDA device(s) exist")
    return torch.device(spec)


def as_device(device: torch.device | str) -> torch.device:
    """A torch.device as the caller resolved it (passed on untouched), or a library caller's string resolved now."""
    return device if isinstance(device, torch.device) else resolve_device(device)
