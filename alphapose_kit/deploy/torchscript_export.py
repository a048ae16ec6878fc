"""Write a network as a traced TorchScript archive with akit's metadata as the extra file ``akit.json``.

Tracing records the batch dimension symbolically for akit's networks (no Python control flow depends on shapes), so
one archive serves any batch size; the export is checked on batches other than the traced one.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from alphapose_kit.deploy.metadata import EXTRA_FILE, to_json
from alphapose_kit.deploy.onnx_export import import_deform_ops
from alphapose_kit.errors import AkitError


def export_torchscript(model: nn.Module, example: torch.Tensor, path: str | Path, metadata: dict[str, Any]) -> None:
    """Trace ``model`` (eval mode) on ``example`` and save it to ``path`` with ``metadata`` embedded."""
    import_deform_ops(model)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # torch.jit's deprecation notice and tracer warnings
            traced = torch.jit.trace(model, (example,), check_trace=False)
            torch.jit.save(traced, str(path), _extra_files={EXTRA_FILE: to_json(metadata)})
    except RuntimeError as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise AkitError(f"TorchScript export failed: {first}") from None
